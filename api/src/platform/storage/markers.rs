//! Seed markers: a row in `settings` per seed set, written in the seeding transaction.

use super::{StorageResult, Tx, classify, run};

/// Writes the seed marker `key` in the caller's transaction; `false` when it is already there.
/// A seed set writes its marker first and its rows after, all in one transaction: of seeders
/// starting at once, the others wait on the marker's primary key until the first commits (and
/// then find it) or rolls back (and then seed themselves), and a seeder that dies before its
/// commit leaves neither marker nor rows, so the next start seeds again.
pub async fn claim_marker(tx: &mut Tx, key: &str) -> StorageResult<bool> {
    let claimed = run!(tx, |e| sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
    )
    .bind(key)
    .bind(chrono::Utc::now().to_rfc3339())
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)?;
    Ok(claimed == 1)
}
