-- Keyset pages of the staff lists (platform/page.rs). The audit log is read newest first by
-- (at, id), from a cursor: this index serves that order and replaces the one on the time alone
-- (every query on `at` is served by its prefix). The queue of a service point is read by
-- submission time and id.
DROP INDEX audit_log_at;
CREATE INDEX audit_log_page ON audit_log (at, id);
CREATE INDEX applications_queue ON applications (service_point_id, COALESCE(submitted_at, created_at), id);
