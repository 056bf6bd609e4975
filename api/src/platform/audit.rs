//! The staff audit log: every staff action and every staff read of a person's file or ID
//! number is written before the answer goes out (append-only in the database).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::identity::auth::SessionAuth;
use crate::platform::data_keys::DataKeys;
use crate::platform::error::ApiError;
use crate::platform::page::Cursor;
use crate::platform::state::AppState;
use crate::platform::storage::sealing::AUDIT_DETAIL;
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
    id: Uuid,
    at: DateTime<Utc>,
    staff_id: Uuid,
    action: String,
    object_type: String,
    object_id: String,
    detail: String,
}

impl AuditRow {
    fn open(self, keys: &DataKeys) -> StorageResult<AuditEntry> {
        let r = self;
        Ok(AuditEntry {
            at: r.at,
            staff_id: r.staff_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            detail: keys.open(AUDIT_DETAIL, r.id, &r.detail)?,
        })
    }
}

/// The staff audit log, append-only.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, entry: &AuditEntry) -> StorageResult<()>;
    /// The log newest first (equal times by id), from just after `before`, `limit` entries at
    /// most, each with its id (the page cursor).
    async fn audit_log(
        &self,
        before: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<(Uuid, AuditEntry)>>;
}

#[async_trait]
impl AuditStore for Database {
    async fn audit(&self, entry: &AuditEntry) -> StorageResult<()> {
        let id = Uuid::new_v4();
        // The detail may name a person (an ID number searched for): sealed like the rest.
        let detail = if entry.detail.is_empty() {
            String::new()
        } else {
            self.keys().seal(AUDIT_DETAIL, id, &entry.detail)
        };
        run!(self, |e| sqlx::query(
            "INSERT INTO audit_log (id, at, staff_id, action, object_type, object_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(entry.at)
        .bind(entry.staff_id)
        .bind(&entry.action)
        .bind(&entry.object_type)
        .bind(&entry.object_id)
        .bind(&detail)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }

    async fn audit_log(
        &self,
        before: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<(Uuid, AuditEntry)>> {
        const COLUMNS: &str =
            "SELECT id, at, staff_id, action, object_type, object_id, detail FROM audit_log";
        let rows: Vec<AuditRow> = match before {
            Some(c) => {
                let sql = format!(
                    "{COLUMNS} WHERE (at, id) < ($1, $2) ORDER BY at DESC, id DESC LIMIT $3"
                );
                run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(c.at)
                    .bind(c.id)
                    .bind(limit)
                    .fetch_all(e)
                    .await)
            }
            None => {
                let sql = format!("{COLUMNS} ORDER BY at DESC, id DESC LIMIT $1");
                run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(limit)
                    .fetch_all(e)
                    .await)
            }
        }
        .map_err(classify)?;
        rows.into_iter()
            .map(|r| {
                let id = r.id;
                r.open(self.keys()).map(|e| (id, e))
            })
            .collect()
    }
}
