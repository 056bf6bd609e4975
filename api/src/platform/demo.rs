//! Demo mode: the 上城区 directory, the articles, and a clerk and an administrator to try the
//! staff side with. Loaded once; later edits stand.

use crate::directory::seed;
use crate::identity::model::{EnrolmentCode, NewAccount, Role};
use crate::identity::password;
use crate::identity::service::staff;
use crate::platform::state::AppState;
use crate::platform::storage::{StorageError, StorageResult};

pub const DEMO_ADMIN: (&str, &str) = ("admin", "admin-demo-2026");
pub const DEMO_CLERK: (&str, &str) = ("clerk", "clerk-demo-2026");
/// The published one-time codes the demo staff enrol their passkey with at the first sign-in
/// (a real staff account gets a random one from `permitd staff add`).
pub const DEMO_ADMIN_ENROLMENT: &str = "DEMQ-ADMN-2345-6789";
pub const DEMO_CLERK_ENROLMENT: &str = "DEMQ-CLRK-2345-6789";

pub async fn load(state: &AppState) -> StorageResult<()> {
    if !seed::load_demo_directory(&*state.storage).await? {
        return Ok(());
    }
    let points = state.storage.service_points(None).await?;
    for (role, (username, pw), name, enrolment) in [
        (Role::Admin, DEMO_ADMIN, "演示管理员", DEMO_ADMIN_ENROLMENT),
        (Role::Clerk, DEMO_CLERK, "演示民警", DEMO_CLERK_ENROLMENT),
    ] {
        let hash = password::hash(pw).map_err(|_| StorageError::Corrupt("password hash"))?;
        let created = state
            .storage
            .create_account(&NewAccount {
                username: username.into(),
                password_hash: hash,
                role,
                real_name: name.into(),
                id_number: None,
                sex: None,
                phone: None,
                region_code: None,
                login_sms_required: false,
            })
            .await;
        let account = match created {
            Ok(account) => account,
            Err(StorageError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        };
        if role == Role::Clerk {
            let first: Vec<_> = points.iter().take(1).map(|p| p.id).collect();
            state
                .storage
                .set_staff_service_points(account.id, &first)
                .await?;
        }
        let code = EnrolmentCode::parse(enrolment).ok_or(StorageError::Corrupt("demo code"))?;
        let now = chrono::Utc::now();
        staff::enrol_with(
            &*state.storage,
            account.id,
            &code,
            now + chrono::Duration::days(3650),
            now,
        )
        .await
        .map_err(|e| match e {
            staff::StaffError::Storage(e) => e,
            _ => StorageError::Corrupt("demo enrolment"),
        })?;
    }
    tracing::info!("demo data loaded");
    Ok(())
}
