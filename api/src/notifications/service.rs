//! Notifications' use cases: a notice queued in the transaction of the change it tells about
//! (the inbox entry, and the SMS when the notice has a phone), so none is lost and none is sent
//! for a change that rolled back; the inbox; and the dispatcher that sends the SMS outbox.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::model::{NewNotification, Notification, sms_retry_at};
use super::sms::SmsSender;
use super::store;
use crate::platform::storage::{Storage, StorageError, StorageResult, Tx};

/// What the inbox use cases answer.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// Not there, or another person's.
    #[error("notification not found")]
    NotFound,
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for NotificationError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => NotificationError::NotFound,
            other => NotificationError::Storage(other),
        }
    }
}

/// How long a claimed SMS is left to one dispatcher.
const LEASE_SECS: i64 = 120;
/// The inbox shows the last this many notices.
const INBOX_SIZE: i64 = 100;

pub async fn queue(tx: &mut Tx, notice: &NewNotification, now: DateTime<Utc>) -> StorageResult<()> {
    store::insert_notification(tx, notice, now).await
}

/// A person's notices, newest first.
pub async fn inbox(
    storage: &dyn Storage,
    account_id: Uuid,
) -> Result<Vec<Notification>, NotificationError> {
    Ok(storage.notifications_of(account_id, INBOX_SIZE).await?)
}

/// Marks one of the person's notices read; another person's is not found.
pub async fn mark_read(
    storage: &dyn Storage,
    account_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), NotificationError> {
    Ok(storage.mark_notification_read(account_id, id, now).await?)
}

/// Sends the SMS that are due through the gateway; returns how many went out. Each is claimed
/// for a while first, so several instances never send the same one; a refused one is tried
/// again later ([`sms_retry_at`]) and given up after the last attempt.
pub async fn dispatch_sms(
    storage: &dyn Storage,
    gateway: &dyn SmsSender,
    now: DateTime<Utc>,
) -> StorageResult<usize> {
    let batch = storage
        .claim_sms(now, now + Duration::seconds(LEASE_SECS), 50)
        .await?;
    let mut sent = 0;
    for sms in batch {
        match gateway.send(&sms.phone, &sms.body).await {
            Ok(()) => {
                storage.finish_sms(sms.id, true, now, None).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(notification = %sms.id, attempts = sms.attempts, error = %e, "SMS not sent");
                storage
                    .finish_sms(sms.id, false, now, sms_retry_at(sms.attempts, now))
                    .await?;
            }
        }
    }
    Ok(sent)
}
