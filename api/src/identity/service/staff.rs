//! Staff accounts, created by an operator with `permitd staff add`, which prints the one-time
//! code the clerk or administrator enrols their passkey with at the first sign-in;
//! `permitd staff enrolment` gives a new one (a lost phone) and removes the old passkeys.

use chrono::{DateTime, Utc};
use rand::RngCore;
use uuid::Uuid;

use crate::identity::model::{
    Account, AccountFieldError, EnrolmentCode, NewAccount, Role, check_password, check_real_name,
    check_username,
};
use crate::identity::password;
use crate::identity::store;
use crate::platform::ephemeral::{Ephemeral, EphemeralError};
use crate::platform::storage::{Storage, StorageError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(String),
    #[error("service point {0} does not exist")]
    UnknownServicePoint(Uuid),
    #[error("the account name is already taken")]
    UsernameTaken,
    #[error("no staff account has this name")]
    UnknownStaff,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Ephemeral(#[from] EphemeralError),
}

/// How long an enrolment code stays valid.
pub const ENROLMENT_VALID: chrono::Duration = chrono::Duration::days(7);

/// Gives the staff account a new enrolment code valid until `expires_at` and removes its
/// passkeys; answers the code to hand to the person (it is not stored, only its hash).
pub async fn new_enrolment(
    storage: &dyn Storage,
    account_id: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<EnrolmentCode, StaffError> {
    let mut random = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let code = EnrolmentCode::from_random(random);
    enrol_with(storage, account_id, &code, expires_at, now).await?;
    Ok(code)
}

/// Keeps `code` as the account's enrolment code (demo mode gives its staff a published one).
pub async fn enrol_with(
    storage: &dyn Storage,
    account_id: Uuid,
    code: &EnrolmentCode,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StaffError> {
    storage
        .reset_staff_enrolment(account_id, &code.hash(), expires_at, now)
        .await?;
    Ok(())
}

/// Creates a staff account with its service points and enrolment code inside the caller's
/// transaction (the demo seed loads its staff with its directory); `None`, and nothing
/// written, when the account name is taken.
pub async fn add_in(
    tx: &mut Tx,
    account: &NewAccount,
    service_points: &[Uuid],
    code: &EnrolmentCode,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<Account>, StorageError> {
    if store::username_taken_in(tx, &account.username).await? {
        return Ok(None);
    }
    let created = store::create_account_in(tx, account, now).await?;
    for point in service_points {
        store::add_staff_service_point_in(tx, created.id, *point).await?;
    }
    store::insert_enrolment_in(tx, created.id, &code.hash(), expires_at, now).await?;
    Ok(Some(created))
}

/// A new enrolment code for a staff member who lost their passkey: their passkeys are removed
/// and their session ends, so only the new code lets them in again.
pub async fn reset_enrolment(
    storage: &dyn Storage,
    ephemeral: &dyn Ephemeral,
    username: &str,
    now: DateTime<Utc>,
) -> Result<EnrolmentCode, StaffError> {
    let account = match storage.account_by_username(username.trim()).await {
        Ok(a) if a.role.is_staff() => a,
        Ok(_) | Err(StorageError::NotFound) => return Err(StaffError::UnknownStaff),
        Err(e) => return Err(e.into()),
    };
    let code = new_enrolment(storage, account.id, now + ENROLMENT_VALID, now).await?;
    super::sessions::end_all(ephemeral, account.id).await?;
    Ok(code)
}

pub async fn add(
    storage: &dyn Storage,
    username: &str,
    role: Role,
    display_name: Option<&str>,
    password_text: &str,
    service_points: &[Uuid],
) -> Result<(Account, EnrolmentCode), StaffError> {
    let invalid = |e: AccountFieldError| StaffError::Invalid(e.message().to_string());
    if !role.is_staff() {
        return Err(StaffError::Invalid("role must be clerk or admin".into()));
    }
    let username = check_username(username).map_err(invalid)?;
    check_password(password_text, password_text, "password").map_err(invalid)?;
    let real_name = match display_name {
        Some(name) => check_real_name(name).map_err(invalid)?,
        None => username.clone(),
    };
    for id in service_points {
        match storage.service_point(*id).await {
            Ok(_) => {}
            Err(StorageError::NotFound) => return Err(StaffError::UnknownServicePoint(*id)),
            Err(e) => return Err(e.into()),
        }
    }
    let hash = password::hash(password_text).map_err(|e| StaffError::Invalid(e.to_string()))?;
    let account = storage
        .create_account(&NewAccount {
            username,
            password_hash: hash,
            role,
            real_name,
            id_number: None,
            sex: None,
            phone: None,
            region_code: None,
            login_sms_required: false,
        })
        .await
        .map_err(|e| match e {
            StorageError::Conflict(_) => StaffError::UsernameTaken,
            other => other.into(),
        })?;
    storage
        .set_staff_service_points(account.id, service_points)
        .await?;
    let now = Utc::now();
    let code = new_enrolment(storage, account.id, now + ENROLMENT_VALID, now).await?;
    Ok((account, code))
}
