//! The staff audit log: every staff action and every staff read of a person's file or ID
//! number is written before the answer goes out (append-only in the database).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::identity::auth::SessionAuth;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::{Database, StorageResult, classify, run};

/// One staff action or read, as written to the log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub staff_id: Uuid,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
}

pub async fn record(
    state: &AppState,
    auth: &SessionAuth,
    action: &str,
    object_type: &str,
    object_id: impl ToString,
    detail: impl Into<String>,
) -> Result<(), ApiError> {
    state
        .storage
        .audit(&AuditEntry {
            at: state.clock.now(),
            staff_id: auth.0.account_id,
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.to_string(),
            detail: detail.into(),
        })
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    at: DateTime<Utc>,
    staff_id: Uuid,
    action: String,
    object_type: String,
    object_id: String,
    detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            at: r.at,
            staff_id: r.staff_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            detail: r.detail,
        }
    }
}

/// The staff audit log, append-only.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, entry: &AuditEntry) -> StorageResult<()>;
    async fn audit_log(&self, limit: i64) -> StorageResult<Vec<AuditEntry>>;
}

#[async_trait]
impl AuditStore for Database {
    async fn audit(&self, entry: &AuditEntry) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "INSERT INTO audit_log (id, at, staff_id, action, object_type, object_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::new_v4())
        .bind(entry.at)
        .bind(entry.staff_id)
        .bind(&entry.action)
        .bind(&entry.object_type)
        .bind(&entry.object_id)
        .bind(&entry.detail)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }

    async fn audit_log(&self, limit: i64) -> StorageResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = run!(self, |e| sqlx::query_as(
            "SELECT at, staff_id, action, object_type, object_id, detail FROM audit_log ORDER BY at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
