-- Real SMS delivery (issue 15): a provider sends a registered template filled with parameters,
-- so the outbox keeps them beside the rendered text; it records the provider's message id,
-- and for a message given up, the provider's error and when, for the administrators' list.
ALTER TABLE notifications ADD COLUMN sms_params TEXT;
ALTER TABLE notifications ADD COLUMN sms_message_id TEXT;
ALTER TABLE notifications ADD COLUMN sms_error_code TEXT;
ALTER TABLE notifications ADD COLUMN sms_error_detail TEXT;
ALTER TABLE notifications ADD COLUMN sms_failed_at TEXT;
CREATE INDEX notifications_sms_failed ON notifications (sms_failed_at) WHERE sms_state = 'failed';
