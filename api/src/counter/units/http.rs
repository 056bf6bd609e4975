//! Opening a unit account at the counter.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::counter::service;
use crate::identity::auth::SessionAuth;
use crate::identity::http::views::Me;
use crate::identity::model::{NewAccount, Role, check_password, check_username};
use crate::platform::audit;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::Text;
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Object)]
pub struct UnitInput {
    pub username: Text,
    /// 单位名称
    pub name: Text,
    /// The contact's mobile number (first login asks for an SMS code).
    pub phone: Text,
    pub password: Text,
}

#[derive(Debug, ApiResponse)]
pub enum UnitCreated {
    #[oai(status = 201)]
    Created(Json<Me>),
}

pub struct UnitsApi;

#[OpenApi(tag = "ApiTags::Staff")]
impl UnitsApi {
    /// Open a unit account (clerks, after checking the unit's papers at the counter).
    #[oai(path = "/staff/units", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<UnitInput>,
    ) -> Result<UnitCreated, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let input = body.0;
        let username = check_username(&input.username)?;
        let name = input.name.trim().to_string();
        if !(2..=100).contains(&name.chars().count()) {
            return Err(ApiError::unprocessable(
                "invalid_unit_name",
                "name",
                "请填写单位全称（2至100个字符）",
            ));
        }
        let phone = crate::identity::model::check_phone(&input.phone, "phone")?;
        check_password(&input.password, &input.password, "password")?;
        let hash = state.hashing.hash(input.password.into()).await?;
        let account = service::open_unit(
            &*state.storage,
            &NewAccount {
                username,
                password_hash: hash,
                role: Role::Unit,
                real_name: name,
                id_number: None,
                sex: None,
                phone: Some(phone),
                region_code: None,
                login_sms_required: true,
            },
        )
        .await?;
        audit::record(
            &state,
            &auth,
            "open_unit",
            "account",
            account.id,
            &account.real_name,
        )
        .await?;
        Ok(UnitCreated::Created(Json(Me::of(&state, &account).await?)))
    }
}
