//! Who people are, as plain data and rules: roles, accounts, the form of each account field,
//! what an SMS code is for, a passkey as stored. No I/O here.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use webauthn_rs::prelude::Passkey;

mod enrolment;
mod id_number;
mod phone;
mod session;

pub use enrolment::EnrolmentCode;
pub use id_number::{IdNumber, IdNumberError, check_character, mask as mask_id_number};
pub use phone::{PhoneNumber, mask as mask_phone};
pub use session::{SessionLimits, staff_session_alive, step_up_fresh};

use crate::identity::password::{self, PasswordProblem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A clerk or administrator acting, once their role is checked at the door; the service points
/// they serve bound what they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staff {
    pub account_id: Uuid,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Set on a service point's custody account, which holds its walk-ins until each person
    /// claims their permit; no one signs in with it.
    pub custody_point_id: Option<Uuid>,
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

/// Which field rule a value broke, and in which form field; the rule's words are here, so
/// every form that checks the field answers alike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountFieldError {
    #[error("invalid username")]
    Username,
    #[error("invalid phone number in {field}")]
    Phone { field: &'static str },
    #[error("invalid real name")]
    RealName,
    #[error("password in {field} breaks the policy")]
    Password {
        field: &'static str,
        problem: PasswordProblem,
    },
    #[error("the confirmation of {field} differs")]
    PasswordMismatch { field: &'static str },
}

impl AccountFieldError {
    pub fn code(&self) -> &'static str {
        match self {
            AccountFieldError::Username => "invalid_username",
            AccountFieldError::Phone { .. } => "invalid_phone",
            AccountFieldError::RealName => "invalid_real_name",
            AccountFieldError::Password { problem, .. } => problem.code(),
            AccountFieldError::PasswordMismatch { .. } => "password_mismatch",
        }
    }
    pub fn field(&self) -> String {
        match self {
            AccountFieldError::Username => "username".into(),
            AccountFieldError::Phone { field } | AccountFieldError::Password { field, .. } => {
                (*field).into()
            }
            AccountFieldError::RealName => "real_name".into(),
            AccountFieldError::PasswordMismatch { field } => format!("{field}_confirmation"),
        }
    }
    pub fn message(&self) -> &'static str {
        match self {
            AccountFieldError::Username => "账号名须为4-32位字母、数字或下划线，并以字母开头",
            AccountFieldError::Phone { .. } => "请输入正确的11位手机号码",
            AccountFieldError::RealName => "请输入真实姓名",
            AccountFieldError::Password { problem, .. } => problem.message(),
            AccountFieldError::PasswordMismatch { .. } => "两次输入的密码不一致",
        }
    }
}

/// Account names: 4 to 32 letters, digits or underscores, starting with a letter.
pub fn check_username(name: &str) -> Result<String, AccountFieldError> {
    let name = name.trim();
    let ok = (4..=32).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name.to_string())
    } else {
        Err(AccountFieldError::Username)
    }
}

/// A mainland mobile number in `field`; the one answer every form gives for a bad one.
pub fn check_phone(raw: &str, field: &'static str) -> Result<PhoneNumber, AccountFieldError> {
    PhoneNumber::parse(raw).ok_or(AccountFieldError::Phone { field })
}

/// Real names: 2 to 30 characters, Chinese or Latin letters with the middle dot of minority
/// and foreign names (·) and spaces.
pub fn check_real_name(name: &str) -> Result<String, AccountFieldError> {
    let name = name.trim();
    let n = name.chars().count();
    let ok = (2..=30).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | ' '));
    if ok {
        Ok(name.to_string())
    } else {
        Err(AccountFieldError::RealName)
    }
}

/// A new password in `field` meets the policy and matches its confirmation.
pub fn check_password(
    password: &str,
    confirmation: &str,
    field: &'static str,
) -> Result<(), AccountFieldError> {
    password::check_policy(password)
        .map_err(|problem| AccountFieldError::Password { field, problem })?;
    if password != confirmation {
        return Err(AccountFieldError::PasswordMismatch { field });
    }
    Ok(())
}

/// What an SMS code is for; a code for one purpose does not work for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsPurpose {
    Register,
    Login,
    ChangePhone,
    StepUp,
}

impl SmsPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsPurpose::Register => "register",
            SmsPurpose::Login => "login",
            SmsPurpose::ChangePhone => "change_phone",
            SmsPurpose::StepUp => "step_up",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SmsPurpose::Register => "注册",
            SmsPurpose::Login => "登录",
            SmsPurpose::ChangePhone => "更换手机号码",
            SmsPurpose::StepUp => "身份确认",
        }
    }
}

/// A passkey as stored: the webauthn-rs credential serialised as JSON.
#[derive(Clone)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    /// base64url of the credential id.
    pub credential_id: String,
    pub credential_json: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredPasskey {
    pub fn passkey(&self) -> Result<Passkey, serde_json::Error> {
        serde_json::from_str(&self.credential_json)
    }
}

/// The name a new passkey gets: the one given, trimmed to 40 characters, or 通行密钥.
pub fn passkey_name(given: Option<String>) -> String {
    given
        .map(|n| n.trim().chars().take(40).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "通行密钥".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_rules_name_the_rule_and_the_form_field() {
        assert_eq!(check_username("  alice_1 ").unwrap(), "alice_1");
        assert_eq!(check_username("1abc"), Err(AccountFieldError::Username));
        assert_eq!(check_username("abc"), Err(AccountFieldError::Username));
        let e = check_phone("12345", "new_phone").unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_str()),
            ("invalid_phone", "new_phone")
        );
        assert_eq!(
            check_real_name(" 阿依古丽·买买提 ").unwrap(),
            "阿依古丽·买买提"
        );
        assert_eq!(check_real_name("张"), Err(AccountFieldError::RealName));
        let e = check_password("short1", "short1", "new_password").unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_str()),
            ("password_too_short", "new_password")
        );
        let e = check_password("abcdefg1", "abcdefg2", "password").unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_str(), e.message()),
            (
                "password_mismatch",
                "password_confirmation",
                "两次输入的密码不一致"
            )
        );
        assert!(check_password("abcdefg1", "abcdefg1", "password").is_ok());
    }

    #[test]
    fn a_passkey_without_a_name_is_called_passkey() {
        assert_eq!(passkey_name(None), "通行密钥");
        assert_eq!(passkey_name(Some("   ".into())), "通行密钥");
        assert_eq!(passkey_name(Some(" 我的手机 ".into())), "我的手机");
        assert_eq!(passkey_name(Some("x".repeat(50))).len(), 40);
    }
}
