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
use super::second_factor::{self, SecondFactor};
use super::{Deps, IdentityError, sms};
use crate::identity::model::{Account, Role, SessionLimits, SmsPurpose, staff_session_alive};
use crate::identity::rate_limits::{LOGIN_PER_ACCOUNT, LOGIN_PER_IP, Outcome, Ticket};
use crate::platform::ephemeral::{Ephemeral, EphemeralError};
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
    /// When the session last passed a step-up (an SMS code or a passkey assertion).
    #[serde(default)]
    stepped_up_at: Option<DateTime<Utc>>,
    /// When a staff session was last used: an idle one ends.
    #[serde(default)]
    last_used_at: Option<DateTime<Utc>>,
}

/// A live session: who it is for, and the key it is stored under.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: Uuid,
    pub role: Role,
    pub remember: bool,
    pub key: String,
    /// When the session last passed a step-up, if it did.
    pub stepped_up_at: Option<DateTime<Utc>>,
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Clerk | Role::Admin)
}

async fn record_of(
    ephemeral: &dyn Ephemeral,
    key: &str,
) -> Result<Option<SessionRecord>, EphemeralError> {
    let Some(raw) = ephemeral.get(&format!("session:{key}")).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str::<SessionRecord>(&raw).ok())
}

/// The longest a staff session can live from now: its record expires with it, instead of
/// waiting in the store for the resident's lifetime (retention: expired sessions go at once).
fn staff_ttl(limits: SessionLimits) -> Duration {
    Duration::from_secs(limits.staff_idle_secs.min(limits.staff_session_secs))
}

/// Writes a changed record back for the time the session has left (at most `cap`).
async fn rewrite(
    ephemeral: &dyn Ephemeral,
    key: &str,
    record: &SessionRecord,
    cap: Option<Duration>,
) -> Result<(), EphemeralError> {
    let name = format!("session:{key}");
    let Some(left) = ephemeral.ttl(&name).await? else {
        return Ok(());
    };
    let left = cap.map_or(left, |cap| left.min(cap));
    let raw = serde_json::to_string(record).unwrap_or_default();
    if !raw.is_empty() {
        ephemeral.put(&name, &raw, left).await?;
    }
    Ok(())
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
/// A clerk's or administrator's session also ends when idle or too old (then it is removed),
/// and each use refreshes its idle time.
pub async fn resolve(
    ephemeral: &dyn Ephemeral,
    limits: SessionLimits,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, EphemeralError> {
    let key = session_key(session_id);
    let Some(mut record) = record_of(ephemeral, &key).await? else {
        return Ok(None);
    };
    let pointer = format!("account-session:{}", record.account_id);
    let current = ephemeral.get(&pointer).await?;
    if current.as_deref() != Some(key.as_str()) {
        return Ok(None);
    }
    if is_staff(record.role) {
        let last_used = record.last_used_at.unwrap_or(record.created_at);
        if !staff_session_alive(record.created_at, last_used, now, limits) {
            ephemeral.delete(&format!("session:{key}")).await?;
            ephemeral.delete(&pointer).await?;
            tracing::info!(account = %record.account_id, "staff session ended (idle or too old)");
            return Ok(None);
        }
        record.last_used_at = Some(now);
        // Used now: idle from now on, and never past its absolute end.
        let elapsed = (now - record.created_at).to_std().unwrap_or_default();
        let absolute_left = Duration::from_secs(limits.staff_session_secs).saturating_sub(elapsed);
        let cap = Duration::from_secs(limits.staff_idle_secs).min(absolute_left);
        rewrite(ephemeral, &key, &record, Some(cap)).await?;
    }
    Ok(Some(Session {
        account_id: record.account_id,
        role: record.role,
        remember: record.remember,
        key,
        stepped_up_at: record.stepped_up_at,
    }))
}

/// The session passed a step-up at `now`: the operations that need a fresh one may go ahead
/// until the window closes.
pub async fn mark_stepped_up(
    ephemeral: &dyn Ephemeral,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), EphemeralError> {
    if let Some(mut record) = record_of(ephemeral, &session.key).await? {
        record.stepped_up_at = Some(now);
        rewrite(ephemeral, &session.key, &record, None).await?;
    }
    Ok(())
}

/// Stores a new session for the account, ending its previous one (one device at a time), and
/// answers the raw id for the cookie.
pub async fn open(
    ephemeral: &dyn Ephemeral,
    account_id: Uuid,
    role: Role,
    remember: bool,
    now: DateTime<Utc>,
) -> Result<(String, Duration), IdentityError> {
    open_with(ephemeral, account_id, role, remember, now, None, None).await
}

/// [`open`], for a session whose sign-in was itself a step-up (`stepped_up_at`).
async fn open_with(
    ephemeral: &dyn Ephemeral,
    account_id: Uuid,
    role: Role,
    remember: bool,
    now: DateTime<Utc>,
    stepped_up_at: Option<DateTime<Utc>>,
    limits: Option<SessionLimits>,
) -> Result<(String, Duration), IdentityError> {
    let id = new_session_id();
    let key = session_key(&id);
    let ttl = if remember {
        Duration::from_secs(REMEMBER_DAYS * 24 * 3600)
    } else {
        Duration::from_secs(SESSION_HOURS * 3600)
    };
    let ttl = match limits {
        Some(limits) if is_staff(role) => ttl.min(staff_ttl(limits)),
        _ => ttl,
    };
    let record = SessionRecord {
        account_id,
        role,
        remember,
        created_at: now,
        stepped_up_at,
        last_used_at: None,
    };
    let raw =
        serde_json::to_string(&record).map_err(|_| IdentityError::Internal("session record"))?;
    let pointer = format!("account-session:{account_id}");
    if let Some(old) = ephemeral.get(&pointer).await? {
        ephemeral.delete(&format!("session:{old}")).await?;
    }
    ephemeral.put(&format!("session:{key}"), &raw, ttl).await?;
    ephemeral.put(&pointer, &key, ttl).await?;
    Ok((id, ttl))
}

/// Starts a session with a fresh id, ending the account's previous one (one device at a time).
/// `stepped_up`: the sign-in itself was a passkey assertion, so the session starts fresh.
pub async fn start(
    d: Deps<'_>,
    account: Account,
    remember: bool,
    stepped_up: bool,
) -> Result<SessionStarted, IdentityError> {
    let now = Utc::now();
    let stepped_up_at = stepped_up.then_some(now);
    let (id, ttl) = open_with(
        d.ephemeral,
        account.id,
        account.role,
        remember,
        now,
        stepped_up_at,
        Some(d.config.session_limits()),
    )
    .await?;
    tracing::info!(account = %account.id, "signed in");
    Ok(SessionStarted {
        session_id: id,
        max_age: remember.then_some(ttl.as_secs()),
        profile: profile(d.storage, account).await?,
    })
}

/// How a password sign-in ended: a session, or (for a clerk or administrator) the second step
/// with a passkey.
pub enum SignIn {
    Started(Box<SessionStarted>),
    SecondFactor(SecondFactor),
}

/// Sign-in with account name and password: one attempt is taken from the address's and the
/// account's backoff at once (refused while either is locked out), then the password is
/// checked (even for an unknown name, so timing tells nothing), then the SMS code when the
/// account needs one. The attempt stays counted only for what it got wrong. A clerk or an
/// administrator then has a second step: a passkey assertion, or at first the enrolment of one;
/// the account's count is cleared only when that passes.
pub async fn sign_in(d: Deps<'_>, ip: &str, c: Credentials<'_>) -> Result<SignIn, IdentityError> {
    let subject = c.username.trim().to_ascii_lowercase();
    let attempt = SignInAttempt::take(d.ephemeral, ip, &subject).await?;
    let checked = check_secrets(d, c.username.trim(), c.password, c.sms_code).await;
    let (by_address, by_account) = match &checked {
        // A wrong password counts against the address and the account.
        Err(IdentityError::InvalidCredentials) => (Outcome::WrongSecret, Outcome::WrongSecret),
        // A wrong code after the right password counts against the account only.
        Err(IdentityError::InvalidSmsCode | IdentityError::SmsCodeExhausted) => {
            (Outcome::NotChecked, Outcome::WrongSecret)
        }
        Ok(account) if account.role.is_staff() => (Outcome::NotChecked, Outcome::NotChecked),
        Ok(_) => (Outcome::NotChecked, Outcome::RightSecret),
        // Nothing wrong was sent (a code is required, the server is busy or failed).
        Err(_) => (Outcome::NotChecked, Outcome::NotChecked),
    };
    attempt.settle(d.ephemeral, by_address, by_account).await?;
    let account = checked?;
    if account.role.is_staff() {
        let next = second_factor::begin(d, &account, &subject, c.remember).await?;
        return Ok(SignIn::SecondFactor(next));
    }
    Ok(SignIn::Started(Box::new(
        start(d, account, c.remember, false).await?,
    )))
}

/// One sign-in attempt, taken at once from the address's and the account name's backoff
/// (refused while either is locked out) before any secret is checked, so parallel guesses
/// cannot pass the limits; password and passkey sign-in count alike.
pub(super) struct SignInAttempt<'a> {
    ip: &'a str,
    subject: &'a str,
    by_address: Ticket,
    by_account: Ticket,
}

impl<'a> SignInAttempt<'a> {
    pub(super) async fn take(
        store: &dyn Ephemeral,
        ip: &'a str,
        subject: &'a str,
    ) -> Result<SignInAttempt<'a>, IdentityError> {
        let by_address = LOGIN_PER_IP.take(store, ip).await?;
        let by_account = match LOGIN_PER_ACCOUNT.take(store, subject).await {
            Ok(ticket) => ticket,
            Err(locked) => {
                // Nothing was checked for this address.
                LOGIN_PER_IP.give_back(store, ip, by_address).await?;
                return Err(locked.into());
            }
        };
        Ok(SignInAttempt {
            ip,
            subject,
            by_address,
            by_account,
        })
    }

    /// Settles the attempt for the address and for the account name by how it ended.
    pub(super) async fn settle(
        self,
        store: &dyn Ephemeral,
        by_address: Outcome,
        by_account: Outcome,
    ) -> Result<(), IdentityError> {
        LOGIN_PER_IP
            .settle(store, self.ip, self.by_address, by_address)
            .await?;
        LOGIN_PER_ACCOUNT
            .settle(store, self.subject, self.by_account, by_account)
            .await?;
        Ok(())
    }
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
                Ok(()) => None,
                Err(
                    IdentityError::SmsTooFrequent { retry_after }
                    | IdentityError::SmsDailyLimit { retry_after },
                ) => Some(retry_after),
                // No code went out: say so rather than ask for one.
                Err(e) => return Err(e),
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

/// Ends whatever session the account has (an operator reset its second factor).
pub async fn end_all(ephemeral: &dyn Ephemeral, account_id: Uuid) -> Result<(), EphemeralError> {
    let pointer = format!("account-session:{account_id}");
    if let Some(key) = ephemeral.get(&pointer).await? {
        ephemeral.delete(&format!("session:{key}")).await?;
    }
    ephemeral.delete(&pointer).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ephemeral::MemoryStore;

    const LIMITS: SessionLimits = SessionLimits {
        step_up_fresh_secs: 300,
        staff_idle_secs: 15 * 60,
        staff_session_secs: 10 * 3600,
    };

    #[tokio::test]
    async fn each_use_of_a_staff_session_refreshes_its_idle_time_until_the_total_limit() {
        let store = MemoryStore::new();
        let t0 = Utc::now();
        let at = |minutes: i64| t0 + chrono::Duration::minutes(minutes);
        let (clerk, _) = open(&store, Uuid::new_v4(), Role::Clerk, false, t0)
            .await
            .unwrap();
        // Used every 10 minutes: never 15 minutes idle, alive until the 10 hours are up.
        for minutes in (10..600).step_by(10) {
            assert!(
                resolve(&store, LIMITS, &clerk, at(minutes))
                    .await
                    .unwrap()
                    .is_some(),
                "used at minute {minutes}"
            );
        }
        assert!(
            resolve(&store, LIMITS, &clerk, at(600))
                .await
                .unwrap()
                .is_none()
        );
        // Idle: 15 minutes after its last use it has ended, and stays ended.
        let (clerk, _) = open(&store, Uuid::new_v4(), Role::Admin, false, t0)
            .await
            .unwrap();
        assert!(
            resolve(&store, LIMITS, &clerk, at(14))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            resolve(&store, LIMITS, &clerk, at(29))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            resolve(&store, LIMITS, &clerk, at(30))
                .await
                .unwrap()
                .is_none()
        );
        // A resident's session does not idle out.
        let (resident, _) = open(&store, Uuid::new_v4(), Role::Resident, false, t0)
            .await
            .unwrap();
        assert!(
            resolve(&store, LIMITS, &resident, at(300))
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_staff_sessions_record_expires_with_the_session_not_hours_later() {
        let store = MemoryStore::new();
        let t0 = Utc::now();
        let (id, ttl) = open_with(
            &store,
            Uuid::new_v4(),
            Role::Clerk,
            true,
            t0,
            None,
            Some(LIMITS),
        )
        .await
        .unwrap();
        assert_eq!(ttl, Duration::from_secs(15 * 60), "idle limit, not 30 days");
        let name = format!("session:{}", session_key(&id));
        assert!(store.ttl(&name).await.unwrap().unwrap() <= Duration::from_secs(15 * 60));
        // Used every 10 minutes, last 9 h 55 min after sign-in: 5 minutes are left of its
        // 10 hours, and of its record.
        for minutes in (10..600).step_by(10).chain([595]) {
            let at = t0 + chrono::Duration::minutes(minutes);
            assert!(resolve(&store, LIMITS, &id, at).await.unwrap().is_some());
        }
        assert!(store.ttl(&name).await.unwrap().unwrap() <= Duration::from_secs(5 * 60));
        // A resident's keeps its own lifetime.
        let (id, ttl) = open_with(
            &store,
            Uuid::new_v4(),
            Role::Resident,
            false,
            t0,
            None,
            Some(LIMITS),
        )
        .await
        .unwrap();
        assert_eq!(ttl, Duration::from_secs(SESSION_HOURS * 3600));
        let name = format!("session:{}", session_key(&id));
        assert!(store.ttl(&name).await.unwrap().unwrap() > Duration::from_secs(11 * 3600));
    }

    #[tokio::test]
    async fn a_step_up_is_kept_in_the_session() {
        let store = MemoryStore::new();
        let t0 = Utc::now();
        let (id, _) = open(&store, Uuid::new_v4(), Role::Resident, false, t0)
            .await
            .unwrap();
        let session = resolve(&store, LIMITS, &id, t0).await.unwrap().unwrap();
        assert_eq!(session.stepped_up_at, None);
        mark_stepped_up(&store, &session, t0).await.unwrap();
        let session = resolve(&store, LIMITS, &id, t0).await.unwrap().unwrap();
        assert_eq!(session.stepped_up_at, Some(t0));
    }
}
