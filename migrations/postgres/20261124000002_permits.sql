-- Electronic permits (DESIGN §4.4, §5), the keys that signed them, and the staff audit log.

CREATE TABLE permits (
    id UUID PRIMARY KEY,
    number TEXT NOT NULL,
    application_id UUID REFERENCES applications (id),
    -- The account the permit shows under; a unit's permit waits here until its person claims it.
    account_id UUID NOT NULL REFERENCES accounts (id),
    holder_name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date DATE NOT NULL,
    district TEXT NOT NULL,
    authority TEXT NOT NULL,
    service_point_id UUID NOT NULL REFERENCES service_points (id),
    first_issued DATE NOT NULL,
    last_endorsed DATE,
    -- The next endorsement due date: the credential's exp; after it the permit is suspended.
    valid_until DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    revoked_reason TEXT,
    revoked_at TIMESTAMPTZ,
    status_index BIGINT NOT NULL,
    device_key TEXT,
    -- Set once the holder passed a step-up and the permit joined their wallet.
    claimed_at TIMESTAMPTZ,
    reminded_for DATE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
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
    kid TEXT PRIMARY KEY,
    last_exp TIMESTAMPTZ NOT NULL
);

-- Append-only: every staff action and every staff read of a person's file or ID number.
CREATE TABLE audit_log (
    id UUID PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    staff_id UUID NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_staff ON audit_log (staff_id, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
