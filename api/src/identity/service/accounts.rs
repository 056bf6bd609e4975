//! Accounts: registration (the Zhejiang manual §2.3), the signed-in account's profile, password and
//! phone changes.

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::sessions::{self, SessionStarted};
use super::{Deps, IdentityError, captcha, sms};
use crate::identity::model::{
    Account, IdNumber, NewAccount, PhoneNumber, Role, Sex, SmsPurpose, check_password, check_phone,
    check_real_name, check_username,
};
use crate::identity::rate_limits::{Outcome, REAUTH_PER_ACCOUNT, Ticket};
use crate::identity::store;
use crate::platform::storage::{Storage, StorageError, StorageResult};
use crate::privacy;

/// An account with what the profile shows beside it: the service points a clerk works for.
pub struct Profile {
    pub account: Account,
    pub service_points: Vec<Uuid>,
}

pub async fn profile(storage: &dyn Storage, account: Account) -> StorageResult<Profile> {
    let service_points = if account.role.is_staff() {
        storage.staff_service_points(account.id).await?
    } else {
        Vec::new()
    };
    Ok(Profile {
        account,
        service_points,
    })
}

/// The account a session stands for; gone accounts end the session's meaning.
pub async fn account(storage: &dyn Storage, account_id: Uuid) -> Result<Account, IdentityError> {
    storage
        .account_by_id(account_id)
        .await
        .map_err(|e| match e {
            StorageError::NotFound => IdentityError::Unauthenticated,
            other => other.into(),
        })
}

/// The signed-in account's profile.
pub async fn me(d: Deps<'_>, account_id: Uuid) -> Result<Profile, IdentityError> {
    let account = account(d.storage, account_id).await?;
    Ok(profile(d.storage, account).await?)
}

/// What the registration form sends.
pub struct Registration {
    pub username: String,
    pub password: String,
    pub password_confirmation: String,
    pub real_name: String,
    pub id_number: String,
    pub sex: Sex,
    pub phone: String,
    pub sms_code: String,
    pub region_code: String,
    pub captcha: String,
    /// The privacy notice version agreed to; only the current one registers.
    pub privacy_notice_version: String,
}

fn taken(e: StorageError) -> IdentityError {
    match e {
        StorageError::Conflict("username") => IdentityError::UsernameTaken,
        StorageError::Conflict("id_number") => IdentityError::IdNumberTaken,
        other => other.into(),
    }
}

/// Registers a personal account.
pub async fn register(d: Deps<'_>, r: Registration) -> Result<SessionStarted, IdentityError> {
    // Every field's form first: nothing is spent or written for a request that cannot pass.
    let username = check_username(&r.username)?;
    check_password(&r.password, &r.password_confirmation, "password")?;
    let real_name = check_real_name(&r.real_name)?;
    let id = IdNumber::parse(&r.id_number)?;
    if id.sex() != r.sex {
        return Err(IdentityError::IdNumberSexMismatch);
    }
    let phone = check_phone(&r.phone, "phone")?;
    let notice_version = &d.config.privacy_notice_version;
    if !privacy::model::is_current(&r.privacy_notice_version, notice_version) {
        return Err(IdentityError::PrivacyNoticeOutdated);
    }
    let region = d
        .storage
        .region(r.region_code.trim())
        .await
        .map_err(|e| match e {
            StorageError::NotFound => IdentityError::UnknownRegion,
            other => other.into(),
        })?;
    captcha::verify(
        d.ephemeral,
        d.captcha_key,
        d.config.captcha_difficulty,
        &r.captcha,
    )
    .await?;
    // No oracle: whether the name or the ID number is taken is said only to someone who has
    // just proved a phone with a fresh code, and the code is spent by that answer, so each
    // probe costs an SMS (ten a day per phone) on top of the captcha.
    let lifetime = Duration::from_secs(d.config.sms_code_lifetime_secs);
    sms::verify_code(
        d.ephemeral,
        lifetime,
        &phone,
        SmsPurpose::Register,
        &r.sms_code,
    )
    .await?;
    if d.storage.username_taken(&username).await? {
        return Err(IdentityError::UsernameTaken);
    }
    if d.storage.resident_id_number_taken(id.as_str()).await? {
        return Err(IdentityError::IdNumberTaken);
    }
    let password_hash = d.hashing.hash(r.password).await?;
    // The account and the notice version agreed to are one write.
    let now = Utc::now();
    let mut tx = d.storage.begin().await?;
    let account = store::create_account_in(
        &mut tx,
        &NewAccount {
            username,
            password_hash,
            role: Role::Resident,
            real_name,
            id_number: Some(id),
            sex: Some(r.sex),
            phone: Some(phone),
            region_code: Some(region.code),
            login_sms_required: true,
        },
        now,
    )
    .await
    .map_err(taken)?;
    privacy::service::record_consent(&mut tx, account.id, notice_version, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account.id, "account registered");
    // The phone was proved a moment ago: the person is signed in on this device at once. A
    // password sign-in on another device still asks for a login code first.
    sessions::start(d, account, false, false).await
}

/// What the password form sends.
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirmation: String,
}

/// Changes the password; the account's session starts again with a fresh id. The current
/// password is an attempt against the account's re-authentication backoff.
pub async fn change_password(
    d: Deps<'_>,
    account_id: Uuid,
    remember: bool,
    c: PasswordChange,
) -> Result<SessionStarted, IdentityError> {
    let account = account(d.storage, account_id).await?;
    let subject = account.id.to_string();
    let ticket = REAUTH_PER_ACCOUNT.take(d.ephemeral, &subject).await?;
    let checked = check_current_password(d, &account, c.current_password, "current_password").await;
    settle(d, &subject, ticket, &checked).await?;
    checked?;
    check_password(
        &c.new_password,
        &c.new_password_confirmation,
        "new_password",
    )?;
    let hash = d.hashing.hash(c.new_password).await?;
    d.storage.set_password_hash(account.id, &hash).await?;
    sessions::start(d, account, remember, false).await
}

async fn check_current_password(
    d: Deps<'_>,
    account: &Account,
    given: String,
    field: &'static str,
) -> Result<(), IdentityError> {
    if d.hashing
        .verify(given, Some(account.password_hash.clone()))
        .await?
    {
        Ok(())
    } else {
        Err(IdentityError::WrongPassword { field })
    }
}

/// An attempt stays counted when it sent a wrong secret; a right one clears the account's
/// failures, and anything else (a malformed field, a busy server) is given back.
async fn settle<T>(
    d: Deps<'_>,
    subject: &str,
    ticket: Ticket,
    outcome: &Result<T, IdentityError>,
) -> Result<(), IdentityError> {
    let outcome = match outcome.as_ref().err() {
        None => Outcome::RightSecret,
        Some(
            IdentityError::WrongPassword { .. }
            | IdentityError::InvalidSmsCode
            | IdentityError::SmsCodeExhausted,
        ) => Outcome::WrongSecret,
        Some(_) => Outcome::NotChecked,
    };
    REAUTH_PER_ACCOUNT
        .settle(d.ephemeral, subject, ticket, outcome)
        .await?;
    Ok(())
}

/// What the phone form sends.
pub struct PhoneChange {
    pub password: String,
    pub new_phone: String,
    pub sms_code: String,
}

/// Changes the phone number: the password and the new phone's SMS code are one attempt
/// against the account's re-authentication backoff.
pub async fn change_phone(
    d: Deps<'_>,
    account_id: Uuid,
    c: PhoneChange,
) -> Result<Profile, IdentityError> {
    let account = account(d.storage, account_id).await?;
    let subject = account.id.to_string();
    let ticket = REAUTH_PER_ACCOUNT.take(d.ephemeral, &subject).await?;
    let checked = check_phone_change(d, &account, c).await;
    settle(d, &subject, ticket, &checked).await?;
    let phone = checked?;
    d.storage.set_phone(account.id, phone.as_str()).await?;
    let account = d.storage.account_by_id(account.id).await?;
    Ok(profile(d.storage, account).await?)
}

/// The password, then the new phone's form and its code: the new phone if all are right.
async fn check_phone_change(
    d: Deps<'_>,
    account: &Account,
    c: PhoneChange,
) -> Result<PhoneNumber, IdentityError> {
    check_current_password(d, account, c.password, "password").await?;
    let phone = check_phone(&c.new_phone, "new_phone")?;
    let lifetime = Duration::from_secs(d.config.sms_code_lifetime_secs);
    sms::verify_code(
        d.ephemeral,
        lifetime,
        &phone,
        SmsPurpose::ChangePhone,
        &c.sms_code,
    )
    .await?;
    Ok(phone)
}
