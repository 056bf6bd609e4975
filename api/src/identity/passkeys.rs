//! Passkeys (WebAuthn, webauthn-rs): register, list, delete, and sign in with one.
//! Ceremony state lives 5 minutes in the ephemeral store, so any instance can finish it.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

use crate::identity::rate_limits::LOGIN_PER_IP;
use crate::identity::sessions::{self, SessionAuth, SignedIn};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::{ApiTags, ClientIp};

const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

/// A passkey as stored: the webauthn-rs credential serialised as JSON.
#[derive(Clone)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    /// base64url of the credential id.
    pub credential_id: String,
    pub credential_json: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredPasskey {
    fn passkey(&self) -> Result<Passkey, ApiError> {
        serde_json::from_str(&self.credential_json).map_err(|_| {
            tracing::error!(passkey = %self.id, "stored passkey cannot be read");
            ApiError::internal()
        })
    }
}

#[derive(Debug, Object)]
pub struct PasskeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&StoredPasskey> for PasskeyView {
    fn from(p: &StoredPasskey) -> Self {
        PasskeyView {
            id: p.id,
            name: p.name.clone(),
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RegistrationCeremony {
    account_id: Uuid,
    name: String,
    state: PasskeyRegistration,
}

#[derive(Serialize, Deserialize)]
enum LoginCeremony {
    Real {
        account_id: Uuid,
        state: PasskeyAuthentication,
    },
    /// For an unknown account or one without passkeys: the same answer shape, never succeeds.
    Decoy,
}

#[derive(Debug, Object)]
pub struct CeremonyStarted {
    /// Ceremony id for the finish call.
    pub id: Uuid,
    /// The options to hand to `navigator.credentials.create()` / `.get()`.
    pub options: serde_json::Value,
}

#[derive(Debug, Object)]
pub struct StartRegistration {
    /// A name for the device, e.g. 我的手机.
    pub name: Option<String>,
}

#[derive(Debug, Object)]
pub struct FinishCeremony {
    /// The `PublicKeyCredential` the browser returned, as JSON.
    pub credential: serde_json::Value,
}

#[derive(Debug, Object)]
pub struct StartLogin {
    pub username: String,
}

#[derive(Debug, ApiResponse)]
pub enum PasskeyDeleted {
    #[oai(status = 204)]
    Done,
}

fn webauthn_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::info!(error = %e, "passkey ceremony rejected");
    ApiError::unprocessable("passkey_rejected", "credential", "通行密钥验证未通过")
}

fn ceremony_expired() -> ApiError {
    ApiError::new(
        poem::http::StatusCode::NOT_FOUND,
        "ceremony_expired",
        "操作已超时，请重新开始",
    )
}

async fn keep<T: Serialize>(
    state: &AppState,
    kind: &str,
    id: Uuid,
    value: &T,
) -> Result<(), ApiError> {
    let raw = serde_json::to_string(value).map_err(|_| ApiError::internal())?;
    state
        .ephemeral
        .put(&format!("webauthn-{kind}:{id}"), &raw, CEREMONY_TTL)
        .await?;
    Ok(())
}

async fn take<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    kind: &str,
    id: Uuid,
) -> Result<T, ApiError> {
    let raw = state
        .ephemeral
        .take(&format!("webauthn-{kind}:{id}"))
        .await?
        .ok_or_else(ceremony_expired)?;
    serde_json::from_str(&raw).map_err(|_| ceremony_expired())
}

/// A plausible request for an account that cannot sign in with a passkey, so the answer does
/// not tell whether the account exists.
fn decoy_options(state: &AppState, username: &str) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut challenge = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    let fake_id = sha2::Sha256::digest(format!("{}:{}", state.captcha_key.expose(), username));
    serde_json::json!({
        "publicKey": {
            "challenge": b64.encode(challenge),
            "timeout": 300000,
            "rpId": state.config.webauthn_rp_id,
            "allowCredentials": [{"type": "public-key", "id": b64.encode(fake_id)}],
            "userVerification": "required"
        }
    })
}

use sha2::Digest;

pub struct PasskeysApi;

#[OpenApi(tag = "ApiTags::Passkeys")]
impl PasskeysApi {
    /// Start registering a passkey for the signed-in account.
    #[oai(path = "/passkeys/registrations", method = "post")]
    async fn start_registration(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<StartRegistration>,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        let account = auth.0.account(&state).await?;
        let existing = state.storage.passkeys_of(account.id).await?;
        let exclude = existing
            .iter()
            .map(|p| p.passkey().map(|k| k.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (options, reg_state) = state
            .webauthn
            .start_passkey_registration(
                account.id,
                &account.username,
                &account.real_name,
                Some(exclude),
            )
            .map_err(webauthn_failed)?;
        let id = Uuid::new_v4();
        let name = body
            .0
            .name
            .map(|n| n.trim().chars().take(40).collect::<String>())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "通行密钥".to_string());
        keep(
            &state,
            "reg",
            id,
            &RegistrationCeremony {
                account_id: account.id,
                name,
                state: reg_state,
            },
        )
        .await?;
        Ok(Json(CeremonyStarted {
            id,
            options: serde_json::to_value(options).map_err(|_| ApiError::internal())?,
        }))
    }

    /// Finish registering: the browser's answer to the options.
    #[oai(path = "/passkeys/registrations/:id", method = "post")]
    async fn finish_registration(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<FinishCeremony>,
    ) -> Result<Json<PasskeyView>, ApiError> {
        let ceremony: RegistrationCeremony = take(&state, "reg", id.0).await?;
        if ceremony.account_id != auth.0.account_id {
            return Err(ceremony_expired());
        }
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(body.0.credential).map_err(webauthn_failed)?;
        let passkey = state
            .webauthn
            .finish_passkey_registration(&credential, &ceremony.state)
            .map_err(webauthn_failed)?;
        let stored = StoredPasskey {
            id: Uuid::new_v4(),
            account_id: ceremony.account_id,
            name: ceremony.name,
            credential_id: base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(passkey.cred_id()),
            credential_json: serde_json::to_string(&passkey).map_err(|_| ApiError::internal())?,
            created_at: Utc::now(),
            last_used_at: None,
        };
        state
            .storage
            .add_passkey(&stored)
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => {
                    ApiError::conflict("passkey_exists", "credential", "该通行密钥已登记")
                }
                other => other.into(),
            })?;
        Ok(Json(PasskeyView::from(&stored)))
    }

    /// The signed-in account's passkeys.
    #[oai(path = "/passkeys", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<PasskeyView>>, ApiError> {
        let keys = state.storage.passkeys_of(auth.0.account_id).await?;
        Ok(Json(keys.iter().map(PasskeyView::from).collect()))
    }

    /// Delete one of the signed-in account's passkeys.
    #[oai(path = "/passkeys/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<PasskeyDeleted, ApiError> {
        state
            .storage
            .delete_passkey(auth.0.account_id, id.0)
            .await?;
        Ok(PasskeyDeleted::Done)
    }

    /// Start signing in with a passkey.
    #[oai(path = "/sessions/passkey", method = "post")]
    async fn start_login(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        body: Json<StartLogin>,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        LOGIN_PER_IP.check(&*state.ephemeral, &ip.0).await?;
        let username = body.username.trim();
        let id = Uuid::new_v4();
        let account = match state.storage.account_by_username(username).await {
            Ok(a) => Some(a),
            Err(StorageError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let keys = match &account {
            Some(a) => state.storage.passkeys_of(a.id).await?,
            None => Vec::new(),
        };
        let (options, ceremony) = match (account, keys.is_empty()) {
            (Some(account), false) => {
                let passkeys = keys
                    .iter()
                    .map(StoredPasskey::passkey)
                    .collect::<Result<Vec<_>, _>>()?;
                let (options, auth_state) = state
                    .webauthn
                    .start_passkey_authentication(&passkeys)
                    .map_err(webauthn_failed)?;
                (
                    serde_json::to_value(options).map_err(|_| ApiError::internal())?,
                    LoginCeremony::Real {
                        account_id: account.id,
                        state: auth_state,
                    },
                )
            }
            _ => (decoy_options(&state, username), LoginCeremony::Decoy),
        };
        keep(&state, "login", id, &ceremony).await?;
        Ok(Json(CeremonyStarted { id, options }))
    }

    /// Finish signing in with a passkey; sets the session cookie.
    #[oai(path = "/sessions/passkey/:id", method = "post")]
    async fn finish_login(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        id: Path<Uuid>,
        body: Json<FinishCeremony>,
    ) -> Result<SignedIn, ApiError> {
        let rejected = || {
            ApiError::new(
                poem::http::StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "通行密钥验证未通过",
            )
        };
        let ceremony: LoginCeremony = take(&state, "login", id.0).await?;
        let LoginCeremony::Real {
            account_id,
            state: auth_state,
        } = ceremony
        else {
            LOGIN_PER_IP
                .record_failure(&*state.ephemeral, &ip.0)
                .await?;
            return Err(rejected());
        };
        let credential: PublicKeyCredential =
            serde_json::from_value(body.0.credential).map_err(webauthn_failed)?;
        let result = match state
            .webauthn
            .finish_passkey_authentication(&credential, &auth_state)
        {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "passkey login rejected");
                LOGIN_PER_IP
                    .record_failure(&*state.ephemeral, &ip.0)
                    .await?;
                return Err(rejected());
            }
        };
        remember_use(&state, account_id, &result).await?;
        let account = state.storage.account_by_id(account_id).await?;
        sessions::start(&state, &account, false).await
    }
}

/// A step-up assertion (the fresh passkey check before a permit QR is first shown) in progress.
#[derive(Serialize, Deserialize)]
struct StepUpCeremony {
    account_id: Uuid,
    state: PasskeyAuthentication,
}

/// Starts a step-up with one of the account's passkeys; `None` when it has none (the caller
/// then uses an SMS code).
pub async fn start_step_up(
    state: &AppState,
    account_id: Uuid,
) -> Result<Option<CeremonyStarted>, ApiError> {
    let keys = state.storage.passkeys_of(account_id).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    let passkeys = keys
        .iter()
        .map(StoredPasskey::passkey)
        .collect::<Result<Vec<_>, _>>()?;
    let (options, auth_state) = state
        .webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(webauthn_failed)?;
    let id = Uuid::new_v4();
    keep(
        state,
        "step-up",
        id,
        &StepUpCeremony {
            account_id,
            state: auth_state,
        },
    )
    .await?;
    Ok(Some(CeremonyStarted {
        id,
        options: serde_json::to_value(options).map_err(|_| ApiError::internal())?,
    }))
}

/// Finishes a step-up: the assertion must come from one of the same account's passkeys.
pub async fn finish_step_up(
    state: &AppState,
    account_id: Uuid,
    id: Uuid,
    credential: serde_json::Value,
) -> Result<(), ApiError> {
    let ceremony: StepUpCeremony = take(state, "step-up", id).await?;
    if ceremony.account_id != account_id {
        return Err(ceremony_expired());
    }
    let credential: PublicKeyCredential =
        serde_json::from_value(credential).map_err(webauthn_failed)?;
    let result = state
        .webauthn
        .finish_passkey_authentication(&credential, &ceremony.state)
        .map_err(webauthn_failed)?;
    remember_use(state, account_id, &result).await
}

/// Keeps the signature counter and backup state of the passkey that was used current.
async fn remember_use(
    state: &AppState,
    account_id: Uuid,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<(), ApiError> {
    for stored in state.storage.passkeys_of(account_id).await? {
        let mut passkey = stored.passkey()?;
        if passkey.update_credential(result).is_some() {
            let json = serde_json::to_string(&passkey).map_err(|_| ApiError::internal())?;
            state
                .storage
                .update_passkey(stored.id, &json, Utc::now())
                .await?;
        }
    }
    Ok(())
}
