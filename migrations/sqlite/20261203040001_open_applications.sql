-- A draft no longer blocks anyone: only a submitted application holds its person's ID number
-- (issue 13, application squatting). Several accounts may hold drafts for one person; the first
-- to submit holds it until the application ends, is withdrawn or a counter clerk releases it.
DROP INDEX applications_open_id_number;
CREATE UNIQUE INDEX applications_open_id_number ON applications (applicant_id_number)
    WHERE status IN ('submitted', 'booked', 'passed', 'returned', 'checked_in');
-- Drafts expire 30 days after they were started (platform/jobs.rs).
CREATE INDEX applications_drafts ON applications (created_at) WHERE status = 'draft';
