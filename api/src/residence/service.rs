//! Residence's use cases: declaring a residence registration and the eligibility check. They
//! own their reads and writes and answer with a [`ResidenceError`].

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::eligibility::{self, Assessment, Facts, Policy};
use super::model::{
    AddressPart, NamedPerson, NewRegistration, Person, ResidenceAddress, ResidenceRegistration,
    address_detail_fits, moved_in_on_is_possible, named_person,
};
use crate::directory::Region;
use crate::identity::model::{IdNumber, IdNumberError, check_real_name};
use crate::platform::clock::local_date;
use crate::platform::storage::{Storage, StorageError, StorageResult};

#[derive(Debug, thiserror::Error)]
pub enum ResidenceError {
    /// After today, or before the person was born.
    #[error("the move-in date is not possible")]
    MovedInOnImpossible,
    /// The session's account is gone.
    #[error("the account is gone")]
    AccountGone,
    /// The account holder is meant but their account has no ID number.
    #[error("the holder's ID number is unknown")]
    IdNumberRequired,
    /// A name without an ID number or the reverse.
    #[error("name and ID number go together")]
    PersonIncomplete,
    #[error("not a real name")]
    InvalidName,
    #[error("invalid ID number: {0}")]
    InvalidIdNumber(IdNumberError),
    /// The code is no region of the level this part of the address needs.
    #[error("not a region for the {0:?}")]
    InvalidRegion(AddressPart),
    #[error("the street is not in the district")]
    StreetOutsideDistrict,
    #[error("the community is not in the district")]
    CommunityOutsideDistrict,
    #[error("the address detail does not fit")]
    InvalidAddressDetail,
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

/// Resolves the named person, or the account holder when both fields are absent.
pub async fn person_or_holder(
    storage: &dyn Storage,
    account_id: Uuid,
    name: Option<&str>,
    id_number: Option<&str>,
) -> Result<Person, ResidenceError> {
    match named_person(name, id_number) {
        NamedPerson::Holder => {
            let holder = storage
                .account_by_id(account_id)
                .await
                .map_err(|e| match e {
                    StorageError::NotFound => ResidenceError::AccountGone,
                    other => ResidenceError::Storage(other),
                })?;
            let id_number = holder
                .id_number
                .as_deref()
                .and_then(|i| IdNumber::parse(i).ok())
                .ok_or(ResidenceError::IdNumberRequired)?;
            Ok(Person {
                name: holder.real_name,
                id_number,
            })
        }
        NamedPerson::Other { name, id_number } => Ok(Person {
            name: check_real_name(name).map_err(|_| ResidenceError::InvalidName)?,
            id_number: IdNumber::parse(id_number).map_err(ResidenceError::InvalidIdNumber)?,
        }),
        NamedPerson::Incomplete => Err(ResidenceError::PersonIncomplete),
    }
}

/// Checks every level of the address against the region data.
pub async fn check_address(
    storage: &dyn Storage,
    address: &ResidenceAddress,
) -> Result<(), ResidenceError> {
    let district = address.district_code.as_str();
    region_at(storage, district, AddressPart::District, "district").await?;
    let street = region_at(storage, &address.street_code, AddressPart::Street, "street").await?;
    if street.parent_code.as_deref() != Some(district) {
        return Err(ResidenceError::StreetOutsideDistrict);
    }
    let community = region_at(
        storage,
        &address.community_code,
        AddressPart::Community,
        "community",
    )
    .await?;
    let community_street = match community.parent_code.as_deref() {
        Some(code) => Some(region_at(storage, code, AddressPart::Community, "street").await?),
        None => None,
    };
    if community_street.and_then(|s| s.parent_code).as_deref() != Some(district) {
        return Err(ResidenceError::CommunityOutsideDistrict);
    }
    if !address_detail_fits(&address.address_detail) {
        return Err(ResidenceError::InvalidAddressDetail);
    }
    Ok(())
}

/// The region `code` at `level`; anything else is an invalid choice for `part`.
async fn region_at(
    storage: &dyn Storage,
    code: &str,
    part: AddressPart,
    level: &str,
) -> Result<Region, ResidenceError> {
    match storage.region(code).await {
        Ok(r) if r.level == level => Ok(r),
        Ok(_) | Err(StorageError::NotFound) => Err(ResidenceError::InvalidRegion(part)),
        Err(e) => Err(e.into()),
    }
}
