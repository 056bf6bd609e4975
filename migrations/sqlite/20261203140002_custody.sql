-- A walk-in's application and permit are held by its service point (custody) until the person
-- claims the permit into their own real-name verified account, never by the clerk who filed it
-- (issue 13, staff). One custody account per point: role `unit` (it holds applications for
-- others), no usable password hash, a username no person can register (a colon), and refused by
-- every sign-in look-up (identity/store.rs `account_by_username`).
ALTER TABLE accounts ADD COLUMN custody_point_id BLOB REFERENCES service_points (id);
CREATE UNIQUE INDEX accounts_custody_point ON accounts (custody_point_id);

-- Walk-ins filed before this change sit under the filing clerk's own account. Staff cannot
-- apply online (only residents and units can), so every application under a staff account is a
-- walk-in: each point that has one gets its custody account, and the applications, their
-- permits still in the staff wallet (unclaimed again, any device key dropped: it was the
-- clerk's device) and their notices move to it.
INSERT INTO accounts (id, username, password_hash, role, real_name, login_sms_required, custody_point_id, created_at, updated_at)
SELECT randomblob(16), 'custody:' || lower(hex(sp.id)), '!custody', 'unit', sp.name || '（代管）', 0, sp.id,
       MIN(a.created_at), MIN(a.created_at)
FROM service_points sp
JOIN applications a ON a.service_point_id = sp.id
JOIN accounts s ON s.id = a.account_id
WHERE s.role IN ('clerk', 'admin')
  AND NOT EXISTS (SELECT 1 FROM accounts c WHERE c.custody_point_id = sp.id)
GROUP BY sp.id, sp.name;

UPDATE permits
SET account_id = (SELECT c.id FROM accounts c JOIN applications a ON c.custody_point_id = a.service_point_id
                  WHERE a.id = permits.application_id),
    claimed_at = NULL,
    device_key = NULL
WHERE account_id IN (SELECT id FROM accounts WHERE role IN ('clerk', 'admin'))
  AND application_id IN (SELECT a.id FROM applications a JOIN accounts s ON s.id = a.account_id
                         WHERE s.role IN ('clerk', 'admin'));

UPDATE notifications
SET account_id = (SELECT c.id FROM accounts c JOIN applications a ON c.custody_point_id = a.service_point_id
                  WHERE a.id = notifications.application_id)
WHERE account_id IN (SELECT id FROM accounts WHERE role IN ('clerk', 'admin'))
  AND application_id IN (SELECT a.id FROM applications a JOIN accounts s ON s.id = a.account_id
                         WHERE s.role IN ('clerk', 'admin'));

UPDATE applications
SET account_id = (SELECT c.id FROM accounts c WHERE c.custody_point_id = applications.service_point_id)
WHERE account_id IN (SELECT id FROM accounts WHERE role IN ('clerk', 'admin'));
