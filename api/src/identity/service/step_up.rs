//! Step-up for the session: an SMS code (accounts without a passkey) or a passkey assertion
//! (accounts with one must use it) makes the session fresh for a short window, which adding or
//! deleting a passkey, binding a device key, changing the password or the phone and claiming a
//! permit need. Wrong codes and failed assertions count against the account, with a lockout.
//!
//! A step-up also marks the device it happened on as seen: a long-lived random device id (an
//! HttpOnly cookie) is remembered for the account, hashed, in the ephemeral store, and the full
//! presentation is shown only on a seen device (or in a fresh session).

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::passkeys::{self, Ceremony};
use super::sessions::{self, Session};
use super::{Deps, IdentityError, accounts, sms};
use crate::identity::model::{PhoneNumber, SmsPurpose};
use crate::identity::rate_limits::{Backoff, Outcome, RateLimitError, Ticket};
use crate::platform::ephemeral::{Ephemeral, EphemeralError};

/// Failed step-ups (wrong SMS codes, rejected assertions) per account: 5 free in an hour, then
/// lockouts doubling from 30 s to 15 min.
pub const STEP_UP_PER_ACCOUNT: Backoff = Backoff::hourly("step-up-account", 5);

/// How long a device stays seen for an account after a step-up on it.
pub const DEVICE_REMEMBERED: Duration = Duration::from_secs(180 * 24 * 3600);

/// A lockout is the step-up's own refusal, in its own words.
fn attempts(e: RateLimitError) -> IdentityError {
    match e {
        RateLimitError::Locked { retry_after } => IdentityError::StepUpLocked { retry_after },
        other => IdentityError::RateLimited(other),
    }
}

async fn check(d: Deps<'_>, account_id: Uuid) -> Result<(), IdentityError> {
    STEP_UP_PER_ACCOUNT
        .check(d.ephemeral, &account_id.to_string())
        .await
        .map_err(attempts)
}

/// Runs one step-up check as an attempt taken from the account's backoff before the secret is
/// looked at, so parallel guesses cannot pass the limit; a wrong secret stays counted.
async fn attempt(
    d: Deps<'_>,
    session: &Session,
    now: DateTime<Utc>,
    wrong: fn(&IdentityError) -> bool,
    checked: Result<(), IdentityError>,
    ticket: Ticket,
) -> Result<(), IdentityError> {
    let subject = session.account_id.to_string();
    let outcome = match &checked {
        Ok(()) => Outcome::RightSecret,
        Err(e) if wrong(e) => Outcome::WrongSecret,
        Err(_) => Outcome::NotChecked,
    };
    STEP_UP_PER_ACCOUNT
        .settle(d.ephemeral, &subject, ticket, outcome)
        .await
        .map_err(attempts)?;
    checked?;
    passed(d, session, now).await
}

async fn take(d: Deps<'_>, account_id: Uuid) -> Result<Ticket, IdentityError> {
    STEP_UP_PER_ACCOUNT
        .take(d.ephemeral, &account_id.to_string())
        .await
        .map_err(attempts)
}

async fn passed(d: Deps<'_>, session: &Session, now: DateTime<Utc>) -> Result<(), IdentityError> {
    STEP_UP_PER_ACCOUNT
        .record_success(d.ephemeral, &session.account_id.to_string())
        .await
        .map_err(attempts)?;
    sessions::mark_stepped_up(d.ephemeral, session, now).await?;
    tracing::info!(account = %session.account_id, "stepped up");
    Ok(())
}

/// The phone an SMS step-up goes to; an account with a passkey must use it instead.
pub async fn sms_phone(d: Deps<'_>, account_id: Uuid) -> Result<PhoneNumber, IdentityError> {
    if !d.storage.passkeys_of(account_id).await?.is_empty() {
        return Err(IdentityError::PasskeyRequired);
    }
    let account = accounts::account(d.storage, account_id).await?;
    account
        .phone
        .as_deref()
        .and_then(PhoneNumber::parse)
        .ok_or(IdentityError::PhoneRequired)
}

/// Step-up with the SMS code sent to the account's phone with purpose `step_up`.
pub async fn with_sms(
    d: Deps<'_>,
    session: &Session,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let ticket = take(d, session.account_id).await?;
    let checked = async {
        let phone = sms_phone(d, session.account_id).await?;
        let lifetime = Duration::from_secs(d.config.sms_code_lifetime_secs);
        sms::verify_code(d.ephemeral, lifetime, &phone, SmsPurpose::StepUp, code).await
    }
    .await;
    let wrong_code = |e: &IdentityError| {
        matches!(
            e,
            IdentityError::InvalidSmsCode | IdentityError::SmsCodeExhausted
        )
    };
    attempt(d, session, now, wrong_code, checked, ticket).await
}

/// Starts a passkey step-up; an account without a passkey uses an SMS code instead.
pub async fn start_passkey(d: Deps<'_>, session: &Session) -> Result<Ceremony, IdentityError> {
    check(d, session.account_id).await?;
    passkeys::start_step_up(d, session.account_id)
        .await?
        .ok_or(IdentityError::NoPasskey)
}

/// Finishes a passkey step-up with the browser's assertion.
pub async fn finish_passkey(
    d: Deps<'_>,
    session: &Session,
    ceremony: Uuid,
    credential: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let ticket = take(d, session.account_id).await?;
    let checked = passkeys::finish_step_up(d, session.account_id, ceremony, credential).await;
    let rejected = |e: &IdentityError| matches!(e, IdentityError::PasskeyRejected);
    attempt(d, session, now, rejected, checked, ticket).await
}

fn device_key(account_id: Uuid, device: &str) -> String {
    format!(
        "device:{account_id}:{}",
        hex::encode(Sha256::digest(device.as_bytes()))
    )
}

/// A device id as the cookie carries it: 32 random bytes, base64url.
fn well_formed(device: &str) -> bool {
    device.len() == 43
        && device
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Remembers the device a step-up passed on for the account; answers the device id to keep
/// (a new one when the device had none).
pub async fn remember_device(
    ephemeral: &dyn Ephemeral,
    account_id: Uuid,
    device: Option<&str>,
) -> Result<String, EphemeralError> {
    let device = match device.filter(|d| well_formed(d)) {
        Some(d) => d.to_string(),
        None => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        }
    };
    ephemeral
        .put(&device_key(account_id, &device), "1", DEVICE_REMEMBERED)
        .await?;
    Ok(device)
}

/// Whether a step-up has passed on this device for the account.
pub async fn device_seen(
    ephemeral: &dyn Ephemeral,
    account_id: Uuid,
    device: Option<&str>,
) -> Result<bool, EphemeralError> {
    let Some(device) = device.filter(|d| well_formed(d)) else {
        return Ok(false);
    };
    Ok(ephemeral
        .get(&device_key(account_id, device))
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ephemeral::MemoryStore;

    #[tokio::test]
    async fn a_device_is_seen_only_by_the_account_it_stepped_up_for() {
        let store = MemoryStore::new();
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(!device_seen(&store, me, None).await.unwrap());
        let device = remember_device(&store, me, None).await.unwrap();
        assert!(well_formed(&device));
        assert!(device_seen(&store, me, Some(&device)).await.unwrap());
        assert!(!device_seen(&store, other, Some(&device)).await.unwrap());
        // A made-up cookie is replaced by a fresh id, never stored as sent.
        let again = remember_device(&store, me, Some("x")).await.unwrap();
        assert_ne!(again, "x");
        assert!(!device_seen(&store, me, Some("x")).await.unwrap());
        // A known device keeps its id.
        assert_eq!(
            remember_device(&store, me, Some(&device)).await.unwrap(),
            device
        );
    }
}
