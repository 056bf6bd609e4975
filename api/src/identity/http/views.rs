//! Identity's shapes that other contexts' endpoints show too: the `Role` and `Sex` enums as the
//! API names them, the signed-in account (`Me`) and the passkey ceremony objects of step-up.
//! They live here, not in `http`, because other contexts may not name identity's http.

use poem_openapi::Object;
use uuid::Uuid;

use crate::identity::auth::deps;
use crate::identity::model::{Account, Role, Sex, mask_id_number, mask_phone};
use crate::identity::service::accounts::{Profile, profile};
use crate::identity::service::passkeys::Ceremony;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::api_enum;

api_enum!(RoleView as "Role" mirrors Role {
    Resident,
    Unit,
    Clerk,
    Admin,
});

api_enum!(SexView as "Sex" mirrors Sex { Male, Female });

/// The signed-in account, with personal data masked.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub role: RoleView,
    pub real_name: String,
    /// First 6 and last 4 characters.
    pub id_number_masked: Option<String>,
    pub sex: Option<SexView>,
    pub phone_masked: Option<String>,
    pub region_code: Option<String>,
    /// 实名认证: confirmed at a counter.
    pub real_name_verified: bool,
    /// Service points a clerk works for.
    pub service_points: Vec<Uuid>,
}

impl From<Profile> for Me {
    fn from(p: Profile) -> Self {
        let account = p.account;
        Me {
            id: account.id,
            username: account.username,
            role: account.role.into(),
            real_name: account.real_name,
            id_number_masked: account.id_number.as_deref().map(mask_id_number),
            sex: account.sex.map(SexView::from),
            phone_masked: account.phone.as_deref().map(mask_phone),
            region_code: account.region_code,
            real_name_verified: account.real_name_verified_at.is_some(),
            service_points: p.service_points,
        }
    }
}

impl Me {
    /// The profile of an account another context has just loaded or changed.
    pub async fn of(state: &AppState, account: &Account) -> Result<Me, ApiError> {
        Ok(profile(deps(state).storage, account.clone()).await?.into())
    }
}

#[derive(Debug, Object)]
pub struct CeremonyStarted {
    /// Ceremony id for the finish call.
    pub id: Uuid,
    /// The options to hand to `navigator.credentials.create()` / `.get()`.
    pub options: serde_json::Value,
}

impl From<Ceremony> for CeremonyStarted {
    fn from(c: Ceremony) -> Self {
        CeremonyStarted {
            id: c.id,
            options: c.options,
        }
    }
}

#[derive(Debug, Object)]
pub struct FinishCeremony {
    /// The `PublicKeyCredential` the browser returned, as JSON.
    pub credential: serde_json::Value,
}
