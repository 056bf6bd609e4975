//! Passkey endpoints: register, list, delete (adding and deleting need a fresh step-up), and
//! sign in with one.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::sessions::SignedIn;
use crate::identity::auth::{SessionAuth, deps};
use crate::identity::http::views::{CeremonyStarted, FinishCeremony};
use crate::identity::model::StoredPasskey;
use crate::identity::service::passkeys;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{Nullable, Text};
use crate::platform::web::{ApiTags, ClientIp};

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
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

#[derive(Debug, Object)]
pub struct StartRegistration {
    /// A name for the device, e.g. 我的手机.
    pub name: Nullable<Text>,
}

#[derive(Debug, Object)]
pub struct StartLogin {
    pub username: Text,
}

#[derive(Debug, ApiResponse)]
pub enum PasskeyDeleted {
    #[oai(status = 204)]
    Done,
}

pub struct PasskeysApi;

#[OpenApi(tag = "ApiTags::Passkeys")]
impl PasskeysApi {
    /// Start registering a passkey for the signed-in account; needs a fresh step-up (for the
    /// first passkey that is an SMS code, later ones a passkey the account already has).
    #[oai(path = "/passkeys/registrations", method = "post")]
    async fn start_registration(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<StartRegistration>,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        auth.0.require_fresh_step_up()?;
        let started = passkeys::start_registration(
            deps(&state),
            auth.0.account_id,
            body.0.name.0.map(String::from),
        )
        .await?;
        Ok(Json(started.into()))
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
        auth.0.require_fresh_step_up()?;
        let stored =
            passkeys::finish_registration(deps(&state), auth.0.account_id, id.0, body.0.credential)
                .await?;
        Ok(Json(PasskeyView::from(&stored)))
    }

    /// The signed-in account's passkeys.
    #[oai(path = "/passkeys", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<PasskeyView>>, ApiError> {
        let keys = passkeys::list(deps(&state), auth.0.account_id).await?;
        Ok(Json(keys.iter().map(PasskeyView::from).collect()))
    }

    /// Delete one of the signed-in account's passkeys; needs a fresh step-up.
    #[oai(path = "/passkeys/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<PasskeyDeleted, ApiError> {
        auth.0.require_fresh_step_up()?;
        passkeys::delete(deps(&state), auth.0.account_id, id.0).await?;
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
        let started = passkeys::start_login(deps(&state), &ip.0, &body.username).await?;
        Ok(Json(started.into()))
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
        let started = passkeys::finish_login(deps(&state), &ip.0, id.0, body.0.credential).await?;
        Ok(SignedIn::of(&state, started))
    }
}
