//! The second step of a clerk's or administrator's sign-in: after the right password, a
//! passkey assertion, or, the first time, the enrolment of a passkey with the one-time code
//! `permitd staff add` printed. Between the two steps the sign-in is a ticket: a random value
//! the client holds, kept hashed for five minutes in the ephemeral store (so any instance can
//! finish it) and spent by the step that ends it.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use webauthn_rs::prelude::{PasskeyAuthentication, PasskeyRegistration};

use super::passkeys;
use super::sessions::{self, SessionStarted, SignInAttempt};
use super::{Deps, IdentityError};
use crate::identity::model::{Account, EnrolmentCode};
use crate::identity::rate_limits::Outcome;
use crate::platform::storage::StorageError;

const TICKET_TTL: Duration = Duration::from_secs(5 * 60);

/// What a staff sign-in needs next, for the client.
pub struct SecondFactor {
    /// The ticket the next step sends back.
    pub ticket: String,
    /// The account has no passkey yet: the next step sends the enrolment code.
    pub enrolment_required: bool,
    /// For an account with passkeys: the request options for the browser's assertion.
    pub options: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    account_id: Uuid,
    /// The account name as sign-in counts failures against it.
    subject: String,
    remember: bool,
    stage: Stage,
}

#[derive(Serialize, Deserialize)]
enum Stage {
    /// Waiting for an assertion by one of the account's passkeys.
    Assert { state: PasskeyAuthentication },
    /// Waiting for the enrolment code.
    Enrol,
    /// The code was right: waiting for the new passkey.
    Register {
        code_hash: String,
        state: PasskeyRegistration,
    },
}

fn ticket_key(ticket: &str) -> String {
    format!(
        "staff-sign-in:{}",
        hex::encode(Sha256::digest(ticket.as_bytes()))
    )
}

async fn keep(d: Deps<'_>, ticket: &str, pending: &Pending) -> Result<(), IdentityError> {
    let raw =
        serde_json::to_string(pending).map_err(|_| IdentityError::Internal("sign-in ticket"))?;
    d.ephemeral
        .put(&ticket_key(ticket), &raw, TICKET_TTL)
        .await?;
    Ok(())
}

async fn take(d: Deps<'_>, ticket: &str) -> Result<Pending, IdentityError> {
    let raw = d
        .ephemeral
        .take(&ticket_key(ticket))
        .await?
        .ok_or(IdentityError::SecondFactorExpired)?;
    serde_json::from_str(&raw).map_err(|_| IdentityError::SecondFactorExpired)
}

/// The second step for a staff account whose password was right.
pub(super) async fn begin(
    d: Deps<'_>,
    account: &Account,
    subject: &str,
    remember: bool,
) -> Result<SecondFactor, IdentityError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let (stage, options) = match passkeys::assertion_for(d, account.id).await? {
        Some((options, state)) => (Stage::Assert { state }, Some(options)),
        None => (Stage::Enrol, None),
    };
    let enrolment_required = matches!(stage, Stage::Enrol);
    let pending = Pending {
        account_id: account.id,
        subject: subject.to_string(),
        remember,
        stage,
    };
    keep(d, &ticket, &pending).await?;
    Ok(SecondFactor {
        ticket,
        enrolment_required,
        options,
    })
}

/// The enrolment code for an account without a passkey: when it is right, the creation options
/// for the new passkey. A wrong code counts against the account name as a wrong password does.
pub async fn enrol(
    d: Deps<'_>,
    ip: &str,
    ticket: &str,
    typed_code: &str,
) -> Result<serde_json::Value, IdentityError> {
    let mut pending = take(d, ticket).await?;
    if !matches!(pending.stage, Stage::Enrol) {
        // The ticket stays usable for the assertion it was issued for.
        keep(d, ticket, &pending).await?;
        return Err(IdentityError::PasskeyEnrolled);
    }
    let attempt = SignInAttempt::take(d.ephemeral, ip, &pending.subject).await?;
    let checked = match EnrolmentCode::parse(typed_code) {
        None => Err(IdentityError::InvalidEnrolmentCode),
        Some(code) => {
            let hash = code.hash();
            match d
                .storage
                .staff_enrolment_valid(pending.account_id, &hash, Utc::now())
                .await
            {
                Ok(true) => Ok(hash),
                Ok(false) => Err(IdentityError::InvalidEnrolmentCode),
                Err(e) => Err(e.into()),
            }
        }
    };
    let by_account = match &checked {
        Ok(_) => Outcome::NotChecked,
        Err(IdentityError::InvalidEnrolmentCode) => Outcome::WrongSecret,
        Err(_) => Outcome::NotChecked,
    };
    attempt
        .settle(d.ephemeral, Outcome::NotChecked, by_account)
        .await?;
    let code_hash = match checked {
        Ok(hash) => hash,
        Err(e) => {
            // The person may type the code again within the ticket's time.
            keep(d, ticket, &pending).await?;
            return Err(e);
        }
    };
    let account = d.storage.account_by_id(pending.account_id).await?;
    let (options, state) = passkeys::registration_for(d, &account)?;
    pending.stage = Stage::Register { code_hash, state };
    keep(d, ticket, &pending).await?;
    Ok(options)
}

/// Ends a staff sign-in with the browser's answer: an assertion by one of the account's
/// passkeys, or the new passkey its enrolment code allowed (the code is then spent). A failed
/// assertion counts against the address and the account name; the session starts stepped up.
pub async fn finish(
    d: Deps<'_>,
    ip: &str,
    ticket: &str,
    credential: serde_json::Value,
) -> Result<SessionStarted, IdentityError> {
    let pending = take(d, ticket).await?;
    let attempt = SignInAttempt::take(d.ephemeral, ip, &pending.subject).await?;
    let proved = match &pending.stage {
        // A refused assertion is answered as a wrong password is.
        Stage::Assert { state } => {
            passkeys::check_assertion(d, pending.account_id, state, credential)
                .await
                .map_err(|e| match e {
                    IdentityError::PasskeyRejected => IdentityError::PasskeyLoginRejected,
                    other => other,
                })
        }
        Stage::Register { code_hash, state } => {
            enrolled(d, pending.account_id, code_hash, state, credential).await
        }
        Stage::Enrol => Err(IdentityError::InvalidEnrolmentCode),
    };
    let (by_address, by_account) = match &proved {
        Ok(()) => (Outcome::NotChecked, Outcome::RightSecret),
        Err(IdentityError::PasskeyLoginRejected) => (Outcome::WrongSecret, Outcome::WrongSecret),
        Err(_) => (Outcome::NotChecked, Outcome::NotChecked),
    };
    attempt.settle(d.ephemeral, by_address, by_account).await?;
    proved?;
    let account = d.storage.account_by_id(pending.account_id).await?;
    tracing::info!(account = %account.id, "staff second factor passed");
    sessions::start(d, account, pending.remember, true).await
}

/// Stores the passkey a staff enrolment created, spending the code in the same transaction.
async fn enrolled(
    d: Deps<'_>,
    account_id: Uuid,
    code_hash: &str,
    state: &PasskeyRegistration,
    credential: serde_json::Value,
) -> Result<(), IdentityError> {
    let stored = passkeys::registered(d, account_id, "工作人员通行密钥".into(), state, credential)?;
    match d
        .storage
        .finish_staff_enrolment(&stored, code_hash, Utc::now())
        .await
    {
        Ok(()) => {
            tracing::info!(account = %account_id, "staff passkey enrolled");
            Ok(())
        }
        Err(StorageError::NotFound) => Err(IdentityError::InvalidEnrolmentCode),
        Err(StorageError::Conflict(_)) => Err(IdentityError::PasskeyExists),
        Err(e) => Err(e.into()),
    }
}
