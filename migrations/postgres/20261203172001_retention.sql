-- Retention (issue 14): when an application ended, and which SMS bodies were already erased,
-- so the retention job selects by dates and statuses only, never by a personal column.
ALTER TABLE applications ADD COLUMN ended_at TIMESTAMPTZ;
-- Nothing changes an application once it is issued, cancelled or a no-show, so its last
-- update is when it ended.
UPDATE applications SET ended_at = updated_at WHERE status IN ('issued', 'cancelled', 'no_show');
CREATE INDEX applications_ended ON applications (ended_at) WHERE ended_at IS NOT NULL;

ALTER TABLE notifications ADD COLUMN sms_erased_at TIMESTAMPTZ;
CREATE INDEX notifications_created ON notifications (created_at);
