//! Sign-in and sign-out endpoints, and the session cookie.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::identity::auth::{SessionAuth, deps};
use crate::identity::http::views::Me;
use crate::identity::service::second_factor;
use crate::identity::service::sessions::{self, Credentials, SessionStarted, SignIn};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{Nullable, Text};
use crate::platform::web::{ApiTags, ClientIp};

pub const COOKIE: &str = "permit_session";

fn cookie(state: &AppState, value: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

#[derive(Debug, ApiResponse)]
pub enum SignedIn {
    /// Signed in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<Me>, #[oai(header = "Set-Cookie")] String),
}

/// The profile and the cookie of a session just started.
pub(super) fn signed_in(state: &AppState, started: SessionStarted) -> (Json<Me>, String) {
    let set_cookie = cookie(state, &started.session_id, started.max_age);
    (Json(started.profile.into()), set_cookie)
}

#[derive(Debug, ApiResponse)]
pub enum PasswordSignIn {
    /// Signed in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<Me>, #[oai(header = "Set-Cookie")] String),
    /// The password was right, and a clerk or an administrator has a second step: a passkey
    /// assertion (`options`), or at the first sign-in the enrolment code and a new passkey.
    #[oai(status = 202)]
    SecondFactor(Json<SecondFactorRequired>),
}

/// The second step of a staff sign-in.
#[derive(Debug, Object)]
pub struct SecondFactorRequired {
    /// Always `second_factor_required`.
    pub code: String,
    /// Send this back with the next step; it lasts five minutes and is spent by the last step.
    pub ticket: String,
    /// No passkey yet: send the enrolment code to `POST /sessions/enrolment` first.
    pub enrolment_required: bool,
    /// For an account with a passkey: the options for `navigator.credentials.get()`; send the
    /// answer to `POST /sessions/second-factor`.
    pub options: Option<serde_json::Value>,
}

#[derive(Debug, Object)]
pub struct EnrolmentCodeEntry {
    pub ticket: Text,
    /// The one-time code from the system administrator, e.g. `ABCD-EFGH-JKLM-NPQR`.
    pub enrolment_code: Text,
}

#[derive(Debug, Object)]
pub struct EnrolmentOptions {
    /// The options for `navigator.credentials.create()`; send the answer to
    /// `POST /sessions/second-factor` with the same ticket.
    pub options: serde_json::Value,
}

#[derive(Debug, Object)]
pub struct SecondFactorAnswer {
    pub ticket: Text,
    /// The `PublicKeyCredential` the browser returned, as JSON.
    pub credential: serde_json::Value,
}

impl SignedIn {
    /// The answer for a session just started: the profile, and the cookie that carries it.
    pub fn of(state: &AppState, started: SessionStarted) -> SignedIn {
        let (me, set_cookie) = signed_in(state, started);
        SignedIn::Ok(me, set_cookie)
    }
}

#[derive(Debug, Object)]
pub struct Login {
    pub username: Text,
    pub password: Text,
    /// Needed on the first login and after a phone change; the answer `sms_code_required`
    /// says so, and the code has then been sent to the account's phone.
    pub sms_code: Nullable<Text>,
    /// 记住我: keep the session for 30 days.
    #[oai(default)]
    pub remember_me: bool,
}

#[derive(Debug, ApiResponse)]
pub enum SignedOut {
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

pub struct SessionsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl SessionsApi {
    /// Sign in with account name and password.
    #[oai(path = "/sessions", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        body: Json<Login>,
    ) -> Result<PasswordSignIn, ApiError> {
        let body = body.0;
        let outcome = sessions::sign_in(
            deps(&state),
            &ip.0,
            Credentials {
                username: &body.username,
                password: body.password.into(),
                sms_code: body.sms_code.as_deref(),
                remember: body.remember_me,
            },
        )
        .await?;
        Ok(match outcome {
            SignIn::Started(started) => {
                let (me, set_cookie) = signed_in(&state, *started);
                PasswordSignIn::Ok(me, set_cookie)
            }
            SignIn::SecondFactor(next) => {
                PasswordSignIn::SecondFactor(Json(SecondFactorRequired {
                    code: "second_factor_required".into(),
                    ticket: next.ticket,
                    enrolment_required: next.enrolment_required,
                    options: next.options,
                }))
            }
        })
    }

    /// A staff member's first sign-in: the one-time enrolment code; answers the options for
    /// the new passkey.
    #[oai(path = "/sessions/enrolment", method = "post")]
    async fn enrolment(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        body: Json<EnrolmentCodeEntry>,
    ) -> Result<Json<EnrolmentOptions>, ApiError> {
        let options =
            second_factor::enrol(deps(&state), &ip.0, &body.ticket, &body.enrolment_code).await?;
        Ok(Json(EnrolmentOptions { options }))
    }

    /// The last step of a staff sign-in: the passkey assertion, or the new passkey at the
    /// first sign-in. The session starts stepped up.
    #[oai(path = "/sessions/second-factor", method = "post")]
    async fn second_factor(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        body: Json<SecondFactorAnswer>,
    ) -> Result<SignedIn, ApiError> {
        let body = body.0;
        let started =
            second_factor::finish(deps(&state), &ip.0, &body.ticket, body.credential).await?;
        Ok(SignedIn::of(&state, started))
    }

    /// Sign out: the session ends on the server and the cookie is cleared.
    #[oai(path = "/sessions/current", method = "delete")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<SignedOut, ApiError> {
        sessions::end(deps(&state), auth.0.session()).await?;
        Ok(SignedOut::Done(cookie(&state, "", Some(0))))
    }
}
