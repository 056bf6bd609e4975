-- A clerk or administrator signs in with a password and a passkey (issue 13). The first passkey
-- is enrolled with a one-time code that `permitd staff add` prints; only its hash is kept, and
-- it is spent by the enrolment it allows.
CREATE TABLE staff_enrolments (
    account_id BLOB PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
