//! Staff accounts, created by an operator with `permitd staff add`.

use uuid::Uuid;

use crate::identity::model::{
    Account, AccountFieldError, NewAccount, Role, check_password, check_real_name, check_username,
};
use crate::identity::password;
use crate::platform::storage::{Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(String),
    #[error("service point {0} does not exist")]
    UnknownServicePoint(Uuid),
    #[error("the account name is already taken")]
    UsernameTaken,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub async fn add(
    storage: &dyn Storage,
    username: &str,
    role: Role,
    display_name: Option<&str>,
    password_text: &str,
    service_points: &[Uuid],
) -> Result<Account, StaffError> {
    let invalid = |e: AccountFieldError| StaffError::Invalid(e.message().to_string());
    if !role.is_staff() {
        return Err(StaffError::Invalid("role must be clerk or admin".into()));
    }
    let username = check_username(username).map_err(invalid)?;
    check_password(password_text, password_text, "password").map_err(invalid)?;
    let real_name = match display_name {
        Some(name) => check_real_name(name).map_err(invalid)?,
        None => username.clone(),
    };
    for id in service_points {
        match storage.service_point(*id).await {
            Ok(_) => {}
            Err(StorageError::NotFound) => return Err(StaffError::UnknownServicePoint(*id)),
            Err(e) => return Err(e.into()),
        }
    }
    let hash = password::hash(password_text).map_err(|e| StaffError::Invalid(e.to_string()))?;
    let account = storage
        .create_account(&NewAccount {
            username,
            password_hash: hash,
            role,
            real_name,
            id_number: None,
            sex: None,
            phone: None,
            region_code: None,
            login_sms_required: false,
        })
        .await
        .map_err(|e| match e {
            StorageError::Conflict(_) => StaffError::UsernameTaken,
            other => other.into(),
        })?;
    storage
        .set_staff_service_points(account.id, service_points)
        .await?;
    Ok(account)
}
