-- Issuing takes the next status-list index from one counter row, locked by the UPDATE until the
-- issuing transaction ends, instead of MAX(status_index) + 1: concurrent issuers, on any number
-- of instances, wait for each other briefly instead of colliding on the unique index and
-- running out of retries (issue 16: 23 of 40 concurrent issues failed).
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    next BIGINT NOT NULL
);
INSERT INTO counters (name, next) SELECT 'status_index', COALESCE(MAX(status_index), -1) + 1 FROM permits;
