//! Accounts: registration (seed 000 §2.3), the signed-in account, password and phone changes.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

mod id_number;
pub mod password;
mod phone;

pub use id_number::{IdNumber, IdNumberError, check_character, mask as mask_id_number};
pub use phone::{PhoneNumber, mask as mask_phone};

use crate::identity::sessions::{self, Principal, SessionAuth};
use crate::identity::sms::{self, SmsPurpose};
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize, serde::Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Resident,
    Unit,
    Clerk,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Unit => "unit",
            Role::Clerk => "clerk",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "resident" => Some(Role::Resident),
            "unit" => Some(Role::Unit),
            "clerk" => Some(Role::Clerk),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Clerk | Role::Admin)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub real_name: String,
    /// Residents and units' people have one; staff accounts do not.
    pub id_number: Option<IdNumber>,
    pub sex: Option<Sex>,
    pub phone: Option<PhoneNumber>,
    pub region_code: Option<String>,
    /// An SMS code is needed at the next login (first login, or after a phone change).
    pub login_sms_required: bool,
    pub real_name_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

pub struct NewAccount {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub real_name: String,
    /// Residents and units' people have one; staff accounts do not.
    pub id_number: Option<IdNumber>,
    pub sex: Option<Sex>,
    pub phone: Option<PhoneNumber>,
    pub region_code: Option<String>,
    pub login_sms_required: bool,
}

/// Account names: 4 to 32 letters, digits or underscores, starting with a letter.
pub fn check_username(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let ok = (4..=32).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name.to_string())
    } else {
        Err(ApiError::unprocessable(
            "invalid_username",
            "username",
            "账号名须为4-32位字母、数字或下划线，并以字母开头",
        ))
    }
}

/// A mainland mobile number in `field`; the one answer every form gives for a bad one.
pub fn check_phone(raw: &str, field: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw)
        .ok_or_else(|| ApiError::unprocessable("invalid_phone", field, "请输入正确的11位手机号码"))
}

/// Real names: 2 to 30 characters, Chinese or Latin letters with the middle dot of minority
/// and foreign names (·) and spaces.
pub fn check_real_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let n = name.chars().count();
    let ok = (2..=30).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | ' '));
    if ok {
        Ok(name.to_string())
    } else {
        Err(ApiError::unprocessable(
            "invalid_real_name",
            "real_name",
            "请输入真实姓名",
        ))
    }
}

pub fn check_password(password: &str, confirmation: &str, field: &str) -> Result<(), ApiError> {
    password::check_policy(password)
        .map_err(|p| ApiError::unprocessable(p.code(), field, p.message()))?;
    if password != confirmation {
        return Err(ApiError::unprocessable(
            "password_mismatch",
            &format!("{field}_confirmation"),
            "两次输入的密码不一致",
        ));
    }
    Ok(())
}

#[derive(Debug, Object)]
pub struct Registration {
    /// 账号名
    pub username: String,
    /// 账户密码
    pub password: String,
    /// 确认密码
    pub password_confirmation: String,
    /// 真实姓名
    pub real_name: String,
    /// 公民身份号码 (18 characters)
    pub id_number: String,
    /// 性别
    pub sex: Sex,
    /// 手机号码
    pub phone: String,
    /// 手机验证码 (purpose `register`)
    pub sms_code: String,
    /// 所在区域: a region code from `GET /regions`
    pub region_code: String,
    /// 验证码: the ALTCHA solution payload
    pub captcha: String,
}

/// The signed-in account, with personal data masked.
#[derive(Debug, Object)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub real_name: String,
    /// First 6 and last 4 characters.
    pub id_number_masked: Option<String>,
    pub sex: Option<Sex>,
    pub phone_masked: Option<String>,
    pub region_code: Option<String>,
    /// 实名认证: confirmed at a counter.
    pub real_name_verified: bool,
    /// Service points a clerk works for.
    pub service_points: Vec<Uuid>,
}

impl Me {
    pub async fn of(state: &AppState, account: &Account) -> Result<Me, ApiError> {
        let service_points = if account.role.is_staff() {
            state.storage.staff_service_points(account.id).await?
        } else {
            Vec::new()
        };
        Ok(Me {
            id: account.id,
            username: account.username.clone(),
            role: account.role,
            real_name: account.real_name.clone(),
            id_number_masked: account.id_number.as_deref().map(mask_id_number),
            sex: account.sex,
            phone_masked: account.phone.as_deref().map(mask_phone),
            region_code: account.region_code.clone(),
            real_name_verified: account.real_name_verified_at.is_some(),
            service_points,
        })
    }
}

#[derive(Debug, ApiResponse)]
pub enum Registered {
    /// The account exists; sign in next (the first login asks for an SMS code).
    #[oai(status = 201)]
    Created(Json<Me>),
}

#[derive(Debug, Object)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirmation: String,
}

#[derive(Debug, Object)]
pub struct PhoneChange {
    pub password: String,
    pub new_phone: String,
    /// Code sent to the new phone with purpose `change_phone`.
    pub sms_code: String,
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
        let r = body.0;
        // Every field's form first: nothing is spent or written for a request that cannot pass.
        let username = check_username(&r.username)?;
        check_password(&r.password, &r.password_confirmation, "password")?;
        let real_name = check_real_name(&r.real_name)?;
        let id = IdNumber::parse(&r.id_number)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        if id.sex() != r.sex {
            return Err(ApiError::unprocessable(
                "id_number_sex_mismatch",
                "sex",
                "性别与公民身份号码不符",
            ));
        }
        let phone = check_phone(&r.phone, "phone")?;
        let region = state
            .storage
            .region(r.region_code.trim())
            .await
            .map_err(|e| match e {
                StorageError::NotFound => {
                    ApiError::unprocessable("unknown_region", "region_code", "请选择所在区域")
                }
                other => other.into(),
            })?;
        // The captcha guards the uniqueness answers below against enumeration.
        crate::identity::captcha::verify(&state, &r.captcha).await?;
        if state.storage.username_taken(&username).await? {
            return Err(ApiError::conflict(
                "username_taken",
                "username",
                "该账号名已被注册",
            ));
        }
        if state.storage.resident_id_number_taken(id.as_str()).await? {
            return Err(ApiError::conflict(
                "id_number_taken",
                "id_number",
                "该公民身份号码已注册账号，请直接登录或找回密码",
            ));
        }
        sms::verify_code(&state, &phone, SmsPurpose::Register, &r.sms_code).await?;
        let password_hash = password::hash_blocking(r.password)
            .await
            .map_err(|_| ApiError::internal())?;
        let account = state
            .storage
            .create_account(&NewAccount {
                username,
                password_hash,
                role: Role::Resident,
                real_name,
                id_number: Some(id),
                sex: Some(r.sex),
                phone: Some(phone),
                region_code: Some(region.code),
                login_sms_required: true,
            })
            .await
            .map_err(|e| match e {
                StorageError::Conflict("username") => {
                    ApiError::conflict("username_taken", "username", "该账号名已被注册")
                }
                StorageError::Conflict("id_number") => ApiError::conflict(
                    "id_number_taken",
                    "id_number",
                    "该公民身份号码已注册账号，请直接登录或找回密码",
                ),
                other => other.into(),
            })?;
        tracing::info!(account = %account.id, "account registered");
        Ok(Registered::Created(Json(Me::of(&state, &account).await?)))
    }

    /// The signed-in account.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, state: Data<&AppState>, auth: SessionAuth) -> Result<Json<Me>, ApiError> {
        let account = auth.0.account(&state).await?;
        Ok(Json(Me::of(&state, &account).await?))
    }

    /// Change the password; every other session ends and this one gets a fresh id.
    #[oai(path = "/me/password", method = "put")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<PasswordChange>,
    ) -> Result<sessions::SignedIn, ApiError> {
        let principal: Principal = auth.0;
        let account = principal.account(&state).await?;
        if !password::verify_blocking(
            body.current_password.clone(),
            Some(account.password_hash.clone()),
        )
        .await
        {
            return Err(ApiError::unprocessable(
                "wrong_password",
                "current_password",
                "当前密码不正确",
            ));
        }
        check_password(
            &body.new_password,
            &body.new_password_confirmation,
            "new_password",
        )?;
        let hash = password::hash_blocking(body.0.new_password)
            .await
            .map_err(|_| ApiError::internal())?;
        state.storage.set_password_hash(account.id, &hash).await?;
        sessions::start(&state, &account, principal.remember).await
    }

    /// Change the phone number: the new phone proves itself with an SMS code, and the next
    /// login asks for one again.
    #[oai(path = "/me/phone", method = "put")]
    async fn change_phone(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<PhoneChange>,
    ) -> Result<Json<Me>, ApiError> {
        let account = auth.0.account(&state).await?;
        if !password::verify_blocking(body.password.clone(), Some(account.password_hash.clone()))
            .await
        {
            return Err(ApiError::unprocessable(
                "wrong_password",
                "password",
                "当前密码不正确",
            ));
        }
        let phone = check_phone(&body.new_phone, "new_phone")?;
        sms::verify_code(&state, &phone, SmsPurpose::ChangePhone, &body.sms_code).await?;
        state.storage.set_phone(account.id, phone.as_str()).await?;
        let account = state.storage.account_by_id(account.id).await?;
        Ok(Json(Me::of(&state, &account).await?))
    }
}
