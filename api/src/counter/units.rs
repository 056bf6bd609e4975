//! Unit accounts (单位代办, seed 002 §3.2): employers and schools get an account at a counter,
//! file applications and endorsements for their people, and see only those. A person can
//! later claim their permit into their own real-name verified account.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::credentials::permits::{PermitView, view};
use crate::identity::auth::SessionAuth;
use crate::identity::model::{IdNumber, NewAccount, Role, check_password, check_username};
use crate::identity::password;
use crate::identity::views::Me;
use crate::platform::audit;
use crate::platform::clock::local_date;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::ApiTags;

/// A unit files for its employees or students: far more than a family's five people.
pub const MAX_PEOPLE_PER_UNIT: i64 = 5_000;

#[derive(Debug, Clone, Object)]
pub struct UnitInput {
    pub username: String,
    /// 单位名称
    pub name: String,
    /// The contact's mobile number (first login asks for an SMS code).
    pub phone: String,
    pub password: String,
}

#[derive(Debug, ApiResponse)]
pub enum UnitCreated {
    #[oai(status = 201)]
    Created(Json<Me>),
}

#[derive(Debug, Clone, Object)]
pub struct ClaimInput {
    /// 居住证号码 as printed on the slip.
    pub permit_number: String,
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
        let hash = password::hash_blocking(input.password)
            .await
            .map_err(|_| ApiError::internal())?;
        let account = state
            .storage
            .create_account(&NewAccount {
                username,
                password_hash: hash,
                role: Role::Unit,
                real_name: name,
                id_number: None,
                sex: None,
                phone: Some(phone),
                region_code: None,
                login_sms_required: true,
            })
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => {
                    ApiError::conflict("username_taken", "username", "该账号名已被使用")
                }
                other => other.into(),
            })?;
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

pub struct ClaimApi;

#[OpenApi(tag = "ApiTags::Permits")]
impl ClaimApi {
    /// Move a permit a unit obtained into my own account (real-name verified, same ID number).
    #[oai(path = "/permits/claim", method = "post")]
    async fn claim(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ClaimInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        auth.0.require(&[Role::Resident])?;
        let account = auth.0.account(&state).await?;
        if account.real_name_verified_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "real_name_required",
                "认领居住证需先在受理点完成实名认证",
            ));
        }
        let id_number = account
            .id_number
            .as_deref()
            .and_then(|i| IdNumber::parse(i).ok())
            .ok_or_else(ApiError::not_found)?;
        // Someone else's permit number is simply not found.
        let permit = state
            .storage
            .transfer_permit(body.0.permit_number.trim(), id_number.as_str(), account.id)
            .await?;
        Ok(Json(view(&permit, local_date(state.clock.now()))))
    }
}
