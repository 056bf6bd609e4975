//! What other contexts ask of notifications: a notice queued in the transaction of the change it
//! tells about (the inbox entry, and the SMS when the notice has a phone), so none is lost and
//! none is sent for a change that rolled back.

use chrono::{DateTime, Utc};

use super::model::NewNotification;
use super::store;
use crate::platform::storage::{StorageResult, Tx};

pub async fn queue(tx: &mut Tx, notice: &NewNotification, now: DateTime<Utc>) -> StorageResult<()> {
    store::insert_notification(tx, notice, now).await
}
