//! Sessions: sign-in by password (with an SMS code on the first login and after a phone
//! change), the session cookie, one active session per account, logout, and the authorization
//! extractor every protected operation uses.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::auth::ApiKey;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::identity::accounts::{Account, Me, PhoneNumber, Role, password};
use crate::identity::rate_limits::{LOGIN_PER_ACCOUNT, LOGIN_PER_IP};
use crate::identity::sms::{self, SmsPurpose};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::{ApiTags, ClientIp};

pub const COOKIE: &str = "permit_session";
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

/// Who is calling: the account behind a valid session cookie.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: Uuid,
    pub role: Role,
    pub remember: bool,
    session_key: String,
}

impl Principal {
    pub async fn account(&self, state: &AppState) -> Result<Account, ApiError> {
        state
            .storage
            .account_by_id(self.account_id)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ApiError::unauthenticated(),
                other => other.into(),
            })
    }

    /// Refuses callers whose role is not one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// The session cookie. Every protected operation takes this extractor; it answers 401 with
/// code `unauthenticated` when the cookie is missing, expired or ended by a newer login.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "permit_session",
    key_in = "cookie",
    checker = "check_session"
)]
pub struct SessionAuth(pub Principal);

async fn check_session(req: &Request, key: ApiKey) -> poem::Result<Principal> {
    let unauthenticated = || poem::Error::from(ApiError::unauthenticated());
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from(ApiError::internal()))?;
    resolve(state, &key.key)
        .await
        .map_err(poem::Error::from)?
        .ok_or_else(unauthenticated)
}

/// The principal a raw session id stands for, if the session is live and still the account's
/// current one.
pub async fn resolve(state: &AppState, session_id: &str) -> Result<Option<Principal>, ApiError> {
    let key = session_key(session_id);
    let Some(raw) = state.ephemeral.get(&format!("session:{key}")).await? else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_str::<SessionRecord>(&raw) else {
        return Ok(None);
    };
    let current = state
        .ephemeral
        .get(&format!("account-session:{}", record.account_id))
        .await?;
    if current.as_deref() != Some(key.as_str()) {
        return Ok(None);
    }
    Ok(Some(Principal {
        account_id: record.account_id,
        role: record.role,
        remember: record.remember,
        session_key: key,
    }))
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

fn cookie(state: &AppState, value: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

#[derive(Debug, ApiResponse)]
pub enum SignedIn {
    /// Signed in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<Me>, #[oai(header = "Set-Cookie")] String),
}

/// Starts a session with a fresh id, ending the account's previous one (one device at a time).
pub async fn start(
    state: &AppState,
    account: &Account,
    remember: bool,
) -> Result<SignedIn, ApiError> {
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
    let raw = serde_json::to_string(&record).map_err(|_| ApiError::internal())?;
    let pointer = format!("account-session:{}", account.id);
    if let Some(old) = state.ephemeral.get(&pointer).await? {
        state.ephemeral.delete(&format!("session:{old}")).await?;
    }
    state
        .ephemeral
        .put(&format!("session:{key}"), &raw, ttl)
        .await?;
    state.ephemeral.put(&pointer, &key, ttl).await?;
    tracing::info!(account = %account.id, "signed in");
    let max_age = remember.then_some(ttl.as_secs());
    Ok(SignedIn::Ok(
        Json(Me::of(state, account).await?),
        cookie(state, &id, max_age),
    ))
}

#[derive(Debug, Object)]
pub struct Login {
    pub username: String,
    pub password: String,
    /// Needed on the first login and after a phone change; the answer `sms_code_required`
    /// says so, and the code has then been sent to the account's phone.
    pub sms_code: Option<String>,
    /// 记住我: keep the session for 30 days.
    #[oai(default)]
    pub remember_me: bool,
}

#[derive(Debug, ApiResponse)]
pub enum SignedOut {
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        poem::http::StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "账号名或密码错误",
    )
}

pub struct SessionsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl SessionsApi {
    /// Sign in with account name and password.
    #[oai(path = "/sessions", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        body: Json<Login>,
    ) -> Result<SignedIn, ApiError> {
        let store = &*state.ephemeral;
        let subject = body.username.trim().to_ascii_lowercase();
        LOGIN_PER_IP.check(store, &ip.0).await?;
        LOGIN_PER_ACCOUNT.check(store, &subject).await?;
        let account = match state
            .storage
            .account_by_username(body.username.trim())
            .await
        {
            Ok(a) => Some(a),
            Err(StorageError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let ok = password::verify_blocking(
            body.password.clone(),
            account.as_ref().map(|a| a.password_hash.clone()),
        )
        .await;
        let account = match (ok, account) {
            (true, Some(account)) => account,
            _ => {
                LOGIN_PER_IP.record_failure(store, &ip.0).await?;
                LOGIN_PER_ACCOUNT.record_failure(store, &subject).await?;
                return Err(invalid_credentials());
            }
        };
        if let Some(phone) = account
            .phone
            .as_deref()
            .and_then(PhoneNumber::parse)
            .filter(|_| account.login_sms_required)
        {
            match body.sms_code.as_deref().filter(|c| !c.trim().is_empty()) {
                None => {
                    // If a code went out moments ago it still stands; say when to ask again.
                    let sent = sms::send_code(&state, &phone, SmsPurpose::Login).await;
                    let mut required = ApiError::new(
                        poem::http::StatusCode::UNAUTHORIZED,
                        "sms_code_required",
                        format!("请输入发送到 {} 的短信验证码", phone.masked()),
                    )
                    .with_field("sms_code");
                    if let Some(wait) = sent.err().and_then(|e| e.body().retry_after) {
                        required = required.with_retry_after(wait);
                    }
                    return Err(required);
                }
                Some(code) => {
                    if let Err(e) = sms::verify_code(&state, &phone, SmsPurpose::Login, code).await
                    {
                        LOGIN_PER_ACCOUNT.record_failure(store, &subject).await?;
                        return Err(e);
                    }
                    state
                        .storage
                        .set_login_sms_required(account.id, false)
                        .await?;
                }
            }
        }
        LOGIN_PER_ACCOUNT.record_success(store, &subject).await?;
        start(&state, &account, body.remember_me).await
    }

    /// Sign out: the session ends on the server and the cookie is cleared.
    #[oai(path = "/sessions/current", method = "delete")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<SignedOut, ApiError> {
        end(&state, &auth.0).await?;
        Ok(SignedOut::Done(cookie(&state, "", Some(0))))
    }
}

/// Ends the account's session everywhere.
pub async fn end(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    state
        .ephemeral
        .delete(&format!("session:{}", principal.session_key))
        .await?;
    state
        .ephemeral
        .delete(&format!("account-session:{}", principal.account_id))
        .await?;
    Ok(())
}
