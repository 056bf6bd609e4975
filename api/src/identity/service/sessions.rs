//! Sessions: sign-in by password (with an SMS code on the first login and after a phone
//! change), one active session per account, resolution of a session id, sign-out.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::accounts::{Profile, profile};
use super::{Deps, IdentityError, sms};
use crate::identity::model::{Account, Role, SmsPurpose};
use crate::identity::rate_limits::{LOGIN_PER_ACCOUNT, LOGIN_PER_IP};
use crate::platform::ephemeral::EphemeralError;
use crate::platform::storage::StorageError;

const SESSION_HOURS: u64 = 12;
const REMEMBER_DAYS: u64 = 30;

/// A live session as kept in the ephemeral store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    account_id: Uuid,
    role: Role,
    remember: bool,
    created_at: DateTime<Utc>,
}

/// A live session: who it is for, and the key it is stored under.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: Uuid,
    pub role: Role,
    pub remember: bool,
    pub key: String,
}

/// A session just started: the raw id for the cookie, how long a remembered one lasts, and
/// the account's profile.
pub struct SessionStarted {
    pub session_id: String,
    /// `Some` for a remembered session: the cookie's Max-Age in seconds.
    pub max_age: Option<u64>,
    pub profile: Profile,
}

/// What the sign-in form sends.
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: String,
    pub sms_code: Option<&'a str>,
    pub remember: bool,
}

/// Sessions are stored under a hash of their id, so a dump of the store cannot be replayed.
fn session_key(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session a raw session id stands for, if it is live and still the account's current one.
pub async fn resolve(d: Deps<'_>, session_id: &str) -> Result<Option<Session>, EphemeralError> {
    let ephemeral = d.ephemeral;
    let key = session_key(session_id);
    let Some(raw) = ephemeral.get(&format!("session:{key}")).await? else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_str::<SessionRecord>(&raw) else {
        return Ok(None);
    };
    let current = ephemeral
        .get(&format!("account-session:{}", record.account_id))
        .await?;
    if current.as_deref() != Some(key.as_str()) {
        return Ok(None);
    }
    Ok(Some(Session {
        account_id: record.account_id,
        role: record.role,
        remember: record.remember,
        key,
    }))
}

/// Starts a session with a fresh id, ending the account's previous one (one device at a time).
pub async fn start(
    d: Deps<'_>,
    account: Account,
    remember: bool,
) -> Result<SessionStarted, IdentityError> {
    let id = new_session_id();
    let key = session_key(&id);
    let ttl = if remember {
        Duration::from_secs(REMEMBER_DAYS * 24 * 3600)
    } else {
        Duration::from_secs(SESSION_HOURS * 3600)
    };
    let record = SessionRecord {
        account_id: account.id,
        role: account.role,
        remember,
        created_at: Utc::now(),
    };
    let raw =
        serde_json::to_string(&record).map_err(|_| IdentityError::Internal("session record"))?;
    let pointer = format!("account-session:{}", account.id);
    if let Some(old) = d.ephemeral.get(&pointer).await? {
        d.ephemeral.delete(&format!("session:{old}")).await?;
    }
    d.ephemeral
        .put(&format!("session:{key}"), &raw, ttl)
        .await?;
    d.ephemeral.put(&pointer, &key, ttl).await?;
    tracing::info!(account = %account.id, "signed in");
    Ok(SessionStarted {
        session_id: id,
        max_age: remember.then_some(ttl.as_secs()),
        profile: profile(d.storage, account).await?,
    })
}

/// Sign-in with account name and password: one attempt is taken from the address's and the
/// account's backoff at once (refused while either is locked out), then the password is
/// checked (even for an unknown name, so timing tells nothing), then the SMS code when the
/// account needs one. The attempt stays counted only for what it got wrong.
pub async fn sign_in(
    d: Deps<'_>,
    ip: &str,
    c: Credentials<'_>,
) -> Result<SessionStarted, IdentityError> {
    let store = d.ephemeral;
    let subject = c.username.trim().to_ascii_lowercase();
    let ip_ticket = LOGIN_PER_IP.take(store, ip).await?;
    let account_ticket = match LOGIN_PER_ACCOUNT.take(store, &subject).await {
        Ok(ticket) => ticket,
        Err(locked) => {
            // Nothing was checked for this address.
            LOGIN_PER_IP.give_back(store, ip, ip_ticket).await?;
            return Err(locked.into());
        }
    };
    let checked = check_secrets(d, c.username.trim(), c.password, c.sms_code).await;
    match &checked {
        // A wrong password counts against the address and the account.
        Err(IdentityError::InvalidCredentials) => {}
        // A wrong code after the right password counts against the account only.
        Err(IdentityError::InvalidSmsCode | IdentityError::SmsCodeExhausted) => {
            LOGIN_PER_IP.give_back(store, ip, ip_ticket).await?;
        }
        Ok(_) => {
            LOGIN_PER_IP.give_back(store, ip, ip_ticket).await?;
            LOGIN_PER_ACCOUNT.record_success(store, &subject).await?;
        }
        // Nothing wrong was sent (a code is required, the server is busy or failed).
        Err(_) => {
            LOGIN_PER_IP.give_back(store, ip, ip_ticket).await?;
            LOGIN_PER_ACCOUNT
                .give_back(store, &subject, account_ticket)
                .await?;
        }
    }
    start(d, checked?, c.remember).await
}

/// The password, then the SMS code when the account needs one: the account if both are right.
async fn check_secrets(
    d: Deps<'_>,
    username: &str,
    password_text: String,
    sms_code: Option<&str>,
) -> Result<Account, IdentityError> {
    let account = match d.storage.account_by_username(username).await {
        Ok(a) => Some(a),
        Err(StorageError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let ok = d
        .hashing
        .verify(
            password_text,
            account.as_ref().map(|a| a.password_hash.clone()),
        )
        .await?;
    let account = match (ok, account) {
        (true, Some(account)) => account,
        _ => return Err(IdentityError::InvalidCredentials),
    };
    let Some(phone) = account.phone.clone().filter(|_| account.login_sms_required) else {
        return Ok(account);
    };
    match sms_code.filter(|code| !code.trim().is_empty()) {
        None => {
            // If a code went out moments ago it still stands; say when to ask again.
            let retry_after = match sms::send_code(d, &phone, SmsPurpose::Login).await {
                Err(
                    IdentityError::SmsTooFrequent { retry_after }
                    | IdentityError::SmsDailyLimit { retry_after },
                ) => Some(retry_after),
                _ => None,
            };
            Err(IdentityError::SmsCodeRequired {
                phone_masked: phone.masked(),
                retry_after,
            })
        }
        Some(code) => {
            let lifetime = Duration::from_secs(d.config.sms_code_lifetime_secs);
            sms::verify_code(d.ephemeral, lifetime, &phone, SmsPurpose::Login, code).await?;
            d.storage.set_login_sms_required(account.id, false).await?;
            Ok(account)
        }
    }
}

/// Ends the account's session everywhere.
pub async fn end(d: Deps<'_>, session: &Session) -> Result<(), EphemeralError> {
    let ephemeral = d.ephemeral;
    ephemeral
        .delete(&format!("session:{}", session.key))
        .await?;
    ephemeral
        .delete(&format!("account-session:{}", session.account_id))
        .await?;
    Ok(())
}
