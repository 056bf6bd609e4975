-- When each issuer key starts signing. `permitd keys rotate` records a new key at least one
-- trust-list time to live ahead; the trust list publishes it at once, and every instance
-- switches to it at that moment, whatever its start time (issue 16). A key file without a row
-- here (a key set from before, or the development set) activates at the time in its file name.
CREATE TABLE issuer_key_schedule (
    kid TEXT PRIMARY KEY NOT NULL,
    activates_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- The signed trust and status lists, one row per version: one instance signs a version, every
-- instance serves the same bytes (and so the same ETag) until the content changes or half the
-- time to live has passed. The primary key lets only one instance publish a given version.
CREATE TABLE signed_lists (
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    ttl_seconds BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (kind, version)
);
