//! Demo mode: the 上城区 directory, the articles, and a clerk and an administrator to try the
//! staff side with. Loaded once; later edits stand.

use crate::directory::seed;
use crate::identity::model::{NewAccount, Role};
use crate::identity::password;
use crate::platform::state::AppState;
use crate::platform::storage::{StorageError, StorageResult};

pub const DEMO_ADMIN: (&str, &str) = ("admin", "admin-demo-2026");
pub const DEMO_CLERK: (&str, &str) = ("clerk", "clerk-demo-2026");

pub async fn load(state: &AppState) -> StorageResult<()> {
    if !seed::load_demo_directory(&*state.storage).await? {
        return Ok(());
    }
    let points = state.storage.service_points(None).await?;
    for (role, (username, pw), name) in [
        (Role::Admin, DEMO_ADMIN, "演示管理员"),
        (Role::Clerk, DEMO_CLERK, "演示民警"),
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
        match created {
            Ok(account) if role == Role::Clerk => {
                let first: Vec<_> = points.iter().take(1).map(|p| p.id).collect();
                state
                    .storage
                    .set_staff_service_points(account.id, &first)
                    .await?;
            }
            Ok(_) | Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    tracing::info!("demo data loaded");
    Ok(())
}
