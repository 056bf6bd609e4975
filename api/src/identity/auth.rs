//! The session at the http edge: the `SessionAuth` extractor every protected operation takes,
//! the `Principal` it yields, and the identity checks other contexts' endpoints ask for (an
//! SMS code, a passkey step-up). Other contexts import these instead of identity's http.

use std::time::Duration;

use chrono::Utc;
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;
use uuid::Uuid;

use super::http::views::CeremonyStarted;
use super::model::{Account, PhoneNumber, Role, SmsPurpose, Staff, step_up_fresh};
use super::service::sessions::Session;
use super::service::{self, Deps, step_up};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;

/// What identity's use cases reach, taken from the application state.
pub fn deps(state: &AppState) -> Deps<'_> {
    Deps {
        storage: &*state.storage,
        ephemeral: &*state.ephemeral,
        sms: &*state.sms,
        webauthn: &state.webauthn,
        captcha_key: &state.captcha_key,
        hashing: &state.hashing,
        config: &state.config,
    }
}

/// Who is calling: the account behind a valid session cookie.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: Uuid,
    pub role: Role,
    pub remember: bool,
    session: Session,
    /// Whether the session passed a step-up within the freshness window.
    step_up_fresh: bool,
}

impl Principal {
    pub async fn account(&self, state: &AppState) -> Result<Account, ApiError> {
        Ok(service::accounts::account(deps(state).storage, self.account_id).await?)
    }

    /// Refuses callers whose role is not one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// The clerk or administrator acting; anyone else is refused.
    pub fn staff(&self) -> Result<Staff, ApiError> {
        self.require(&[Role::Clerk, Role::Admin])?;
        Ok(Staff {
            account_id: self.account_id,
            role: self.role,
        })
    }

    /// Refuses unless the session passed a step-up (SMS code or passkey) within the
    /// freshness window: `403 step_up_required`, and the client steps up and tries again.
    pub fn require_fresh_step_up(&self) -> Result<(), ApiError> {
        if self.step_up_fresh {
            Ok(())
        } else {
            Err(step_up_required())
        }
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
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
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from(ApiError::internal()))?;
    principal_of(state, &key.key)
        .await?
        .ok_or_else(|| poem::Error::from(ApiError::unauthenticated()))
}

/// The principal a raw session id stands for, if its session is live.
async fn principal_of(state: &AppState, session_id: &str) -> Result<Option<Principal>, ApiError> {
    let limits = state.config.session_limits();
    // Sessions live in real time (their store entries expire so), not on the application
    // clock that tests and the demo move to appointment days.
    let now = Utc::now();
    let session = service::sessions::resolve(&*state.ephemeral, limits, session_id, now).await?;
    Ok(session.map(|session| Principal {
        account_id: session.account_id,
        role: session.role,
        remember: session.remember,
        step_up_fresh: step_up_fresh(session.stepped_up_at, now, limits.step_up_fresh_secs),
        session,
    }))
}

/// `403 step_up_required`: confirm who you are again, then repeat the operation.
pub fn step_up_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "step_up_required",
        "为了您的账号安全，请先确认身份（通行密钥或短信验证码）后再继续",
    )
}

/// The long-lived cookie that names this browser, so a step-up on it marks it as seen.
pub const DEVICE_COOKIE: &str = "permit_device";

/// The device id the request's cookie carries, if any.
pub fn device_of(req: &Request) -> Option<String> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The step-up passed on this device: the device is remembered for the account, and the
/// answer's `Set-Cookie` keeps (or gives) its id.
async fn seen_here(state: &AppState, who: &Principal, req: &Request) -> Result<String, ApiError> {
    let device = device_of(req);
    let device =
        step_up::remember_device(&*state.ephemeral, who.account_id, device.as_deref()).await?;
    let mut cookie = format!(
        "{DEVICE_COOKIE}={device}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        step_up::DEVICE_REMEMBERED.as_secs()
    );
    if state.config.secure_cookies {
        cookie.push_str("; Secure");
    }
    Ok(cookie)
}

/// The full presentation is shown on a device a step-up has passed on, or in a fresh session.
pub async fn require_seen_device(
    state: &AppState,
    who: &Principal,
    req: &Request,
) -> Result<(), ApiError> {
    if who.step_up_fresh
        || step_up::device_seen(&*state.ephemeral, who.account_id, device_of(req).as_deref())
            .await?
    {
        Ok(())
    } else {
        Err(step_up_required())
    }
}

/// Step-up with the SMS code sent (purpose `step_up`) to the account's phone; answers the
/// device cookie to set.
pub async fn step_up_with_sms(
    state: &AppState,
    who: &Principal,
    req: &Request,
    code: &str,
) -> Result<String, ApiError> {
    step_up::with_sms(deps(state), &who.session, code, Utc::now()).await?;
    seen_here(state, who, req).await
}

/// The caller's session, for an operation open to everyone that treats a signed-in caller
/// differently; `None` without a live session cookie.
pub async fn signed_in(req: &Request) -> Result<Option<Principal>, ApiError> {
    let Some(cookie) = req.cookie().get(super::http::sessions::COOKIE) else {
        return Ok(None);
    };
    let state = req.data::<AppState>().ok_or_else(ApiError::internal)?;
    principal_of(state, cookie.value_str()).await
}

/// Spends an SMS code sent to `phone` for `purpose`.
pub async fn verify_sms_code(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: SmsPurpose,
    code: &str,
) -> Result<(), ApiError> {
    let lifetime = Duration::from_secs(state.config.sms_code_lifetime_secs);
    Ok(service::sms::verify_code(deps(state).ephemeral, lifetime, phone, purpose, code).await?)
}

/// Starts a passkey step-up; an account without a passkey is told to use an SMS code.
pub async fn start_step_up(state: &AppState, who: &Principal) -> Result<CeremonyStarted, ApiError> {
    let started = step_up::start_passkey(deps(state), &who.session).await?;
    Ok(CeremonyStarted::from(started))
}

/// Finishes a passkey step-up with the browser's assertion; answers the device cookie to set.
pub async fn finish_step_up(
    state: &AppState,
    who: &Principal,
    req: &Request,
    id: Uuid,
    credential: serde_json::Value,
) -> Result<String, ApiError> {
    step_up::finish_passkey(deps(state), &who.session, id, credential, Utc::now()).await?;
    seen_here(state, who, req).await
}
