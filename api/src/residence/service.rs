//! Residence's use cases: declaring a residence registration and the eligibility check. They
//! own their reads and writes and answer with a [`ResidenceError`].

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::eligibility::{self, Assessment, Facts, Policy};
use super::model::{NewRegistration, ResidenceRegistration, moved_in_on_is_possible};
use crate::identity::model::IdNumber;
use crate::platform::clock::local_date;
use crate::platform::storage::{Storage, StorageError, StorageResult};

#[derive(Debug, thiserror::Error)]
pub enum ResidenceError {
    /// After today, or before the person was born.
    #[error("the move-in date is not possible")]
    MovedInOnImpossible,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Declares a residence registration (居住登记); continuous residence counts from today.
pub async fn register(
    storage: &dyn Storage,
    mut registration: NewRegistration,
    now: DateTime<Utc>,
) -> Result<ResidenceRegistration, ResidenceError> {
    let today = local_date(now);
    if !moved_in_on_is_possible(
        registration.moved_in_on,
        registration.id_number.birth_date(),
        today,
    ) {
        return Err(ResidenceError::MovedInOnImpossible);
    }
    registration.registered_on = today;
    Ok(storage.create_registration(&registration).await?)
}

/// The account's registrations, oldest first.
pub async fn registrations(
    storage: &dyn Storage,
    account_id: Uuid,
) -> StorageResult<Vec<ResidenceRegistration>> {
    storage.registrations_of(account_id).await
}

/// 查询办证资格 for one person, counted from the earliest of the account's registrations for
/// them.
pub async fn assess(
    storage: &dyn Storage,
    policy: &Policy,
    account_id: Uuid,
    id_number: &IdNumber,
    today: NaiveDate,
) -> StorageResult<Assessment> {
    let registered_on = storage
        .registrations_of(account_id)
        .await?
        .into_iter()
        .filter(|r| r.fields.id_number == *id_number)
        .map(|r| r.fields.registered_on)
        .min();
    let facts = Facts {
        today,
        birth_date: id_number.birth_date(),
        registered_on,
    };
    Ok(eligibility::assess(policy, &facts))
}
