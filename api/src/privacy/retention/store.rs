//! The retention job's queries. They select by ids, statuses, dates and object keys only, never
//! by a personal column (those are encrypted). Each takes a batch inside the caller's
//! transaction; on PostgreSQL the rows are locked with `SKIP LOCKED`, so job runners on several
//! instances take disjoint batches and never wait for each other.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::Cutoffs;
use crate::casework::applications::model::Status;
use crate::platform::storage::{StorageResult, Tx, classify, exec_by, run};

/// A proof file due for deletion: where its bytes are.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueFile {
    pub id: Uuid,
    pub object_key: String,
}

/// Up to `limit` proof files whose application ended, was abandoned after a return, or is a
/// draft past its time (see `RetentionPolicy::proof_files_due_at`), locked until the
/// transaction ends.
pub async fn due_files(tx: &mut Tx, c: &Cutoffs, limit: i64) -> StorageResult<Vec<DueFile>> {
    let sql = format!(
        "SELECT m.id, m.object_key FROM materials m JOIN applications a ON a.id = m.application_id \
         WHERE (a.{ended} AND a.ended_at < $1) \
            OR (a.status = 'returned' AND a.reviewed_at < $2) \
            OR (a.status = 'cancelled' AND a.submitted_at IS NULL AND a.created_at < $3) \
         ORDER BY m.id LIMIT $4{lock}",
        ended = Status::sql_ended(),
        lock = tx.dialect().skip_locked_of("m"),
    );
    run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(c.ended)
        .bind(c.returned)
        .bind(c.drafts)
        .bind(limit)
        .fetch_all(e)
        .await)
    .map_err(classify)
}

/// Removes the row of a proof file whose bytes are gone.
pub async fn delete_file_row(tx: &mut Tx, id: Uuid) -> StorageResult<u64> {
    exec_by(tx, "DELETE FROM materials WHERE id = $1", id).await
}

/// Runs a batch statement bound to a cutoff (`$1`) and a batch size (`$2`).
async fn batch(tx: &mut Tx, sql: String, before: DateTime<Utc>, limit: i64) -> StorageResult<u64> {
    run!(tx, |e| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(limit)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
    .map_err(classify)
}

/// Deletes up to `limit` never-submitted applications started before `before` that the jobs
/// already cancelled and that have no proof file left; returns how many.
pub async fn delete_drafts(tx: &mut Tx, before: DateTime<Utc>, limit: i64) -> StorageResult<u64> {
    let sql = format!(
        "DELETE FROM applications WHERE id IN (SELECT a.id FROM applications a \
         WHERE a.status = 'cancelled' AND a.submitted_at IS NULL AND a.created_at < $1 \
           AND NOT EXISTS (SELECT 1 FROM materials m WHERE m.application_id = a.id) \
           AND NOT EXISTS (SELECT 1 FROM permits p WHERE p.application_id = a.id) \
         ORDER BY a.created_at LIMIT $2{})",
        tx.dialect().skip_locked
    );
    batch(tx, sql, before, limit).await
}

/// Deletes up to `limit` notifications created before `before`; returns how many.
pub async fn delete_notifications(
    tx: &mut Tx,
    before: DateTime<Utc>,
    limit: i64,
) -> StorageResult<u64> {
    let sql = format!(
        "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications \
         WHERE created_at < $1 ORDER BY created_at LIMIT $2{})",
        tx.dialect().skip_locked
    );
    batch(tx, sql, before, limit).await
}

/// Erases the SMS body (phone, template parameters, the provider's error words) of up to
/// `limit` notices whose SMS was sent or given up before `before`; the in-app notice and the
/// delivery facts (state, times, message id, error code) stay. Returns how many.
pub async fn erase_sms_bodies(
    tx: &mut Tx,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> StorageResult<u64> {
    let sql = format!(
        "UPDATE notifications SET sms_phone = NULL, sms_params = NULL, sms_error_detail = NULL, \
         sms_erased_at = $2 WHERE id IN (SELECT id FROM notifications \
         WHERE sms_erased_at IS NULL AND ((sms_state = 'sent' AND sms_sent_at < $1) \
            OR (sms_state = 'failed' AND sms_failed_at < $1)) \
         ORDER BY created_at LIMIT $3{})",
        tx.dialect().skip_locked
    );
    run!(tx, |e| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(now)
        .bind(limit)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
    .map_err(classify)
}
