//! Credentials' use cases that change a permit: issue, endorse, revoke, and the endorsement
//! reminders. Each owns its transaction, so the permit, the application it came from and the
//! notice to the holder change together or not at all.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::permits::model::{NewPermit, Permit};
use super::store;
use crate::casework;
use crate::casework::applications::model::Transition;
use crate::notifications;
use crate::notifications::model::NewNotification;
use crate::platform::storage::{Storage, StorageError, StorageResult};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("permit not found")]
    NotFound,
    /// The application already has its permit.
    #[error("already issued")]
    AlreadyIssued,
    /// The application was not checked in at the counter.
    #[error("not issuable")]
    NotIssuable,
    /// The validity changed since it was read (another endorsement went first).
    #[error("endorsement conflict")]
    EndorsementConflict,
    #[error("already revoked")]
    AlreadyRevoked,
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for CredentialError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => CredentialError::NotFound,
            StorageError::Conflict("application") => CredentialError::AlreadyIssued,
            other => CredentialError::Storage(other),
        }
    }
}

type Result<T> = std::result::Result<T, CredentialError>;

/// Issues the permit of a checked-in application: the application becomes issued, the permit
/// takes the next status-list index, superseded permits are revoked, the holder is told. A
/// racing issuer that took the same index or number gets `Storage(Conflict(..))` to retry.
pub async fn issue(
    storage: &dyn Storage,
    p: &NewPermit,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Permit> {
    let mut tx = storage.begin().await?;
    let moved =
        casework::service::move_within(&mut tx, Transition::Issue, p.application_id, None, now)
            .await?;
    if !moved {
        return Err(if store::issued_for(&mut tx, p.application_id).await? {
            CredentialError::AlreadyIssued
        } else {
            CredentialError::NotIssuable
        });
    }
    // A taken status index or number stays `Storage(Conflict(..))`, which the caller retries
    // with fresh ones; a second permit for the application is `AlreadyIssued`.
    let permit = store::insert_permit(&mut tx, p, now).await?;
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(permit)
}

/// 签注: the validity moves on from `expected_until` to `valid_until`.
pub async fn endorse(
    storage: &dyn Storage,
    id: Uuid,
    expected_until: NaiveDate,
    endorsed_on: NaiveDate,
    valid_until: NaiveDate,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Permit> {
    let mut tx = storage.begin().await?;
    let endorsed =
        store::endorse_permit(&mut tx, id, expected_until, endorsed_on, valid_until, now)
            .await?
            .ok_or(CredentialError::EndorsementConflict)?;
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(endorsed)
}

pub async fn revoke(
    storage: &dyn Storage,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Permit> {
    let mut tx = storage.begin().await?;
    let revoked = store::revoke_permit(&mut tx, id, reason, now)
        .await?
        .ok_or(CredentialError::AlreadyRevoked)?;
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(revoked)
}

/// One reminder per permit whose endorsement window opens by `opens_by`.
pub async fn queue_endorsement_reminders(
    storage: &dyn Storage,
    opens_by: NaiveDate,
    limit: i64,
    now: DateTime<Utc>,
    notice: &(dyn Fn(&Permit) -> NewNotification + Send + Sync),
) -> StorageResult<usize> {
    let mut tx = storage.begin().await?;
    let due = store::take_endorsement_reminders(&mut tx, opens_by, limit).await?;
    for permit in &due {
        notifications::service::queue(&mut tx, &notice(permit), now).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_permit_for_an_application_is_already_issued_and_other_conflicts_are_retried() {
        assert!(matches!(
            CredentialError::from(StorageError::Conflict("application")),
            CredentialError::AlreadyIssued
        ));
        for field in ["status_index", "permit_number"] {
            assert!(matches!(
                CredentialError::from(StorageError::Conflict(field)),
                CredentialError::Storage(StorageError::Conflict(f)) if f == field
            ));
        }
    }
}
