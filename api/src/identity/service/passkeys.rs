//! Passkeys (WebAuthn, webauthn-rs): register, list, delete, sign in with one, and the step-up
//! before a permit QR is first shown. Ceremony state lives 5 minutes in the ephemeral store,
//! so any instance can finish it.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

use super::sessions::{self, SessionStarted};
use super::{Deps, IdentityError, accounts};
use crate::identity::model::{StoredPasskey, passkey_name};
use crate::identity::rate_limits::{LOGIN_PER_ACCOUNT, LOGIN_PER_IP, Outcome};
use crate::platform::storage::StorageError;

const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

/// A ceremony begun: its id for the finish call, and the options for the browser.
pub struct Ceremony {
    pub id: Uuid,
    pub options: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct RegistrationCeremony {
    account_id: Uuid,
    name: String,
    state: PasskeyRegistration,
}

/// A passkey sign-in in progress, with the subject its failures count against: the account
/// name as password sign-in counts it, so both ways in share one backoff per account.
#[derive(Serialize, Deserialize)]
struct LoginCeremony {
    subject: String,
    attempt: LoginAttempt,
}

#[derive(Serialize, Deserialize)]
enum LoginAttempt {
    Real {
        account_id: Uuid,
        state: PasskeyAuthentication,
    },
    /// For an unknown account or one without passkeys: the same answer shape, never succeeds.
    Decoy,
}

/// The subject password sign-in counts failures against (`sessions::sign_in`).
fn login_subject(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

/// A step-up assertion (the fresh passkey check before a permit QR is first shown) in progress.
#[derive(Serialize, Deserialize)]
struct StepUpCeremony {
    account_id: Uuid,
    state: PasskeyAuthentication,
}

fn webauthn_failed(e: impl std::fmt::Display) -> IdentityError {
    tracing::info!(error = %e, "passkey ceremony rejected");
    IdentityError::PasskeyRejected
}

fn unreadable(p: &StoredPasskey) -> Result<Passkey, IdentityError> {
    p.passkey().map_err(|_| {
        tracing::error!(passkey = %p.id, "stored passkey cannot be read");
        IdentityError::Internal("stored passkey")
    })
}

fn options_json(options: impl Serialize) -> Result<serde_json::Value, IdentityError> {
    serde_json::to_value(options).map_err(|_| IdentityError::Internal("ceremony options"))
}

async fn keep<T: Serialize>(
    d: Deps<'_>,
    kind: &str,
    id: Uuid,
    value: &T,
) -> Result<(), IdentityError> {
    let raw =
        serde_json::to_string(value).map_err(|_| IdentityError::Internal("ceremony state"))?;
    d.ephemeral
        .put(&format!("webauthn-{kind}:{id}"), &raw, CEREMONY_TTL)
        .await?;
    Ok(())
}

async fn take<T: for<'de> Deserialize<'de>>(
    d: Deps<'_>,
    kind: &str,
    id: Uuid,
) -> Result<T, IdentityError> {
    let raw = d
        .ephemeral
        .take(&format!("webauthn-{kind}:{id}"))
        .await?
        .ok_or(IdentityError::CeremonyExpired)?;
    serde_json::from_str(&raw).map_err(|_| IdentityError::CeremonyExpired)
}

/// A plausible request for an account that cannot sign in with a passkey, so the answer does
/// not tell whether the account exists.
fn decoy_options(d: Deps<'_>, username: &str) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut challenge = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    let fake_id = sha2::Sha256::digest(format!("{}:{}", d.captcha_key.expose(), username));
    serde_json::json!({
        "publicKey": {
            "challenge": b64.encode(challenge),
            "timeout": 300000,
            "rpId": d.config.webauthn_rp_id,
            "allowCredentials": [{"type": "public-key", "id": b64.encode(fake_id)}],
            "userVerification": "required"
        }
    })
}

/// Starts registering a passkey for the signed-in account.
pub async fn start_registration(
    d: Deps<'_>,
    account_id: Uuid,
    name: Option<String>,
) -> Result<Ceremony, IdentityError> {
    let account = accounts::account(d.storage, account_id).await?;
    let existing = d.storage.passkeys_of(account.id).await?;
    let exclude = existing
        .iter()
        .map(|p| unreadable(p).map(|k| k.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let (options, reg_state) = d
        .webauthn
        .start_passkey_registration(
            account.id,
            &account.username,
            &account.real_name,
            Some(exclude),
        )
        .map_err(webauthn_failed)?;
    let id = Uuid::new_v4();
    keep(
        d,
        "reg",
        id,
        &RegistrationCeremony {
            account_id: account.id,
            name: passkey_name(name),
            state: reg_state,
        },
    )
    .await?;
    Ok(Ceremony {
        id,
        options: options_json(options)?,
    })
}

/// Finishes registering: the browser's answer to the options.
pub async fn finish_registration(
    d: Deps<'_>,
    account_id: Uuid,
    id: Uuid,
    credential: serde_json::Value,
) -> Result<StoredPasskey, IdentityError> {
    let ceremony: RegistrationCeremony = take(d, "reg", id).await?;
    if ceremony.account_id != account_id {
        return Err(IdentityError::CeremonyExpired);
    }
    let stored = registered(
        d,
        ceremony.account_id,
        ceremony.name,
        &ceremony.state,
        credential,
    )?;
    d.storage.add_passkey(&stored).await.map_err(|e| match e {
        StorageError::Conflict(_) => IdentityError::PasskeyExists,
        other => other.into(),
    })?;
    Ok(stored)
}

/// The account's passkeys.
pub async fn list(d: Deps<'_>, account_id: Uuid) -> Result<Vec<StoredPasskey>, IdentityError> {
    Ok(d.storage.passkeys_of(account_id).await?)
}

/// Deletes one of the account's passkeys; a clerk or administrator keeps their last one (it is
/// their second factor: without it they could not sign in).
pub async fn delete(d: Deps<'_>, account_id: Uuid, id: Uuid) -> Result<(), IdentityError> {
    let account = accounts::account(d.storage, account_id).await?;
    if account.role.is_staff() {
        let keys = d.storage.passkeys_of(account_id).await?;
        if keys.len() <= 1 && keys.iter().any(|k| k.id == id) {
            return Err(IdentityError::LastStaffPasskey);
        }
    }
    Ok(d.storage.delete_passkey(account_id, id).await?)
}

/// Starts signing in with a passkey; an account that cannot gets a decoy ceremony.
pub async fn start_login(d: Deps<'_>, ip: &str, username: &str) -> Result<Ceremony, IdentityError> {
    let subject = login_subject(username);
    LOGIN_PER_IP.check(d.ephemeral, ip).await?;
    LOGIN_PER_ACCOUNT.check(d.ephemeral, &subject).await?;
    let username = username.trim();
    let id = Uuid::new_v4();
    let account = match d.storage.account_by_username(username).await {
        Ok(a) => Some(a),
        Err(StorageError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let keys = match &account {
        Some(a) => d.storage.passkeys_of(a.id).await?,
        None => Vec::new(),
    };
    let (options, attempt) = match (account, keys.is_empty()) {
        (Some(account), false) => {
            let passkeys = keys.iter().map(unreadable).collect::<Result<Vec<_>, _>>()?;
            let (options, auth_state) = d
                .webauthn
                .start_passkey_authentication(&passkeys)
                .map_err(webauthn_failed)?;
            (
                options_json(options)?,
                LoginAttempt::Real {
                    account_id: account.id,
                    state: auth_state,
                },
            )
        }
        _ => (decoy_options(d, username), LoginAttempt::Decoy),
    };
    keep(d, "login", id, &LoginCeremony { subject, attempt }).await?;
    Ok(Ceremony { id, options })
}

/// Finishes signing in with a passkey. An unknown account, an account without a passkey, a
/// malformed assertion and a wrong one are one answer, and each counts one failure against the
/// address and the account name, as a wrong password does.
pub async fn finish_login(
    d: Deps<'_>,
    ip: &str,
    id: Uuid,
    credential: serde_json::Value,
) -> Result<SessionStarted, IdentityError> {
    let LoginCeremony { subject, attempt } = take(d, "login", id).await?;
    let taken = sessions::SignInAttempt::take(d.ephemeral, ip, &subject).await?;
    let verified = verify_login(d, attempt, credential).await;
    let (by_address, by_account) = match &verified {
        Ok(_) => (Outcome::NotChecked, Outcome::RightSecret),
        Err(IdentityError::PasskeyLoginRejected) => (Outcome::WrongSecret, Outcome::WrongSecret),
        Err(_) => (Outcome::NotChecked, Outcome::NotChecked),
    };
    taken.settle(d.ephemeral, by_address, by_account).await?;
    let account = d.storage.account_by_id(verified?).await?;
    // A passkey with user verification is two factors in one: a clerk signed in with it has
    // just stepped up.
    let stepped_up = account.role.is_staff();
    sessions::start(d, account, false, stepped_up).await
}

/// The account a sign-in assertion proves, or `PasskeyLoginRejected` for every way it fails.
async fn verify_login(
    d: Deps<'_>,
    attempt: LoginAttempt,
    credential: serde_json::Value,
) -> Result<Uuid, IdentityError> {
    let LoginAttempt::Real {
        account_id,
        state: auth_state,
    } = attempt
    else {
        return Err(IdentityError::PasskeyLoginRejected);
    };
    let rejected = |e: &dyn std::fmt::Display| {
        tracing::info!(error = %e, "passkey login rejected");
        IdentityError::PasskeyLoginRejected
    };
    let credential: PublicKeyCredential =
        serde_json::from_value(credential).map_err(|e| rejected(&e))?;
    let result = d
        .webauthn
        .finish_passkey_authentication(&credential, &auth_state)
        .map_err(|e| rejected(&e))?;
    remember_use(d, account_id, &result).await?;
    Ok(account_id)
}

/// Starts a step-up with one of the account's passkeys; `None` when it has none (the caller
/// then uses an SMS code).
pub async fn start_step_up(
    d: Deps<'_>,
    account_id: Uuid,
) -> Result<Option<Ceremony>, IdentityError> {
    let Some((options, auth_state)) = assertion_for(d, account_id).await? else {
        return Ok(None);
    };
    let id = Uuid::new_v4();
    keep(
        d,
        "step-up",
        id,
        &StepUpCeremony {
            account_id,
            state: auth_state,
        },
    )
    .await?;
    Ok(Some(Ceremony { id, options }))
}

/// Finishes a step-up: the assertion must come from one of the same account's passkeys.
pub async fn finish_step_up(
    d: Deps<'_>,
    account_id: Uuid,
    id: Uuid,
    credential: serde_json::Value,
) -> Result<(), IdentityError> {
    let ceremony: StepUpCeremony = take(d, "step-up", id).await?;
    if ceremony.account_id != account_id {
        return Err(IdentityError::CeremonyExpired);
    }
    check_assertion(d, account_id, &ceremony.state, credential).await
}

/// Request options and state for an assertion by one of the account's passkeys; `None` when it
/// has none.
pub(super) async fn assertion_for(
    d: Deps<'_>,
    account_id: Uuid,
) -> Result<Option<(serde_json::Value, PasskeyAuthentication)>, IdentityError> {
    let keys = d.storage.passkeys_of(account_id).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    let passkeys = keys.iter().map(unreadable).collect::<Result<Vec<_>, _>>()?;
    let (options, state) = d
        .webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(webauthn_failed)?;
    Ok(Some((options_json(options)?, state)))
}

/// Checks an assertion against the state it answers and keeps the passkey's counter current.
pub(super) async fn check_assertion(
    d: Deps<'_>,
    account_id: Uuid,
    state: &PasskeyAuthentication,
    credential: serde_json::Value,
) -> Result<(), IdentityError> {
    let credential: PublicKeyCredential =
        serde_json::from_value(credential).map_err(webauthn_failed)?;
    let result = d
        .webauthn
        .finish_passkey_authentication(&credential, state)
        .map_err(webauthn_failed)?;
    remember_use(d, account_id, &result).await
}

/// Creation options and state for a new passkey of the account (none of its own excluded: it
/// has none when it enrols).
pub(super) fn registration_for(
    d: Deps<'_>,
    account: &crate::identity::model::Account,
) -> Result<(serde_json::Value, PasskeyRegistration), IdentityError> {
    let (options, state) = d
        .webauthn
        .start_passkey_registration(account.id, &account.username, &account.real_name, None)
        .map_err(webauthn_failed)?;
    Ok((options_json(options)?, state))
}

/// The passkey a registration answer creates, ready to store.
pub(super) fn registered(
    d: Deps<'_>,
    account_id: Uuid,
    name: String,
    state: &PasskeyRegistration,
    credential: serde_json::Value,
) -> Result<StoredPasskey, IdentityError> {
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(credential).map_err(webauthn_failed)?;
    let passkey = d
        .webauthn
        .finish_passkey_registration(&credential, state)
        .map_err(webauthn_failed)?;
    Ok(StoredPasskey {
        id: Uuid::new_v4(),
        account_id,
        name,
        credential_id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(passkey.cred_id()),
        credential_json: serde_json::to_string(&passkey)
            .map_err(|_| IdentityError::Internal("passkey"))?,
        created_at: Utc::now(),
        last_used_at: None,
    })
}

/// Keeps the signature counter and backup state of the passkey that was used current.
async fn remember_use(
    d: Deps<'_>,
    account_id: Uuid,
    result: &AuthenticationResult,
) -> Result<(), IdentityError> {
    for stored in d.storage.passkeys_of(account_id).await? {
        let mut passkey = unreadable(&stored)?;
        if passkey.update_credential(result).is_some() {
            let json =
                serde_json::to_string(&passkey).map_err(|_| IdentityError::Internal("passkey"))?;
            d.storage
                .update_passkey(stored.id, &json, Utc::now())
                .await?;
        }
    }
    Ok(())
}
