-- The holder's rights and consent (issue 14): the privacy notice version each account agreed to,
-- every online verification of a permit (for the holder's access log), proof files still to be
-- erased from object storage after an account was closed, and the closed account's tombstone.
CREATE TABLE privacy_consents (
    account_id UUID NOT NULL REFERENCES accounts (id),
    version TEXT NOT NULL,
    agreed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, version)
);

CREATE TABLE permit_verifications (
    id UUID PRIMARY KEY,
    permit_id UUID NOT NULL REFERENCES permits (id),
    at TIMESTAMPTZ NOT NULL,
    -- What the verifier declared (at most 64 characters); NULL when they said nothing.
    verifier_name TEXT
);
CREATE INDEX permit_verifications_permit ON permit_verifications (permit_id, at);

-- A closed account's files: listed in the closing transaction, removed from the list once the
-- object store has deleted them, so a failed delete is retried by the jobs.
CREATE TABLE file_erasures (
    object_key TEXT PRIMARY KEY,
    queued_at TIMESTAMPTZ NOT NULL
);

-- Set when the holder closed the account: the row stays as a tombstone (an issued permit names
-- it), with no personal data, no usable password and a username no person can register.
ALTER TABLE accounts ADD COLUMN closed_at TIMESTAMPTZ;

-- The holder's access log looks the audit log up by the object read.
CREATE INDEX audit_log_object ON audit_log (object_id, at);
