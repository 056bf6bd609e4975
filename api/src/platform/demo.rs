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

/// Loads the demo directory and staff once: the marker, the service points, the articles and
/// both staff accounts with their enrolment codes in one transaction, so a start killed
/// half-way leaves nothing behind and the next start loads everything; of instances starting
/// at once on an empty database, exactly one loads it.
pub async fn load(state: &AppState) -> StorageResult<bool> {
    // The slow argon2 hashes first: the transaction holds the write lock (SQLite) and the
    // marker row (PostgreSQL) while it runs, and should not wait on them.
    let mut staff = Vec::new();
    for (role, (username, pw), name, enrolment) in [
        (Role::Admin, DEMO_ADMIN, "演示管理员", DEMO_ADMIN_ENROLMENT),
        (Role::Clerk, DEMO_CLERK, "演示民警", DEMO_CLERK_ENROLMENT),
    ] {
        let hash = password::hash(pw).map_err(|_| StorageError::Corrupt("password hash"))?;
        let code = EnrolmentCode::parse(enrolment).ok_or(StorageError::Corrupt("demo code"))?;
        let account = NewAccount {
            username: username.into(),
            password_hash: hash,
            role,
            real_name: name.into(),
            id_number: None,
            sex: None,
            phone: None,
            region_code: None,
            login_sms_required: false,
        };
        staff.push((account, code));
    }
    let mut tx = state.storage.begin().await?;
    if !seed::claim_demo(&mut tx).await? {
        return Ok(false);
    }
    let points = seed::demo_directory_in(&mut tx).await?;
    let now = chrono::Utc::now();
    for (account, code) in &staff {
        // The clerk works at the first point (清波).
        let scope: Vec<_> = match account.role {
            Role::Clerk => points.iter().take(1).map(|p| p.id).collect(),
            _ => Vec::new(),
        };
        staff::add_in(
            &mut tx,
            account,
            &scope,
            code,
            now + chrono::Duration::days(3650),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!("demo data loaded");
    Ok(true)
}
