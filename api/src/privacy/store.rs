//! Storage of consents and permit verifications, the holder's appointments and audit entries
//! as the access log reads them, and closing an account. Personal data is read through the
//! other contexts' stores only: this store reads ids, statuses, dates and codes, and writes
//! nothing into a personal column but NULL or a constant placeholder.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::model::{
    AppointmentRecord, Consent, HOLDER_OBJECT_TYPES, StaffAccess, VerificationAccess,
};
use crate::platform::storage::{Database, StorageResult, Tx, classify, exec_by, run};

/// The password hash of a closed account: no password verifies against it.
const CLOSED_PASSWORD_HASH: &str = "!closed";

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// The notice versions the account agreed to, the latest first.
    async fn consents_of(&self, account_id: Uuid) -> StorageResult<Vec<Consent>>;
    /// Records an agreement; agreeing to the same version again keeps the first time.
    async fn agree(&self, account_id: Uuid, version: &str, at: DateTime<Utc>) -> StorageResult<()>;
    /// Every appointment of the account's applications, the latest first.
    async fn appointments_of(&self, account_id: Uuid) -> StorageResult<Vec<AppointmentRecord>>;
    /// Staff entries of the audit log about these objects before `before`, newest first.
    async fn staff_accesses(
        &self,
        object_ids: &[String],
        before: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<StaffAccess>>;
    /// Online verifications of the account's permits before `before`, newest first.
    async fn verifications_of(
        &self,
        account_id: Uuid,
        before: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<VerificationAccess>>;
    /// Files of closed accounts still to be deleted from object storage.
    async fn pending_erasures(&self, limit: i64) -> StorageResult<Vec<String>>;
    /// The object store deleted the file: it leaves the list.
    async fn erased(&self, object_key: &str) -> StorageResult<()>;
}

/// Records the agreement inside the caller's transaction (a registration's own).
pub(crate) async fn record_consent(
    tx: &mut Tx,
    account_id: Uuid,
    version: &str,
    at: DateTime<Utc>,
) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "INSERT INTO privacy_consents (account_id, version, agreed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, version) DO NOTHING"
    )
    .bind(account_id)
    .bind(version)
    .bind(at)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// The account's applications, read inside the closing transaction.
pub(crate) async fn application_ids(tx: &mut Tx, account_id: Uuid) -> StorageResult<Vec<Uuid>> {
    run!(tx, |e| sqlx::query_scalar(
        "SELECT id FROM applications WHERE account_id = $1"
    )
    .bind(account_id)
    .fetch_all(e)
    .await)
    .map_err(classify)
}

/// Erases what the closed account held (see the module doc of `privacy` for what stays) and
/// answers the object keys of its proof files, listed in `file_erasures` in the same
/// transaction. The caller has released the account's booked places.
pub(crate) async fn close_account(
    tx: &mut Tx,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> StorageResult<Vec<String>> {
    let keys: Vec<String> = run!(tx, |e| sqlx::query_scalar(
        "SELECT m.object_key FROM materials m JOIN applications a ON a.id = m.application_id \
         WHERE a.account_id = $1"
    )
    .bind(account_id)
    .fetch_all(e)
    .await)
    .map_err(classify)?;
    for key in &keys {
        run!(tx, |e| sqlx::query(
            "INSERT INTO file_erasures (object_key, queued_at) VALUES ($1, $2) \
             ON CONFLICT (object_key) DO NOTHING"
        )
        .bind(key)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
    }
    // Children first: SQLite is not relied on to cascade.
    for sql in [
        "DELETE FROM materials WHERE application_id IN (SELECT id FROM applications WHERE account_id = $1)",
        "DELETE FROM appointments WHERE application_id IN (SELECT id FROM applications WHERE account_id = $1)",
        // An issued permit stays, without the application it came from.
        "UPDATE permits SET application_id = NULL WHERE application_id IN (SELECT id FROM applications WHERE account_id = $1)",
        "DELETE FROM applications WHERE account_id = $1",
        "DELETE FROM residence_registrations WHERE account_id = $1",
        "DELETE FROM notifications WHERE account_id = $1",
        "DELETE FROM passkeys WHERE account_id = $1",
        // The permit stays revocable in the status list; the device it was bound to is gone.
        "UPDATE permits SET device_key = NULL WHERE account_id = $1",
    ] {
        exec_by(tx, sql, account_id).await?;
    }
    // The tombstone: a username no person can register (a colon), no usable password, and
    // every personal column empty, so the phone and ID number can register again.
    run!(tx, |e| sqlx::query(
        "UPDATE accounts SET username = $2, password_hash = $3, real_name = '', id_number = NULL, id_number_index = NULL, \
         sex = NULL, phone = NULL, region_code = NULL, real_name_verified_at = NULL, \
         login_sms_required = $4, closed_at = $5, updated_at = $5 WHERE id = $1"
    )
    .bind(account_id)
    .bind(format!("closed:{}", account_id.simple()))
    .bind(CLOSED_PASSWORD_HASH)
    .bind(true)
    .bind(now)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)?;
    Ok(keys)
}

/// Far enough in the future to stand for "no bound" in a `before` comparison.
fn no_bound() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
        .and_utc()
}

/// `before`, or no bound.
pub fn before_or_all(before: Option<DateTime<Utc>>) -> DateTime<Utc> {
    before.unwrap_or_else(no_bound)
}

type AppointmentTuple = (Uuid, Uuid, Uuid, NaiveDate, String, String, DateTime<Utc>);
type StaffTuple = (DateTime<Utc>, Uuid, String, String, String);

#[async_trait]
impl PrivacyStore for Database {
    async fn consents_of(&self, account_id: Uuid) -> StorageResult<Vec<Consent>> {
        let rows: Vec<(String, DateTime<Utc>)> = run!(self, |e| sqlx::query_as(
            "SELECT version, agreed_at FROM privacy_consents WHERE account_id = $1 \
             ORDER BY agreed_at DESC, version DESC"
        )
        .bind(account_id)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(version, agreed_at)| Consent { version, agreed_at })
            .collect())
    }

    async fn agree(&self, account_id: Uuid, version: &str, at: DateTime<Utc>) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        record_consent(&mut tx, account_id, version, at).await?;
        tx.commit().await
    }

    async fn appointments_of(&self, account_id: Uuid) -> StorageResult<Vec<AppointmentRecord>> {
        let rows: Vec<AppointmentTuple> = run!(self, |e| sqlx::query_as(
            "SELECT p.id, p.application_id, p.service_point_id, p.day, p.session, p.status, p.created_at \
             FROM appointments p JOIN applications a ON a.id = p.application_id \
             WHERE a.account_id = $1 ORDER BY p.created_at DESC"
        )
        .bind(account_id)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, application_id, service_point_id, day, session, status, created_at)| {
                    AppointmentRecord {
                        id,
                        application_id,
                        service_point_id,
                        day,
                        session,
                        status,
                        created_at,
                    }
                },
            )
            .collect())
    }

    async fn staff_accesses(
        &self,
        object_ids: &[String],
        before: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<StaffAccess>> {
        if object_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Only placeholders are spliced in; every value is bound. The detail column is never
        // read: it may name other people.
        let types = (0..HOLDER_OBJECT_TYPES.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let first_id = 3 + HOLDER_OBJECT_TYPES.len();
        let ids = (0..object_ids.len())
            .map(|i| format!("${}", i + first_id))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT at, staff_id, action, object_type, object_id FROM audit_log \
             WHERE at < $1 AND object_type IN ({types}) AND object_id IN ({ids}) \
             ORDER BY at DESC LIMIT $2"
        );
        let rows: Vec<StaffTuple> = run!(self, |e| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(before)
                .bind(limit);
            for t in HOLDER_OBJECT_TYPES {
                q = q.bind(t);
            }
            for id in object_ids {
                q = q.bind(id);
            }
            q.fetch_all(e).await
        })
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(
                |(at, staff_id, action, object_type, object_id)| StaffAccess {
                    at,
                    staff_id,
                    action,
                    object_type,
                    object_id,
                },
            )
            .collect())
    }

    async fn verifications_of(
        &self,
        account_id: Uuid,
        before: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<VerificationAccess>> {
        let rows: Vec<(DateTime<Utc>, Uuid, Option<String>)> = run!(self, |e| sqlx::query_as(
            "SELECT v.at, v.permit_id, v.verifier_name FROM permit_verifications v \
             JOIN permits p ON p.id = v.permit_id \
             WHERE p.account_id = $1 AND v.at < $2 ORDER BY v.at DESC LIMIT $3"
        )
        .bind(account_id)
        .bind(before)
        .bind(limit)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(at, permit_id, verifier_name)| VerificationAccess {
                at,
                permit_id,
                verifier_name,
            })
            .collect())
    }

    async fn pending_erasures(&self, limit: i64) -> StorageResult<Vec<String>> {
        run!(self, |e| sqlx::query_scalar(
            "SELECT object_key FROM file_erasures ORDER BY queued_at LIMIT $1"
        )
        .bind(limit)
        .fetch_all(e)
        .await)
        .map_err(classify)
    }

    async fn erased(&self, object_key: &str) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "DELETE FROM file_erasures WHERE object_key = $1"
        )
        .bind(object_key)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }
}
