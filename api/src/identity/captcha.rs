//! The captcha: an ALTCHA proof-of-work challenge. Nothing to read or hear, so older and
//! visually impaired people pass it; the PWA solves it in a worker. A solution works once.

use std::time::Duration;

use base64::Engine;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::identity::rate_limits::RateLimit;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::{ApiTags, ClientIp};

const LIFETIME: Duration = Duration::from_secs(10 * 60);
const CHALLENGES_PER_IP: RateLimit = RateLimit {
    name: "captcha-ip",
    max: 120,
    window: Duration::from_secs(60 * 60),
};

/// An ALTCHA challenge, as the `altcha` widget expects it.
#[derive(Debug, Object, serde::Serialize, serde::Deserialize)]
pub struct CaptchaChallenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

pub fn create(state: &AppState) -> Result<CaptchaChallenge, ApiError> {
    let c = altcha_lib_rs::create_challenge(altcha_lib_rs::ChallengeOptions {
        hmac_key: state.captcha_key.expose(),
        max_number: Some(state.config.captcha_difficulty),
        expires: Some(chrono::Utc::now() + LIFETIME),
        ..Default::default()
    })
    .map_err(|_| ApiError::internal())?;
    let value = serde_json::to_value(&c).map_err(|_| ApiError::internal())?;
    serde_json::from_value(value).map_err(|_| ApiError::internal())
}

/// Checks a solution (the widget's base64 JSON payload, or the JSON itself) and spends it.
pub async fn verify(state: &AppState, solution: &str) -> Result<(), ApiError> {
    let invalid =
        || ApiError::unprocessable("invalid_captcha", "captcha", "人机验证未通过，请重试");
    let json = base64::engine::general_purpose::STANDARD
        .decode(solution.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| solution.to_string());
    let payload: altcha_lib_rs::Payload = serde_json::from_str(&json).map_err(|_| invalid())?;
    if payload.number > state.config.captcha_difficulty {
        return Err(invalid());
    }
    altcha_lib_rs::verify_solution(&payload, state.captcha_key.expose(), true)
        .map_err(|_| invalid())?;
    let fresh = state
        .ephemeral
        .put_if_absent(
            &format!("captcha-used:{}", payload.challenge),
            "1",
            LIFETIME,
        )
        .await?;
    if !fresh {
        return Err(ApiError::unprocessable(
            "captcha_replayed",
            "captcha",
            "人机验证已使用过，请重新验证",
        ));
    }
    Ok(())
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
        CHALLENGES_PER_IP.hit(&*state.ephemeral, &ip.0).await?;
        Ok(Json(create(&state)?))
    }
}
