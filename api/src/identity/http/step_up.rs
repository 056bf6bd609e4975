//! Step-up for the session: an SMS code (accounts without a passkey) or a passkey assertion
//! makes the session fresh for the operations that need it (`403 step_up_required`).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use crate::identity::auth::{self, SessionAuth};
use crate::identity::http::views::{CeremonyStarted, FinishCeremony};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::Text;
use crate::platform::web::ApiTags;

#[derive(Debug, Object)]
pub struct SessionStepUp {
    /// The SMS code sent to the account's phone with purpose `step_up`.
    pub sms_code: Text,
}

#[derive(Debug, Object)]
pub struct SteppedUpView {
    /// Seconds the step-up counts for.
    pub fresh_for: u64,
}

#[derive(Debug, ApiResponse)]
pub enum SteppedUp {
    /// The session is fresh; the device cookie marks this device as seen.
    #[oai(status = 200)]
    Ok(Json<SteppedUpView>, #[oai(header = "Set-Cookie")] String),
}

fn stepped_up(state: &AppState, cookie: String) -> SteppedUp {
    SteppedUp::Ok(
        Json(SteppedUpView {
            fresh_for: state.config.step_up_fresh_secs,
        }),
        cookie,
    )
}

pub struct StepUpApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl StepUpApi {
    /// Step up with an SMS code (accounts without a passkey; send one first with purpose
    /// `step_up`).
    #[oai(path = "/sessions/current/step-up", method = "post")]
    async fn with_sms(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        req: &Request,
        body: Json<SessionStepUp>,
    ) -> Result<SteppedUp, ApiError> {
        let cookie = auth::step_up_with_sms(&state, &auth.0, req, &body.0.sms_code).await?;
        Ok(stepped_up(&state, cookie))
    }

    /// Step up with a passkey: start (the options for `navigator.credentials.get()`).
    #[oai(path = "/sessions/current/step-up/passkey", method = "post")]
    async fn passkey_start(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        Ok(Json(auth::start_step_up(&state, &auth.0).await?))
    }

    /// Step up with a passkey: finish with the browser's assertion.
    #[oai(path = "/sessions/current/step-up/passkey/:ceremony", method = "post")]
    async fn passkey_finish(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        req: &Request,
        ceremony: Path<Uuid>,
        body: Json<FinishCeremony>,
    ) -> Result<SteppedUp, ApiError> {
        let cookie =
            auth::finish_step_up(&state, &auth.0, req, ceremony.0, body.0.credential).await?;
        Ok(stepped_up(&state, cookie))
    }
}
