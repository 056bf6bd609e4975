//! Notifications' use cases: a notice queued in the transaction of the change it tells about
//! (the inbox entry, and the SMS when the notice has a phone), so none is lost and none is sent
//! for a change that rolled back; the inbox; and the dispatcher that sends the SMS outbox.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::model::{
    FailedSms, NewNotification, Notification, SmsDelivery, SmsOutcome, sms_retry_at,
};
use super::sms::{SmsMessage, SmsSender};
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

/// Writes the notice (and its SMS, when it has a phone) in the caller's transaction; answers
/// its id.
pub async fn queue(
    tx: &mut Tx,
    notice: &NewNotification,
    now: DateTime<Utc>,
) -> StorageResult<Uuid> {
    store::insert_notification(tx, notice, now).await
}

/// The failed-SMS list administrators read: the latest this many.
const FAILED_LIST_SIZE: i64 = 200;

/// SMS given up for good, the latest first: a template or number the provider refuses, or a
/// message whose attempts were spent.
pub async fn failed_sms(storage: &dyn Storage) -> Result<Vec<FailedSms>, NotificationError> {
    Ok(storage.failed_sms(FAILED_LIST_SIZE).await?)
}

/// One outbox row's delivery state.
pub async fn sms_delivery(
    storage: &dyn Storage,
    id: Uuid,
) -> Result<SmsDelivery, NotificationError> {
    Ok(storage.sms_delivery(id).await?)
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
/// for a while first, so several instances never send the same one. A transient failure
/// (throttled, timed out, the provider failing) is tried again later ([`sms_retry_at`]) and
/// given up after the last attempt; a permanent one (a bad template or number) is given up at
/// once. Given-up messages are listed for administrators ([`failed_sms`]).
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
        let message = SmsMessage {
            kind: sms.kind.clone(),
            params: sms.params.clone(),
            text: sms.body.clone(),
        };
        let outcome = match gateway.send(&sms.phone, &message).await {
            Ok(delivered) => {
                sent += 1;
                SmsOutcome::Sent {
                    message_id: delivered.message_id,
                }
            }
            Err(e) => {
                // The code only: the provider's words may repeat the number.
                tracing::warn!(notification = %sms.id, attempts = sms.attempts, code = %e.code, transient = e.transient, "SMS not sent");
                match sms_retry_at(sms.attempts, now).filter(|_| e.transient) {
                    Some(retry_at) => SmsOutcome::Retry {
                        retry_at,
                        code: e.code,
                    },
                    None => SmsOutcome::Failed {
                        code: e.code,
                        detail: e.detail,
                    },
                }
            }
        };
        storage.finish_sms(sms.id, &outcome, now).await?;
    }
    Ok(sent)
}
