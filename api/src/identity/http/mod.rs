//! Identity's endpoints: accounts, sessions, passkeys, SMS codes and the captcha; and the one
//! place identity's typed errors become the answers clients see.

use poem::http::StatusCode;

pub mod accounts;
pub mod captcha;
pub mod passkeys;
pub mod sessions;
pub mod sms;
pub mod step_up;
pub mod views;

use super::model::AccountFieldError;
use super::password::HashingError;
use super::rate_limits::RateLimitError;
use super::service::IdentityError;
use crate::platform::error::ApiError;

impl From<AccountFieldError> for ApiError {
    fn from(e: AccountFieldError) -> Self {
        ApiError::unprocessable(e.code(), &e.field(), e.message())
    }
}

impl From<RateLimitError> for ApiError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Refused { retry_after } => {
                ApiError::too_many("rate_limited", retry_after, "请求过于频繁，请稍后再试")
            }
            RateLimitError::Locked { retry_after } => ApiError::too_many(
                "too_many_attempts",
                retry_after,
                format!("验证失败次数过多，请 {retry_after} 秒后再试"),
            ),
            RateLimitError::Ephemeral(e) => e.into(),
        }
    }
}

impl From<HashingError> for ApiError {
    fn from(e: HashingError) -> Self {
        match e {
            // A second is about what a queue of sign-ins takes to drain.
            HashingError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "当前访问人数较多，请稍后再试",
            )
            .with_retry_after(1),
            HashingError::Failed => ApiError::internal(),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Field(e) => e.into(),
            IdentityError::IdNumber(e) => {
                ApiError::unprocessable(e.code(), "id_number", e.message())
            }
            IdentityError::IdNumberSexMismatch => {
                ApiError::unprocessable("id_number_sex_mismatch", "sex", "性别与公民身份号码不符")
            }
            IdentityError::PrivacyNoticeOutdated => crate::privacy::http::notice_outdated(),
            IdentityError::UnknownRegion => {
                ApiError::unprocessable("unknown_region", "region_code", "请选择所在区域")
            }
            IdentityError::UsernameTaken => ApiError::conflict(
                "username_taken",
                "username",
                "该账号名已被他人使用，请换一个账号名，重新获取短信验证码后再提交",
            ),
            IdentityError::IdNumberTaken => ApiError::conflict(
                "id_number_taken",
                "id_number",
                "该公民身份号码已注册过账号。如果是您本人注册的，请直接登录（忘记密码可找回）；如果不是您本人注册的，请携带本人居民身份证到任一受理点窗口办理",
            ),
            IdentityError::WrongPassword { field } => {
                ApiError::unprocessable("wrong_password", field, "当前密码不正确")
            }
            IdentityError::InvalidCaptcha => {
                ApiError::unprocessable("invalid_captcha", "captcha", "人机验证未通过，请重试")
            }
            IdentityError::CaptchaRequired => {
                ApiError::unprocessable("captcha_required", "captcha", "请先完成人机验证")
            }
            IdentityError::CaptchaReplayed => ApiError::unprocessable(
                "captcha_replayed",
                "captcha",
                "人机验证已使用过，请重新验证",
            ),
            IdentityError::NotOwnPhone => {
                ApiError::unprocessable("not_own_phone", "phone", "请填写本账号绑定的手机号码")
            }
            IdentityError::InvalidSmsCode => {
                ApiError::unprocessable("invalid_sms_code", "sms_code", "短信验证码错误或已失效")
            }
            IdentityError::SmsCodeExhausted => ApiError::unprocessable(
                "sms_code_exhausted",
                "sms_code",
                "验证码错误次数过多，请重新获取验证码",
            ),
            IdentityError::SmsTooFrequent { retry_after } => ApiError::too_many(
                "sms_too_frequent",
                retry_after,
                "验证码发送过于频繁，请稍后再试",
            ),
            IdentityError::SmsDailyLimit { retry_after } => ApiError::too_many(
                "sms_daily_limit",
                retry_after,
                "该手机号今日获取验证码次数已达上限",
            ),
            IdentityError::SmsNotSent { retry_after } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "sms_unavailable",
                "短信暂时无法发送，请稍后再试",
            )
            .with_retry_after(retry_after),
            IdentityError::RateLimited(e) => e.into(),
            IdentityError::Unauthenticated => ApiError::unauthenticated(),
            IdentityError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "账号名或密码错误",
            ),
            IdentityError::SmsCodeRequired {
                phone_masked,
                retry_after,
            } => {
                let required = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "sms_code_required",
                    format!("请输入发送到 {phone_masked} 的短信验证码"),
                )
                .with_field("sms_code");
                match retry_after {
                    Some(wait) => required.with_retry_after(wait),
                    None => required,
                }
            }
            IdentityError::PasskeyRejected => {
                ApiError::unprocessable("passkey_rejected", "credential", "通行密钥验证未通过")
            }
            IdentityError::PasskeyLoginRejected => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "通行密钥验证未通过",
            ),
            IdentityError::CeremonyExpired => ApiError::new(
                StatusCode::NOT_FOUND,
                "ceremony_expired",
                "操作已超时，请重新开始",
            ),
            IdentityError::PasskeyExists => {
                ApiError::conflict("passkey_exists", "credential", "该通行密钥已登记")
            }
            IdentityError::StepUpRequired => crate::identity::auth::step_up_required(),
            IdentityError::PasskeyRequired => ApiError::unprocessable(
                "passkey_required",
                "sms_code",
                "您已设置通行密钥，请使用通行密钥确认身份",
            ),
            IdentityError::NoPasskey => ApiError::unprocessable(
                "no_passkey",
                "passkey",
                "账号没有通行密钥，请使用短信验证码",
            ),
            IdentityError::PhoneRequired => {
                ApiError::unprocessable("phone_required", "sms_code", "账号未绑定手机号码")
            }
            IdentityError::StepUpLocked { retry_after } => ApiError::too_many(
                "too_many_attempts",
                retry_after,
                format!("身份确认失败次数过多，请 {retry_after} 秒后再试"),
            ),
            IdentityError::SecondFactorExpired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "second_factor_expired",
                "登录已超时，请重新输入账号名和密码",
            ),
            IdentityError::InvalidEnrolmentCode => ApiError::unprocessable(
                "invalid_enrolment_code",
                "enrolment_code",
                "登记码不正确或已失效，请向系统管理员索取新的登记码",
            ),
            IdentityError::PasskeyEnrolled => ApiError::conflict(
                "passkey_enrolled",
                "enrolment_code",
                "该账号已登记通行密钥，请直接用通行密钥确认",
            ),
            IdentityError::LastStaffPasskey => ApiError::conflict(
                "last_passkey",
                "passkey",
                "工作人员账号至少要保留一个通行密钥",
            ),
            IdentityError::Busy => HashingError::Busy.into(),
            IdentityError::Internal(_) => ApiError::internal(),
            IdentityError::Storage(e) => e.into(),
            IdentityError::Ephemeral(e) => e.into(),
        }
    }
}
