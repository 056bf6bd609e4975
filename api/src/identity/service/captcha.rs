//! The captcha: an ALTCHA proof-of-work challenge. Nothing to read or hear, so older and
//! visually impaired people pass it; the PWA solves it in a worker. A solution works once.

use std::time::Duration;

use base64::Engine;

use super::{Deps, IdentityError};
use crate::identity::rate_limits::RateLimit;
use crate::platform::config::Secret;
use crate::platform::ephemeral::Ephemeral;

const LIFETIME: Duration = Duration::from_secs(10 * 60);
const CHALLENGES_PER_IP: RateLimit = RateLimit {
    name: "captcha-ip",
    max: 120,
    window: Duration::from_secs(60 * 60),
};

/// `GET /captcha`: a fresh challenge, within the caller's address allowance; as JSON in the
/// shape the `altcha` widget expects.
pub async fn challenge(d: Deps<'_>, ip: &str) -> Result<serde_json::Value, IdentityError> {
    CHALLENGES_PER_IP.hit(d.ephemeral, ip).await?;
    create(d.captcha_key, d.config.captcha_difficulty)
}

pub fn create(key: &Secret, difficulty: u64) -> Result<serde_json::Value, IdentityError> {
    let c = altcha_lib_rs::create_challenge(altcha_lib_rs::ChallengeOptions {
        hmac_key: key.expose(),
        max_number: Some(difficulty),
        expires: Some(chrono::Utc::now() + LIFETIME),
        ..Default::default()
    })
    .map_err(|_| IdentityError::Internal("captcha challenge"))?;
    serde_json::to_value(&c).map_err(|_| IdentityError::Internal("captcha challenge"))
}

/// Checks a solution (the widget's base64 JSON payload, or the JSON itself) and spends it.
pub async fn verify(
    ephemeral: &dyn Ephemeral,
    key: &Secret,
    difficulty: u64,
    solution: &str,
) -> Result<(), IdentityError> {
    let json = base64::engine::general_purpose::STANDARD
        .decode(solution.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| solution.to_string());
    let payload: altcha_lib_rs::Payload =
        serde_json::from_str(&json).map_err(|_| IdentityError::InvalidCaptcha)?;
    if payload.number > difficulty {
        return Err(IdentityError::InvalidCaptcha);
    }
    altcha_lib_rs::verify_solution(&payload, key.expose(), true)
        .map_err(|_| IdentityError::InvalidCaptcha)?;
    let fresh = ephemeral
        .put_if_absent(
            &format!("captcha-used:{}", payload.challenge),
            "1",
            LIFETIME,
        )
        .await?;
    if !fresh {
        return Err(IdentityError::CaptchaReplayed);
    }
    Ok(())
}
