//! The staff audit log: every staff action and every staff read of a person's file or ID
//! number is written before the answer goes out (append-only in the database).

use crate::error::ApiError;
use crate::permits::model::AuditEntry;
use crate::sessions::SessionAuth;
use crate::state::AppState;

pub async fn record(
    state: &AppState,
    auth: &SessionAuth,
    action: &str,
    object_type: &str,
    object_id: impl ToString,
    detail: impl Into<String>,
) -> Result<(), ApiError> {
    state
        .storage
        .audit(&AuditEntry {
            at: state.clock.now(),
            staff_id: auth.0.account_id,
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.to_string(),
            detail: detail.into(),
        })
        .await?;
    Ok(())
}
