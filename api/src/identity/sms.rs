//! SMS: one-time codes and the sender they go through. The development sink keeps messages in
//! memory and is readable at `GET /api/v1/dev/sms` only in demo or development mode; a real
//! gateway implements `SmsSender`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use rand::Rng;

use crate::identity::accounts::PhoneNumber;
use crate::identity::rate_limits::RateLimit;
use crate::notifications::sms::SentSms;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::{ApiTags, ClientIp};

const MAX_GUESSES: u64 = 5;
/// One code a minute per phone (the interval is configurable).
const fn per_interval(secs: u64) -> RateLimit {
    RateLimit {
        name: "sms-minute",
        max: 1,
        window: Duration::from_secs(secs),
    }
}
/// Ten codes a day per phone.
const PER_DAY: RateLimit = RateLimit {
    name: "sms-day",
    max: 10,
    window: Duration::from_secs(24 * 60 * 60),
};
const PER_IP: RateLimit = RateLimit {
    name: "sms-ip",
    max: 30,
    window: Duration::from_secs(60 * 60),
};

/// What a code is for; a code for one purpose does not work for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SmsPurpose {
    Register,
    Login,
    ChangePhone,
    StepUp,
}

impl SmsPurpose {
    fn as_str(self) -> &'static str {
        match self {
            SmsPurpose::Register => "register",
            SmsPurpose::Login => "login",
            SmsPurpose::ChangePhone => "change_phone",
            SmsPurpose::StepUp => "step_up",
        }
    }
    fn label(self) -> &'static str {
        match self {
            SmsPurpose::Register => "注册",
            SmsPurpose::Login => "登录",
            SmsPurpose::ChangePhone => "更换手机号码",
            SmsPurpose::StepUp => "身份确认",
        }
    }
}

fn code_key(purpose: SmsPurpose, phone: &PhoneNumber) -> String {
    format!("sms-code:{}:{}", purpose.as_str(), phone.as_str())
}

/// Sends a fresh code, within the per-phone limits.
pub async fn send_code(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: SmsPurpose,
) -> Result<(), ApiError> {
    let store = &*state.ephemeral;
    let interval = state.config.sms_resend_interval_secs;
    if interval > 0 {
        per_interval(interval)
            .hit(store, phone.as_str())
            .await
            .map_err(|e| relabel(e, "sms_too_frequent", "验证码发送过于频繁，请稍后再试"))?;
    }
    PER_DAY
        .hit(store, phone.as_str())
        .await
        .map_err(|e| relabel(e, "sms_daily_limit", "该手机号今日获取验证码次数已达上限"))?;
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    let lifetime = Duration::from_secs(state.config.sms_code_lifetime_secs);
    store
        .put(&code_key(purpose, phone), &code, lifetime)
        .await?;
    store
        .delete(&format!("{}:guesses", code_key(purpose, phone)))
        .await?;
    let text = format!(
        "【居住证服务平台】您的{}验证码为{}，{}分钟内有效。请勿将验证码告诉他人。",
        purpose.label(),
        code,
        lifetime.as_secs().div_ceil(60)
    );
    state.sms.send(phone.as_str(), &text).await.map_err(|e| {
        tracing::error!(error = %e, "SMS not sent");
        ApiError::unavailable()
    })?;
    Ok(())
}

fn relabel(e: ApiError, code: &str, message: &str) -> ApiError {
    let retry = e.body().retry_after.unwrap_or(60);
    ApiError::too_many(code, retry, message)
}

/// Spends a code: right once, within 5 minutes, for this phone and purpose.
pub async fn verify_code(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: SmsPurpose,
    code: &str,
) -> Result<(), ApiError> {
    let invalid =
        || ApiError::unprocessable("invalid_sms_code", "sms_code", "短信验证码错误或已失效");
    let store = &*state.ephemeral;
    let key = code_key(purpose, phone);
    let Some(expected) = store.get(&key).await? else {
        return Err(invalid());
    };
    if expected != code.trim() {
        let guesses = store
            .increment(
                &format!("{key}:guesses"),
                Duration::from_secs(state.config.sms_code_lifetime_secs),
            )
            .await?;
        if guesses >= MAX_GUESSES {
            store.delete(&key).await?;
        }
        return Err(invalid());
    }
    // Of two requests racing with the right code, only the one that takes it succeeds.
    match store.take(&key).await? {
        Some(taken) if taken == expected => Ok(()),
        _ => Err(invalid()),
    }
}

#[derive(Debug, Object)]
pub struct SmsCodeRequest {
    /// Mainland mobile number.
    pub phone: String,
    pub purpose: SmsPurpose,
}

#[derive(Debug, Object)]
pub struct SmsCodeSent {
    /// The phone the code went to, masked.
    pub phone: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
}

pub struct SmsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl SmsApi {
    /// Send an SMS code (at most one a minute and ten a day per phone).
    #[oai(path = "/sms-codes", method = "post")]
    async fn send(
        &self,
        state: poem::web::Data<&AppState>,
        ip: ClientIp,
        body: Json<SmsCodeRequest>,
    ) -> Result<Json<SmsCodeSent>, ApiError> {
        let phone = crate::identity::accounts::check_phone(&body.phone, "phone")?;
        PER_IP.hit(&*state.ephemeral, &ip.0).await?;
        send_code(&state, &phone, body.purpose).await?;
        Ok(Json(SmsCodeSent {
            phone: phone.masked(),
            expires_in: state.config.sms_code_lifetime_secs,
        }))
    }

    /// Development SMS sink: the messages sent to a phone (demo or development mode only).
    #[oai(path = "/dev/sms", method = "get")]
    async fn dev_sink(
        &self,
        state: poem::web::Data<&AppState>,
        phone: Query<String>,
    ) -> Result<Json<Vec<SentSms>>, ApiError> {
        if !state.config.dev_helpers() {
            return Err(ApiError::not_found());
        }
        let phone = crate::identity::accounts::check_phone(&phone.0, "phone")?;
        Ok(Json(state.sms.sent_to(phone.as_str())))
    }

    /// Development clock: move the server's time (demo or development mode only), so a browser
    /// test can reach an appointment day or an anniversary.
    #[oai(path = "/dev/clock", method = "put")]
    async fn dev_clock(
        &self,
        state: poem::web::Data<&AppState>,
        body: Json<DevClock>,
    ) -> Result<Json<DevClock>, ApiError> {
        let Some(clock) = state
            .dev_clock
            .as_ref()
            .filter(|_| state.config.dev_helpers())
        else {
            return Err(ApiError::not_found());
        };
        clock.shift_to(body.0.now);
        Ok(Json(DevClock {
            now: state.clock.now(),
        }))
    }
}

#[derive(Debug, Clone, Object)]
pub struct DevClock {
    pub now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ephemeral::MemoryStore;

    #[tokio::test]
    async fn a_phone_gets_at_most_ten_codes_a_day_and_one_a_minute() {
        let store = MemoryStore::new();
        for _ in 0..10 {
            PER_DAY
                .hit(&store, "13800000000")
                .await
                .expect("within the daily allowance");
        }
        let refused = PER_DAY
            .hit(&store, "13800000000")
            .await
            .expect_err("eleventh refused");
        assert_eq!(refused.status().as_u16(), 429);
        PER_DAY
            .hit(&store, "13900000000")
            .await
            .expect("another phone is unaffected");
        per_interval(60)
            .hit(&store, "13800000000")
            .await
            .expect("first this minute");
        assert!(per_interval(60).hit(&store, "13800000000").await.is_err());
    }
}
