-- Personal data at rest (issue 14): names, ID numbers, phones, addresses, employers and notice
-- bodies are sealed by permitd (AES-256-GCM, platform/data_keys.rs) before they are written, so
-- these columns hold ciphertext from now on. Equality the database enforces moves to keyed blind
-- indexes (HMAC-SHA-256); rows written before this change are sealed and indexed by the pass
-- every start runs (platform/storage/sealing.rs) before the service answers.
ALTER TABLE accounts ADD COLUMN id_number_index TEXT;
ALTER TABLE residence_registrations ADD COLUMN id_number_index TEXT;
ALTER TABLE applications ADD COLUMN applicant_id_index TEXT;
ALTER TABLE permits ADD COLUMN id_number_index TEXT;

-- One personal account per citizen ID number.
DROP INDEX accounts_resident_id_number;
CREATE UNIQUE INDEX accounts_resident_id_number ON accounts (id_number_index) WHERE role = 'resident';

DROP INDEX residence_registrations_account;
CREATE INDEX residence_registrations_account ON residence_registrations (account_id, id_number_index);

-- One submitted application in progress per person, whoever files it.
DROP INDEX applications_open_id_number;
CREATE UNIQUE INDEX applications_open_id_number ON applications (applicant_id_index)
    WHERE status IN ('submitted', 'booked', 'passed', 'returned', 'checked_in');
CREATE INDEX applications_account_person ON applications (account_id, applicant_id_index);

DROP INDEX permits_id_number;
CREATE INDEX permits_id_number ON permits (id_number_index);
