-- Foundation: settings, accounts, staff scopes, passkeys, regions, service points, articles.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id BLOB PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('resident', 'unit', 'clerk', 'admin')),
    real_name TEXT NOT NULL,
    id_number TEXT,
    sex TEXT CHECK (sex IN ('male', 'female')),
    phone TEXT,
    region_code TEXT,
    login_sms_required BOOLEAN NOT NULL DEFAULT 1,
    real_name_verified_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX accounts_username ON accounts (username);
-- One personal account per citizen ID number.
CREATE UNIQUE INDEX accounts_resident_id_number ON accounts (id_number) WHERE role = 'resident';

CREATE TABLE regions (
    code TEXT PRIMARY KEY NOT NULL,
    parent_code TEXT REFERENCES regions (code),
    name TEXT NOT NULL,
    name_en TEXT,
    level TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE service_points (
    id BLOB PRIMARY KEY NOT NULL,
    number INTEGER NOT NULL,
    district_code TEXT NOT NULL,
    street_code TEXT,
    police_station TEXT NOT NULL,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    hours TEXT NOT NULL,
    opens_saturday BOOLEAN NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE staff_service_points (
    account_id BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    service_point_id BLOB NOT NULL REFERENCES service_points (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, service_point_id)
);

CREATE TABLE passkeys (
    id BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);
CREATE INDEX passkeys_account ON passkeys (account_id);

CREATE TABLE articles (
    id BLOB PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('policy', 'guide')),
    title TEXT NOT NULL,
    title_en TEXT,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    source TEXT,
    published_on TEXT,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX articles_slug ON articles (slug);
