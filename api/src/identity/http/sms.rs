//! SMS endpoints: sending a code, and the development sink and clock. The development sink
//! keeps messages in memory and is readable at `GET /api/v1/dev/sms` only in demo or
//! development mode; a real gateway implements `SmsSender`.

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::identity::auth::{deps, signed_in};
use crate::identity::model::{SmsPurpose, check_phone};
use crate::identity::service::sms;
use crate::notifications::sms as gateway;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{Nullable, Text};
use crate::platform::web::{ApiTags, ClientIp, api_enum};

api_enum!(
    /// What a code is for; a code for one purpose does not work for another.
    SmsPurposeView as "SmsPurpose" mirrors SmsPurpose {
        Register,
        Login,
        ChangePhone,
        StepUp,
    }
);

#[derive(Debug, Object)]
pub struct SmsCodeRequest {
    /// Mainland mobile number; for a step-up code from a signed-in session it may be absent
    /// (or null): the code goes to the account's own phone.
    pub phone: Nullable<Text>,
    pub purpose: SmsPurposeView,
    /// The ALTCHA solution payload; required unless signed in (one solution per code).
    pub captcha: Nullable<Text>,
}

#[derive(Debug, Object)]
pub struct SmsCodeSent {
    /// The phone the code went to, masked.
    pub phone: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
}

// The development sink's record, as the API shows it.
#[derive(Debug, Clone, Object)]
pub struct SentSms {
    pub phone: String,
    /// The message kind (its provider template): `login_code`, `review_passed`, ...
    pub kind: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

impl From<gateway::SentSms> for SentSms {
    fn from(m: gateway::SentSms) -> Self {
        SentSms {
            phone: m.phone,
            kind: m.kind,
            text: m.text,
            sent_at: m.sent_at,
        }
    }
}

pub struct SmsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl SmsApi {
    /// Send an SMS code (at most one a minute and ten a day per phone). It carries a solved
    /// captcha (`captcha_required` otherwise), except from a signed-in session asking for a
    /// step-up code to its own phone or a code for a new phone (ten an hour per account).
    #[oai(path = "/sms-codes", method = "post")]
    async fn send(
        &self,
        state: poem::web::Data<&AppState>,
        req: &poem::Request,
        ip: ClientIp,
        body: Json<SmsCodeRequest>,
    ) -> Result<Json<SmsCodeSent>, ApiError> {
        let captcha = body.captcha.as_deref();
        let requester = match signed_in(req).await? {
            Some(who) => sms::Requester::SignedIn {
                account_id: who.account_id,
                captcha,
            },
            None => sms::Requester::Anonymous { captcha },
        };
        let phone = sms::request_code(
            deps(&state),
            &ip.0,
            body.phone.as_deref(),
            body.purpose.into(),
            requester,
        )
        .await?;
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
        phone: Query<Text>,
    ) -> Result<Json<Vec<SentSms>>, ApiError> {
        if !state.config.dev_helpers() {
            return Err(ApiError::not_found());
        }
        let phone = check_phone(&phone.0, "phone")?;
        let sent = state.sms.sent_to(phone.as_str());
        Ok(Json(sent.into_iter().map(SentSms::from).collect()))
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
