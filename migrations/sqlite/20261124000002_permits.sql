-- Electronic permits (DESIGN §4.4, §5), the keys that signed them, and the staff audit log.

CREATE TABLE permits (
    id BLOB PRIMARY KEY NOT NULL,
    number TEXT NOT NULL,
    application_id BLOB REFERENCES applications (id),
    -- The account the permit shows under; a unit's permit waits here until its person claims it.
    account_id BLOB NOT NULL REFERENCES accounts (id),
    holder_name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date TEXT NOT NULL,
    district TEXT NOT NULL,
    authority TEXT NOT NULL,
    service_point_id BLOB NOT NULL REFERENCES service_points (id),
    first_issued TEXT NOT NULL,
    last_endorsed TEXT,
    -- The next endorsement due date: the credential's exp; after it the permit is suspended.
    valid_until TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    revoked_reason TEXT,
    revoked_at TEXT,
    status_index BIGINT NOT NULL,
    device_key TEXT,
    -- Set once the holder passed a step-up and the permit joined their wallet.
    claimed_at TEXT,
    reminded_for TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX permits_number ON permits (number);
CREATE UNIQUE INDEX permits_status_index ON permits (status_index);
-- One permit per application: issuing twice is refused by the database.
CREATE UNIQUE INDEX permits_application ON permits (application_id);
CREATE INDEX permits_account ON permits (account_id);
CREATE INDEX permits_id_number ON permits (id_number);

-- The latest expiry among the credentials each issuer key signed: a retired key stays in the
-- trust list until then.
CREATE TABLE key_usage (
    kid TEXT PRIMARY KEY NOT NULL,
    last_exp TEXT NOT NULL
);

-- Append-only: every staff action and every staff read of a person's file or ID number.
CREATE TABLE audit_log (
    id BLOB PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    staff_id BLOB NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_staff ON audit_log (staff_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
