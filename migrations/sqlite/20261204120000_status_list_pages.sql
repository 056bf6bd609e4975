-- The status list at scale (issue 16): the bit array is kept in the database as permits change,
-- instead of being rebuilt from every permit on each request. `status_list` is one row: the
-- list's capacity in bits (indexes are drawn at random below it; it doubles when the list is
-- half full), how many indexes were given, and a version that every change of a bit or of the
-- capacity moves on, in the same transaction. `status_list_pages` holds the bits, 1024 bytes
-- (8192 indexes) a page, bit i % 8 of byte i / 8 (least significant first, as the signed list);
-- a page never written is all clear.
CREATE TABLE status_list (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    capacity BIGINT NOT NULL CHECK (capacity > 0 AND capacity % 8 = 0),
    assigned BIGINT NOT NULL CHECK (assigned >= 0),
    version BIGINT NOT NULL
);
CREATE TABLE status_list_pages (
    page BIGINT PRIMARY KEY CHECK (page >= 0),
    bits BLOB NOT NULL CHECK (length(bits) = 1024)
);

-- 2^24 indexes to start with (2 MiB of bits), or enough for the indexes given in order so far.
INSERT INTO status_list (id, capacity, assigned, version)
SELECT 1, MAX(16777216, COALESCE((MAX(status_index) / 8192 + 1) * 8192, 0)), COUNT(*), 1 FROM permits;

-- The bits of the permits revoked so far: each page's 1024 bytes as hex, then as a blob.
WITH RECURSIVE offsets(byte) AS (
    SELECT 0 UNION ALL SELECT byte + 1 FROM offsets WHERE byte < 1023
),
revoked AS (
    SELECT status_index / 8192 AS page, (status_index % 8192) / 8 AS byte,
           SUM(1 << (status_index % 8)) AS value
    FROM permits WHERE status = 'revoked' GROUP BY 1, 2
),
pages AS (SELECT DISTINCT page FROM revoked)
INSERT INTO status_list_pages (page, bits)
SELECT p.page, unhex(group_concat(printf('%02X', COALESCE(r.value, 0)), '' ORDER BY o.byte))
FROM pages p CROSS JOIN offsets o LEFT JOIN revoked r ON r.page = p.page AND r.byte = o.byte
GROUP BY p.page;

-- Indexes are no longer given in order.
DELETE FROM counters WHERE name = 'status_index';

-- What remains of status lookups on permits: the endorsement reminders' active permits by due date.
CREATE INDEX permits_active_due ON permits (valid_until) WHERE status = 'active';
