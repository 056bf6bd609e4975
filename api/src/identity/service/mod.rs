//! Identity's use cases: registration and the profile, password and phone changes, sign-in and
//! the session, SMS codes, the captcha, passkey ceremonies and step-up, staff bootstrap. Each
//! takes what it reaches explicitly ([`Deps`] when there are several) and answers with an
//! [`IdentityError`].

use uuid::Uuid;
use webauthn_rs::Webauthn;

pub mod accounts;
pub mod captcha;
pub mod passkeys;
pub mod second_factor;
pub mod sessions;
pub mod sms;
pub mod staff;
pub mod step_up;

use super::model::{AccountFieldError, IdNumberError, Role, Staff};
use super::password::{Hashing, HashingError};
use super::rate_limits::RateLimitError;
use super::store;
use crate::notifications::sms::SmsSender;
use crate::platform::config::{Config, Secret};
use crate::platform::ephemeral::{Ephemeral, EphemeralError};
use crate::platform::storage::{Storage, StorageError, StorageResult, Tx};

/// What identity's use cases reach: the stores, the SMS gateway, the WebAuthn relying party,
/// the captcha key and the settings that tune codes and challenges.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub storage: &'a dyn Storage,
    pub ephemeral: &'a dyn Ephemeral,
    pub sms: &'a dyn SmsSender,
    pub webauthn: &'a Webauthn,
    pub captcha_key: &'a Secret,
    pub hashing: &'a Hashing,
    pub config: &'a Config,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Field(#[from] AccountFieldError),
    #[error(transparent)]
    IdNumber(#[from] IdNumberError),
    #[error("the sex does not match the ID number")]
    IdNumberSexMismatch,
    #[error("unknown region")]
    UnknownRegion,
    /// The privacy notice agreed to is not the current one: read the new one.
    #[error("the privacy notice agreed to is outdated")]
    PrivacyNoticeOutdated,
    #[error("the account name is already taken")]
    UsernameTaken,
    #[error("the ID number already has an account")]
    IdNumberTaken,
    /// The current password given in `field` is not the account's.
    #[error("wrong password in {field}")]
    WrongPassword { field: &'static str },
    #[error("the captcha solution is not valid")]
    InvalidCaptcha,
    #[error("the captcha solution was used before")]
    CaptchaReplayed,
    /// Signed out, this needs a solved captcha.
    #[error("a captcha solution is required")]
    CaptchaRequired,
    #[error("the SMS code is wrong or expired")]
    InvalidSmsCode,
    /// A signed-in account's step-up code goes to its own phone only.
    #[error("not the account's phone")]
    NotOwnPhone,
    /// The code had its guesses; only a new code can be spent now.
    #[error("the SMS code has had its guesses")]
    SmsCodeExhausted,
    #[error("an SMS code was sent moments ago")]
    SmsTooFrequent { retry_after: u64 },
    #[error("the phone has had its codes for today")]
    SmsDailyLimit { retry_after: u64 },
    /// The SMS gateway did not take the code (the provider failed, throttled or timed out).
    #[error("the SMS gateway did not take the message")]
    SmsNotSent { retry_after: u64 },
    #[error(transparent)]
    RateLimited(#[from] RateLimitError),
    /// The session's account no longer exists.
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong account name or password")]
    InvalidCredentials,
    /// The sign-in needs an SMS code; one has been sent unless one went out moments ago,
    /// in which case `retry_after` says when to ask again.
    #[error("an SMS code is required")]
    SmsCodeRequired {
        phone_masked: String,
        retry_after: Option<u64>,
    },
    #[error("the passkey ceremony was rejected")]
    PasskeyRejected,
    #[error("the passkey sign-in was rejected")]
    PasskeyLoginRejected,
    #[error("the ceremony expired")]
    CeremonyExpired,
    #[error("the passkey is already registered")]
    PasskeyExists,
    /// The operation needs a step-up passed within the freshness window.
    #[error("a fresh step-up is required")]
    StepUpRequired,
    /// An account with a passkey steps up with it, not with an SMS code.
    #[error("the account steps up with its passkey")]
    PasskeyRequired,
    /// A passkey step-up for an account that has none.
    #[error("the account has no passkey")]
    NoPasskey,
    /// An SMS step-up needs a phone number on the account.
    #[error("the account has no phone")]
    PhoneRequired,
    /// Too many failed step-ups: locked out for `retry_after` more seconds.
    #[error("step-up locked for {retry_after}s")]
    StepUpLocked { retry_after: u64 },
    /// A staff sign-in's second step came too late or twice: start again with the password.
    #[error("the staff sign-in expired")]
    SecondFactorExpired,
    /// The staff enrolment code is wrong, spent or expired.
    #[error("the enrolment code is not valid")]
    InvalidEnrolmentCode,
    /// An enrolment code for an account that already has its passkey.
    #[error("the account already has a passkey")]
    PasskeyEnrolled,
    /// A clerk or administrator keeps at least one passkey: it is their second factor.
    #[error("the last passkey of a staff account")]
    LastStaffPasskey,
    /// Every password hasher stayed busy: come back shortly.
    #[error("the password hashers are busy")]
    Busy,
    /// Something that cannot fail did (hashing, JSON of our own values); logged where it happens.
    #[error("internal error: {0}")]
    Internal(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Ephemeral(#[from] EphemeralError),
}

impl From<HashingError> for IdentityError {
    fn from(e: HashingError) -> Self {
        match e {
            HashingError::Busy => IdentityError::Busy,
            HashingError::Failed => IdentityError::Internal("password hash"),
        }
    }
}

/// Whether the staff member serves the service point: administrators serve every one, a clerk
/// the points they are assigned to, anyone else none.
pub async fn serves(storage: &dyn Storage, staff: Staff, point: Uuid) -> StorageResult<bool> {
    Ok(match staff.role {
        Role::Admin => true,
        Role::Clerk => storage
            .staff_service_points(staff.account_id)
            .await?
            .contains(&point),
        Role::Resident | Role::Unit => false,
    })
}

/// Serialises changes to one account's applications until the transaction ends (the
/// five-people rule is checked against what the account already holds).
pub async fn hold_account(tx: &mut Tx, account_id: Uuid) -> StorageResult<()> {
    store::lock_account(tx, account_id).await
}

/// The service point's custody account (opened on first need, inside the caller's
/// transaction): walk-ins are filed under it, never under the clerk who serves the person.
pub async fn custody_account(tx: &mut Tx, point: Uuid) -> StorageResult<Uuid> {
    store::custody_account(tx, point).await
}
