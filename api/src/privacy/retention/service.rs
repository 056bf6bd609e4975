//! One round of the retention policy, as of `now`. Every step takes batches in transactions of
//! their own (see `store`), so the round can run on every instance at once.

use chrono::{DateTime, Utc};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use super::model::{RetentionPolicy, Swept};
use super::store;
use crate::platform::ephemeral::Ephemeral;
use crate::platform::storage::{Storage, StorageResult};

/// Rows per transaction. Proof files are deleted from object storage while their rows are
/// locked, so their batches are smaller.
const BATCH: i64 = 200;
const FILE_BATCH: i64 = 50;

/// Applies the policy once: proof files and drafts, notifications, SMS bodies, and the expired
/// entries of the in-process ephemeral store.
pub async fn apply(
    storage: &dyn Storage,
    files: &dyn ObjectStore,
    ephemeral: &dyn Ephemeral,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> StorageResult<Swept> {
    let cutoffs = policy.cutoffs(now);
    let mut swept = Swept::default();
    loop {
        let (deleted, failed, taken) = delete_files(storage, files, &cutoffs).await?;
        swept.proof_files += deleted;
        swept.proof_files_failed += failed;
        // A file that could not be deleted keeps its row: stop here, so the round does not take
        // it again, and try it next round.
        if taken < FILE_BATCH as usize || failed > 0 {
            break;
        }
    }
    swept.drafts = batches(storage, |tx| {
        Box::pin(store::delete_drafts(tx, cutoffs.drafts, BATCH))
    })
    .await?;
    swept.notifications = batches(storage, |tx| {
        Box::pin(store::delete_notifications(
            tx,
            cutoffs.notifications,
            BATCH,
        ))
    })
    .await?;
    swept.sms_bodies = batches(storage, |tx| {
        Box::pin(store::erase_sms_bodies(tx, cutoffs.sms_bodies, now, BATCH))
    })
    .await?;
    swept.ephemeral = match ephemeral.purge_expired().await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "ephemeral store: expired entries not purged");
            0
        }
    };
    Ok(swept)
}

/// One batch of proof files: each file is deleted from object storage, then its row. A file
/// already gone counts as deleted; any other failure leaves the row for the next round.
/// Returns (deleted, failed, taken).
async fn delete_files(
    storage: &dyn Storage,
    files: &dyn ObjectStore,
    cutoffs: &super::model::Cutoffs,
) -> StorageResult<(usize, usize, usize)> {
    let mut tx = storage.begin().await?;
    let due = store::due_files(&mut tx, cutoffs, FILE_BATCH).await?;
    let (mut deleted, mut failed) = (0, 0);
    for file in &due {
        match files
            .delete(&ObjectPath::from(file.object_key.as_str()))
            .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                deleted += store::delete_file_row(&mut tx, file.id).await? as usize;
            }
            Err(_) => {
                // The error may name the object key; the material id is enough to find it.
                tracing::warn!(material = %file.id, "proof file not deleted; retrying next round");
                failed += 1;
            }
        }
    }
    tx.commit().await?;
    Ok((deleted, failed, due.len()))
}

type Step<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = StorageResult<u64>> + Send + 'a>>;

/// Runs `step` in transactions of its own until a batch comes back short; returns the total.
async fn batches<F>(storage: &dyn Storage, step: F) -> StorageResult<usize>
where
    F: for<'a> Fn(&'a mut crate::platform::storage::Tx) -> Step<'a>,
{
    let mut total = 0;
    loop {
        let mut tx = storage.begin().await?;
        let n = step(&mut tx).await?;
        tx.commit().await?;
        total += n as usize;
        if n < BATCH as u64 {
            return Ok(total);
        }
    }
}
