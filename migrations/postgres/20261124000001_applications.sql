-- Residence registration, applications with proof, the working-day calendar, booking and the
-- notification outbox (DESIGN §4.2, §4.3).

-- A service point's own opening days (ISO weekday digits, Monday = 1) and sessions, and the
-- default capacity of each session; `opens_saturday` is kept in step with `open_weekdays`.
ALTER TABLE service_points ADD COLUMN open_weekdays TEXT NOT NULL DEFAULT '12345';
ALTER TABLE service_points ADD COLUMN sessions TEXT NOT NULL DEFAULT 'morning,afternoon';
ALTER TABLE service_points ADD COLUMN capacity_morning INTEGER NOT NULL DEFAULT 30 CHECK (capacity_morning >= 0);
ALTER TABLE service_points ADD COLUMN capacity_afternoon INTEGER NOT NULL DEFAULT 30 CHECK (capacity_afternoon >= 0);
UPDATE service_points SET open_weekdays = '123456' WHERE opens_saturday;

-- The State Council calendar: a year is known once it is loaded; a date of a known year that is
-- not listed follows Monday to Friday, as does every date of an unknown year.
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
);

CREATE TABLE residence_registrations (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    person_name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    district_code TEXT NOT NULL,
    street_code TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    community_code TEXT NOT NULL,
    moved_in_on DATE NOT NULL,
    housing_type TEXT NOT NULL,
    registered_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX residence_registrations_account ON residence_registrations (account_id, id_number);

CREATE TABLE applications (
    id UUID PRIMARY KEY,
    number TEXT NOT NULL,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    business_type TEXT NOT NULL CHECK (business_type IN ('first', 'endorsement', 'renewal', 'replacement', 'reapplication')),
    applicant_name TEXT NOT NULL,
    applicant_id_number TEXT NOT NULL,
    applicant_sex TEXT NOT NULL CHECK (applicant_sex IN ('male', 'female')),
    phone TEXT NOT NULL,
    district_code TEXT NOT NULL,
    street_code TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    community_code TEXT NOT NULL,
    service_point_id UUID NOT NULL REFERENCES service_points (id),
    employer TEXT,
    condition TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'booked', 'passed', 'returned', 'checked_in', 'issued', 'cancelled', 'no_show')),
    review_note TEXT,
    submitted_at TIMESTAMPTZ,
    reviewed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX applications_number ON applications (number);
CREATE INDEX applications_account ON applications (account_id, created_at);
CREATE INDEX applications_point_status ON applications (service_point_id, status);
-- One open application per person, whoever files it.
CREATE UNIQUE INDEX applications_open_id_number ON applications (applicant_id_number)
    WHERE status IN ('draft', 'submitted', 'booked', 'passed', 'returned', 'checked_in');

CREATE TABLE materials (
    id UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    object_key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('jpeg', 'png', 'pdf')),
    size_bytes BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX materials_object_key ON materials (object_key);
CREATE INDEX materials_application ON materials (application_id);

-- One row per service point, day and session once anybody books it: `booked` only moves by a
-- conditional UPDATE, so the database, not a process, guarantees booked <= capacity.
CREATE TABLE slots (
    service_point_id UUID NOT NULL REFERENCES service_points (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    session TEXT NOT NULL CHECK (session IN ('morning', 'afternoon')),
    -- NULL: the service point's default capacity for the session.
    capacity INTEGER CHECK (capacity >= 0),
    booked INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0),
    PRIMARY KEY (service_point_id, day, session)
);

CREATE TABLE appointments (
    id UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    service_point_id UUID NOT NULL REFERENCES service_points (id),
    day DATE NOT NULL,
    session TEXT NOT NULL CHECK (session IN ('morning', 'afternoon')),
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'released', 'checked_in', 'no_show')),
    reminded BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX appointments_one_booked ON appointments (application_id) WHERE status = 'booked';
CREATE INDEX appointments_day ON appointments (day, status);

-- The transactional outbox: written in the same transaction as the change it reports; the
-- in-app inbox reads it, and a background job sends the SMS.
CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    application_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    read_at TIMESTAMPTZ,
    sms_phone TEXT,
    sms_state TEXT NOT NULL CHECK (sms_state IN ('none', 'pending', 'sent', 'failed')),
    sms_attempts INTEGER NOT NULL DEFAULT 0,
    sms_next_at TIMESTAMPTZ,
    sms_sent_at TIMESTAMPTZ
);
CREATE INDEX notifications_account ON notifications (account_id, created_at);
CREATE INDEX notifications_sms_pending ON notifications (sms_next_at) WHERE sms_state = 'pending';
