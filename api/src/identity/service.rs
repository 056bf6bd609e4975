//! What other contexts ask of identity inside their own transactions.

use uuid::Uuid;

use super::store;
use crate::platform::storage::{StorageResult, Tx};

/// Serialises changes to one account's applications until the transaction ends (the
/// five-people rule is checked against what the account already holds).
pub async fn hold_account(tx: &mut Tx, account_id: Uuid) -> StorageResult<()> {
    store::lock_account(tx, account_id).await
}
