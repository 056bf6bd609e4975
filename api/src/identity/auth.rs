//! The session at the http edge: the `SessionAuth` extractor every protected operation takes,
//! the `Principal` it yields, and the identity checks other contexts' endpoints ask for (an
//! SMS code, a passkey step-up). Other contexts import these instead of identity's http.

use std::time::Duration;

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;
use uuid::Uuid;

use super::http::views::CeremonyStarted;
use super::model::{Account, PhoneNumber, Role, SmsPurpose, Staff};
use super::service::sessions::Session;
use super::service::{self, Deps};
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
    let unauthenticated = || poem::Error::from(ApiError::unauthenticated());
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from(ApiError::internal()))?;
    let session = service::sessions::resolve(deps(state), &key.key)
        .await
        .map_err(|e| poem::Error::from(ApiError::from(e)))?
        .ok_or_else(unauthenticated)?;
    Ok(Principal {
        account_id: session.account_id,
        role: session.role,
        remember: session.remember,
        session,
    })
}

/// The caller's session, for an operation open to everyone that treats a signed-in caller
/// differently; `None` without a live session cookie.
pub async fn signed_in(req: &Request) -> Result<Option<Principal>, ApiError> {
    let Some(cookie) = req.cookie().get(super::http::sessions::COOKIE) else {
        return Ok(None);
    };
    let state = req.data::<AppState>().ok_or_else(ApiError::internal)?;
    let session = service::sessions::resolve(deps(state), cookie.value_str()).await?;
    Ok(session.map(|session| Principal {
        account_id: session.account_id,
        role: session.role,
        remember: session.remember,
        session,
    }))
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

/// Starts a passkey step-up; `None` when the account has no passkey.
pub async fn start_step_up(
    state: &AppState,
    account_id: Uuid,
) -> Result<Option<CeremonyStarted>, ApiError> {
    let started = service::passkeys::start_step_up(deps(state), account_id).await?;
    Ok(started.map(CeremonyStarted::from))
}

/// Finishes a passkey step-up with the browser's assertion.
pub async fn finish_step_up(
    state: &AppState,
    account_id: Uuid,
    id: Uuid,
    credential: serde_json::Value,
) -> Result<(), ApiError> {
    Ok(service::passkeys::finish_step_up(deps(state), account_id, id, credential).await?)
}
