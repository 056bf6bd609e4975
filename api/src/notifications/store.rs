//! Storage of notices: the in-app inbox and the SMS outbox. A notice is written in the same
//! transaction as the change it tells about, so none is lost and none is sent for a change that
//! rolled back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{FailedSms, NewNotification, Notification, PendingSms, SmsDelivery, SmsOutcome};
use crate::platform::data_keys::DataKeys;
use crate::platform::storage::Tx;
use crate::platform::storage::sealing::{NOTICE_BODY, NOTICE_SMS_PARAMS, NOTICE_SMS_PHONE};
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

impl NotificationRow {
    fn open(self, keys: &DataKeys) -> StorageResult<Notification> {
        let r = self;
        Ok(Notification {
            id: r.id,
            kind: r.kind,
            title: r.title,
            body: keys.open(NOTICE_BODY, r.id, &r.body)?,
            application_id: r.application_id,
            created_at: r.created_at,
            read_at: r.read_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PendingSmsRow {
    id: Uuid,
    sms_phone: Option<String>,
    kind: String,
    body: String,
    sms_params: Option<String>,
    sms_attempts: i32,
}

impl PendingSmsRow {
    fn open(self, keys: &DataKeys) -> StorageResult<PendingSms> {
        let r = self;
        Ok(PendingSms {
            id: r.id,
            phone: keys
                .open_opt(NOTICE_SMS_PHONE, r.id, r.sms_phone.as_deref())?
                .unwrap_or_default(),
            kind: r.kind,
            body: keys.open(NOTICE_BODY, r.id, &r.body)?,
            // Rows queued before templates existed have none; the provider is told so.
            params: keys
                .open_opt(NOTICE_SMS_PARAMS, r.id, r.sms_params.as_deref())?
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or_default(),
            attempts: r.sms_attempts,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FailedSmsRow {
    id: Uuid,
    kind: String,
    sms_phone: Option<String>,
    sms_attempts: i32,
    sms_error_code: Option<String>,
    sms_error_detail: Option<String>,
    created_at: DateTime<Utc>,
    sms_failed_at: Option<DateTime<Utc>>,
}

impl FailedSmsRow {
    fn open(self, keys: &DataKeys) -> StorageResult<FailedSms> {
        let r = self;
        Ok(FailedSms {
            id: r.id,
            kind: r.kind,
            phone: keys
                .open_opt(NOTICE_SMS_PHONE, r.id, r.sms_phone.as_deref())?
                .unwrap_or_default(),
            attempts: r.sms_attempts,
            error_code: r.sms_error_code,
            error_detail: r.sms_error_detail,
            created_at: r.created_at,
            failed_at: r.sms_failed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SmsDeliveryRow {
    sms_state: String,
    sms_attempts: i32,
    sms_message_id: Option<String>,
    sms_error_code: Option<String>,
    sms_sent_at: Option<DateTime<Utc>>,
    sms_next_at: Option<DateTime<Utc>>,
}

impl From<SmsDeliveryRow> for SmsDelivery {
    fn from(r: SmsDeliveryRow) -> Self {
        SmsDelivery {
            state: r.sms_state,
            attempts: r.sms_attempts,
            message_id: r.sms_message_id,
            error_code: r.sms_error_code,
            sent_at: r.sms_sent_at,
            next_at: r.sms_next_at,
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
    /// Records how an attempt ended: sent (with the provider's id), due again, or given up.
    async fn finish_sms(
        &self,
        id: Uuid,
        outcome: &SmsOutcome,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// SMS given up for good, the latest first.
    async fn failed_sms(&self, limit: i64) -> StorageResult<Vec<FailedSms>>;
    /// One outbox row's delivery state.
    async fn sms_delivery(&self, id: Uuid) -> StorageResult<SmsDelivery>;
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
             ) RETURNING id, sms_phone, kind, body, sms_params, sms_attempts",
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
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }

    async fn finish_sms(
        &self,
        id: Uuid,
        outcome: &SmsOutcome,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let (state, sent_at, next_at, message_id, code, detail, failed_at) = match outcome {
            SmsOutcome::Sent { message_id } => (
                "sent",
                Some(now),
                None,
                message_id.as_deref(),
                None,
                None,
                None,
            ),
            SmsOutcome::Retry { retry_at, code } => (
                "pending",
                None,
                Some(*retry_at),
                None,
                Some(code.as_str()),
                None,
                None,
            ),
            SmsOutcome::Failed { code, detail } => (
                "failed",
                None,
                None,
                None,
                Some(code.as_str()),
                Some(detail.as_str()),
                Some(now),
            ),
        };
        let done = run!(self, |e| sqlx::query(
            "UPDATE notifications SET sms_state = $2, sms_sent_at = $3, sms_next_at = $4, \
             sms_message_id = $5, sms_error_code = $6, sms_error_detail = $7, sms_failed_at = $8 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(sent_at)
        .bind(next_at)
        .bind(message_id)
        .bind(code)
        .bind(detail)
        .bind(failed_at)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn failed_sms(&self, limit: i64) -> StorageResult<Vec<FailedSms>> {
        let rows: Vec<FailedSmsRow> = run!(self, |e| sqlx::query_as(
            "SELECT id, kind, sms_phone, sms_attempts, sms_error_code, sms_error_detail, created_at, \
             sms_failed_at FROM notifications WHERE sms_state = 'failed' \
             ORDER BY sms_failed_at DESC, created_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }

    async fn sms_delivery(&self, id: Uuid) -> StorageResult<SmsDelivery> {
        let row: Option<SmsDeliveryRow> = run!(self, |e| sqlx::query_as(
            "SELECT sms_state, sms_attempts, sms_message_id, sms_error_code, sms_sent_at, sms_next_at \
             FROM notifications WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(e)
        .await)
        .map_err(classify)?;
        row.map(Into::into)
            .ok_or(crate::platform::storage::StorageError::NotFound)
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
        rows.into_iter().map(|r| r.open(self.keys())).collect()
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
) -> StorageResult<Uuid> {
    let id = Uuid::new_v4();
    let keys = tx.keys();
    let params = n.sms_phone.as_ref().map(|_| {
        keys.seal(
            NOTICE_SMS_PARAMS,
            id,
            &serde_json::to_string(&n.sms_params).expect("pairs of text serialise"),
        )
    });
    run!(tx, |e| sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, application_id, created_at, sms_phone, sms_state, sms_next_at, sms_params) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(n.account_id)
    .bind(n.kind)
    .bind(&n.title)
    .bind(keys.seal(NOTICE_BODY, id, &n.body))
    .bind(n.application_id)
    .bind(now)
    .bind(keys.seal_opt(NOTICE_SMS_PHONE, id, n.sms_phone.as_deref()))
    .bind(if n.sms_phone.is_some() { "pending" } else { "none" })
    .bind(n.sms_phone.as_ref().map(|_| now))
    .bind(&params)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| id)
}
