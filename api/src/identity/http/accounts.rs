//! Account endpoints: registration (the Zhejiang manual §2.3), the signed-in account, password and phone
//! changes.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::sessions::SignedIn;
use crate::identity::auth::{SessionAuth, deps};
use crate::identity::http::views::{Me, SexView};
use crate::identity::service::accounts;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::Text;
use crate::platform::web::ApiTags;

#[derive(Debug, Object)]
pub struct Registration {
    /// 账号名
    pub username: Text,
    /// 账户密码
    pub password: Text,
    /// 确认密码
    pub password_confirmation: Text,
    /// 真实姓名
    pub real_name: Text,
    /// 公民身份号码 (18 characters)
    pub id_number: Text,
    /// 性别
    pub sex: SexView,
    /// 手机号码
    pub phone: Text,
    /// 手机验证码 (purpose `register`)
    pub sms_code: Text,
    /// 所在区域: a region code from `GET /regions`
    pub region_code: Text,
    /// 验证码: the ALTCHA solution payload
    pub captcha: Text,
    /// The version of the privacy notice (`GET /privacy-notice`) the person read and agreed to.
    pub privacy_notice_version: Text,
}

impl From<Registration> for accounts::Registration {
    fn from(r: Registration) -> Self {
        accounts::Registration {
            username: r.username.into(),
            password: r.password.into(),
            password_confirmation: r.password_confirmation.into(),
            real_name: r.real_name.into(),
            id_number: r.id_number.into(),
            sex: r.sex.into(),
            phone: r.phone.into(),
            sms_code: r.sms_code.into(),
            region_code: r.region_code.into(),
            captcha: r.captcha.into(),
            privacy_notice_version: r.privacy_notice_version.into(),
        }
    }
}

#[derive(Debug, ApiResponse)]
pub enum Registered {
    /// The account exists and this device is signed in (the session cookie is set); a
    /// password sign-in on another device asks for an SMS code first.
    #[oai(status = 201)]
    Created(Json<Me>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, Object)]
pub struct PasswordChange {
    pub current_password: Text,
    pub new_password: Text,
    pub new_password_confirmation: Text,
}

#[derive(Debug, Object)]
pub struct PhoneChange {
    pub password: Text,
    pub new_phone: Text,
    /// Code sent to the new phone with purpose `change_phone`.
    pub sms_code: Text,
}

pub struct AccountsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Register a personal account (新用户注册).
    #[oai(path = "/accounts", method = "post")]
    async fn register(
        &self,
        state: Data<&AppState>,
        body: Json<Registration>,
    ) -> Result<Registered, ApiError> {
        let started = accounts::register(deps(&state), body.0.into()).await?;
        let (me, set_cookie) = super::sessions::signed_in(&state, started);
        Ok(Registered::Created(me, set_cookie))
    }

    /// The signed-in account.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, state: Data<&AppState>, auth: SessionAuth) -> Result<Json<Me>, ApiError> {
        let profile = accounts::me(deps(&state), auth.0.account_id).await?;
        Ok(Json(profile.into()))
    }

    /// Close my account (needs a fresh step-up; residents and units only). What the law
    /// requires is kept, minimised; everything else is erased, proof files included. (Served
    /// here: the document keeps one operation set per path; the use case is privacy's.)
    #[oai(path = "/me", method = "delete")]
    async fn close(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<crate::privacy::http::Closed, ApiError> {
        crate::privacy::http::close(&state, auth).await
    }

    /// Change the password (needs a fresh step-up); every other session ends and this one
    /// gets a fresh id.
    #[oai(path = "/me/password", method = "put")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<PasswordChange>,
    ) -> Result<SignedIn, ApiError> {
        auth.0.require_fresh_step_up()?;
        let b = body.0;
        let started = accounts::change_password(
            deps(&state),
            auth.0.account_id,
            auth.0.remember,
            accounts::PasswordChange {
                current_password: b.current_password.into(),
                new_password: b.new_password.into(),
                new_password_confirmation: b.new_password_confirmation.into(),
            },
        )
        .await?;
        Ok(SignedIn::of(&state, started))
    }

    /// Change the phone number (needs a fresh step-up): the new phone proves itself with an
    /// SMS code, and the next login asks for one again.
    #[oai(path = "/me/phone", method = "put")]
    async fn change_phone(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<PhoneChange>,
    ) -> Result<Json<Me>, ApiError> {
        auth.0.require_fresh_step_up()?;
        let b = body.0;
        let profile = accounts::change_phone(
            deps(&state),
            auth.0.account_id,
            accounts::PhoneChange {
                password: b.password.into(),
                new_phone: b.new_phone.into(),
                sms_code: b.sms_code.into(),
            },
        )
        .await?;
        Ok(Json(profile.into()))
    }
}
