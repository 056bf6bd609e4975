//! The captcha endpoint.

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::identity::auth::deps;
use crate::identity::service::captcha;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::{ApiTags, ClientIp};

/// An ALTCHA challenge, as the `altcha` widget expects it.
#[derive(Debug, Object, serde::Serialize, serde::Deserialize)]
pub struct CaptchaChallenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

pub struct CaptchaApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl CaptchaApi {
    /// A proof-of-work challenge for registration (ALTCHA protocol).
    #[oai(path = "/captcha", method = "get")]
    async fn challenge(
        &self,
        state: poem::web::Data<&AppState>,
        ip: ClientIp,
    ) -> Result<Json<CaptchaChallenge>, ApiError> {
        let value = captcha::challenge(deps(&state), &ip.0).await?;
        let challenge = serde_json::from_value(value).map_err(|_| ApiError::internal())?;
        Ok(Json(challenge))
    }
}
