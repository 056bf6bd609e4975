-- The endorsement-reminder job (credentials::store::take_endorsement_reminders): active permits
-- whose validity ends by a day, oldest first. Without it every run reads the whole table.
CREATE INDEX permits_endorsement_due ON permits (valid_until) WHERE status = 'active';
-- The current appointment of an application (booking::store::current_appointment): the latest
-- one that still holds a place or was attended.
CREATE INDEX appointments_current ON appointments (application_id, created_at DESC)
    WHERE status IN ('booked', 'checked_in', 'no_show');
