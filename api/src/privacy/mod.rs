//! The holder's rights and consent (PIPL arts. 14, 44-47; issue 14): the privacy notice and the
//! version each account agreed to, the export of everything held about a person (`GET /me/data`),
//! closing the account (`DELETE /me`), and "who looked at my data" (`GET /me/access-log`).
//!
//! What closing an account keeps, and why:
//! - the `accounts` row, as a tombstone: the id (an issued permit and the consents name it),
//!   the role, `created_at` and `closed_at`; the username becomes `closed:<id>` (no person can
//!   register a colon, so the old name is free), the password hash `!closed` (nothing verifies
//!   against it), the real name empty, ID number, sex, phone, region and real-name check NULL.
//!   The phone and ID number can register again at once.
//! - an issued permit's `permits` row, unchanged but for its device binding and the link to
//!   the deleted application: the permit register is kept as the law requires, and its status
//!   list entry stays revocable. Its person can claim it into a new account (`POST /permits/claim`).
//!   The verifications recorded for it (`permit_verifications`) stay with it.
//! - the `audit_log` (append-only, kept as the law requires).
//! - `privacy_consents`: which notice was agreed to when (no personal data), the record that
//!   what was processed was consented to.
//!
//! Everything else of the account is erased in the same transaction: residence registrations,
//! applications (open ones withdrawn first, a booked place given back), their appointments and
//! proof-file rows, notifications (with their SMS), passkeys. The proof files are listed in
//! `file_erasures` in that transaction and deleted from object storage after it commits; a
//! delete that fails leaves its file listed and the jobs try again. The account's session ends.

pub mod http;
pub mod model;
pub mod retention;
pub mod service;
pub mod store;
