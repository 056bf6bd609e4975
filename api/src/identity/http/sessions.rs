//! Sign-in and sign-out endpoints, and the session cookie.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::identity::auth::{SessionAuth, deps};
use crate::identity::http::views::Me;
use crate::identity::service::sessions::{self, Credentials, SessionStarted};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::Text;
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

impl SignedIn {
    /// The answer for a session just started: the profile, and the cookie that carries it.
    pub fn of(state: &AppState, started: SessionStarted) -> SignedIn {
        let set_cookie = cookie(state, &started.session_id, started.max_age);
        SignedIn::Ok(Json(started.profile.into()), set_cookie)
    }
}

#[derive(Debug, Object)]
pub struct Login {
    pub username: Text,
    pub password: Text,
    /// Needed on the first login and after a phone change; the answer `sms_code_required`
    /// says so, and the code has then been sent to the account's phone.
    pub sms_code: Option<Text>,
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
    ) -> Result<SignedIn, ApiError> {
        let body = body.0;
        let started = sessions::sign_in(
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
