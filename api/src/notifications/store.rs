//! Storage of notices: the in-app inbox and the SMS outbox. A notice is written in the same
//! transaction as the change it tells about, so none is lost and none is sent for a change that
//! rolled back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{NewNotification, Notification, PendingSms};
use crate::platform::storage::Tx;
use crate::platform::storage::{Database, StorageResult, classify, found, run};

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: Uuid,
    kind: String,
    title: String,
    body: String,
    application_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRow> for Notification {
    fn from(r: NotificationRow) -> Self {
        Notification {
            id: r.id,
            kind: r.kind,
            title: r.title,
            body: r.body,
            application_id: r.application_id,
            created_at: r.created_at,
            read_at: r.read_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PendingSmsRow {
    id: Uuid,
    sms_phone: Option<String>,
    body: String,
    sms_attempts: i32,
}

impl From<PendingSmsRow> for PendingSms {
    fn from(r: PendingSmsRow) -> Self {
        PendingSms {
            id: r.id,
            phone: r.sms_phone.unwrap_or_default(),
            body: r.body,
            attempts: r.sms_attempts,
        }
    }
}

/// The inbox a person reads and the outbox the SMS dispatcher drains.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Claims SMS due by `now` until `lease_until`, so another dispatcher skips them.
    async fn claim_sms(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<PendingSms>>;
    /// `retry_at` `None` ends the row: sent, or failed for good when `sent` is false.
    async fn finish_sms(
        &self,
        id: Uuid,
        sent: bool,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StorageResult<()>;
    // The in-app inbox.
    async fn notifications_of(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> StorageResult<Vec<Notification>>;
    async fn mark_notification_read(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

#[async_trait]
impl NotificationStore for Database {
    async fn claim_sms(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<PendingSms>> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "UPDATE notifications SET sms_next_at = $2, sms_attempts = sms_attempts + 1 WHERE id IN (\
             SELECT id FROM notifications WHERE sms_state = 'pending' AND sms_next_at <= $1 ORDER BY sms_next_at LIMIT $3{}\
             ) RETURNING id, sms_phone, body, sms_attempts",
            tx.dialect().skip_locked
        );
        let rows: Vec<PendingSmsRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(e)
            .await)
        .map_err(classify)?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn finish_sms(
        &self,
        id: Uuid,
        sent: bool,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StorageResult<()> {
        let state = match (sent, retry_at) {
            (true, _) => "sent",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let done = run!(self, |e| sqlx::query(
            "UPDATE notifications SET sms_state = $2, sms_sent_at = $3, sms_next_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(sent.then_some(now))
        .bind(retry_at)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn notifications_of(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> StorageResult<Vec<Notification>> {
        let rows: Vec<NotificationRow> = run!(self, |e| {
            sqlx::query_as(
            "SELECT id, kind, title, body, application_id, created_at, read_at FROM notifications \
             WHERE account_id = $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(e)
        .await
        })
        .map_err(classify)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn mark_notification_read(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account_id)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }
}

pub(crate) async fn insert_notification(
    tx: &mut Tx,
    n: &NewNotification,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, application_id, created_at, sms_phone, sms_state, sms_next_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Uuid::new_v4())
    .bind(n.account_id)
    .bind(n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.application_id)
    .bind(now)
    .bind(&n.sms_phone)
    .bind(if n.sms_phone.is_some() { "pending" } else { "none" })
    .bind(n.sms_phone.as_ref().map(|_| now))
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}
