//! The status list's rows: `status_list` (one row: capacity, indexes given, version) and
//! `status_list_pages` (the bit array, [`PAGE_BYTES`] per page; a page never written is all
//! clear). Locks are taken in one order everywhere: the `status_list` row, then permits, then
//! pages, so issuing and revoking never deadlock each other.

use super::model::{PAGE_BYTES, StatusBits, bit_of, capacity_for, set_in_page};
use crate::platform::storage::{Database, StorageError, StorageResult, Tx, classify, run};

/// Counts one more index given and answers the capacity to draw it from, growing the list
/// (a new version) when it would be more than half full; `None` when the list is full. Holds
/// the `status_list` row until the transaction ends.
pub(crate) async fn take_capacity(tx: &mut Tx) -> StorageResult<Option<u64>> {
    let (capacity, assigned): (i64, i64) = run!(tx, |e| {
        sqlx::query_as(
        "UPDATE status_list SET assigned = assigned + 1 WHERE id = 1 RETURNING capacity, assigned"
    )
    .fetch_one(e)
    .await
    })
    .map_err(classify)?;
    let capacity =
        u64::try_from(capacity).map_err(|_| StorageError::Corrupt("status list capacity"))?;
    let assigned =
        u64::try_from(assigned).map_err(|_| StorageError::Corrupt("status list count"))?;
    let Some(grown) = capacity_for(capacity, assigned) else {
        return Ok(None);
    };
    if grown != capacity {
        let grown_stored =
            i64::try_from(grown).map_err(|_| StorageError::Corrupt("status list capacity"))?;
        run!(tx, |e| sqlx::query(
            "UPDATE status_list SET capacity = $1, version = version + 1 WHERE id = 1"
        )
        .bind(grown_stored)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        tracing::info!(from = capacity, to = grown, "status list grown");
    }
    Ok(Some(grown))
}

/// A new version of the list, taken before the permits it concerns are changed (the row lock
/// comes first).
pub(crate) async fn next_version(tx: &mut Tx) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "UPDATE status_list SET version = version + 1 WHERE id = 1"
    )
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// Sets (revoked) or clears the bit of `index` in its page.
pub(crate) async fn set_bit(tx: &mut Tx, index: u64, revoked: bool) -> StorageResult<()> {
    let (page, _, _) = bit_of(index);
    let page = i64::try_from(page).map_err(|_| StorageError::Corrupt("status index"))?;
    run!(tx, |e| sqlx::query(
        "INSERT INTO status_list_pages (page, bits) VALUES ($1, $2) ON CONFLICT (page) DO NOTHING"
    )
    .bind(page)
    .bind(vec![0u8; PAGE_BYTES])
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)?;
    let sql = format!(
        "SELECT bits FROM status_list_pages WHERE page = $1{}",
        tx.dialect().for_update
    );
    let mut bits: Vec<u8> = run!(tx, |e| sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(page)
        .fetch_one(e)
        .await)
    .map_err(classify)?;
    if bits.len() != PAGE_BYTES {
        return Err(StorageError::Corrupt("status list page"));
    }
    set_in_page(&mut bits, index, revoked);
    run!(tx, |e| sqlx::query(
        "UPDATE status_list_pages SET bits = $2 WHERE page = $1"
    )
    .bind(page)
    .bind(bits)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// Marks where a failed statement can roll back to without losing the transaction (on
/// PostgreSQL an error aborts the whole transaction otherwise).
pub(crate) async fn savepoint(tx: &mut Tx) -> StorageResult<()> {
    raw(tx, "SAVEPOINT status_index").await
}

pub(crate) async fn rollback_to_savepoint(tx: &mut Tx) -> StorageResult<()> {
    raw(tx, "ROLLBACK TO SAVEPOINT status_index").await
}

pub(crate) async fn release_savepoint(tx: &mut Tx) -> StorageResult<()> {
    raw(tx, "RELEASE SAVEPOINT status_index").await
}

async fn raw(tx: &mut Tx, sql: &'static str) -> StorageResult<()> {
    run!(tx, |e| sqlx::raw_sql(sql).execute(e).await.map(|_| ())).map_err(classify)
}

/// The list's version, one small row.
pub(crate) async fn version(db: &Database) -> StorageResult<u64> {
    let v: i64 = run!(db, |e| sqlx::query_scalar(
        "SELECT version FROM status_list WHERE id = 1"
    )
    .fetch_one(e)
    .await)
    .map_err(classify)?;
    u64::try_from(v).map_err(|_| StorageError::Corrupt("status list version"))
}

type PageRow = (i64, i64, Option<i64>, Option<Vec<u8>>);

/// The whole bit array with its version, in one statement (so one snapshot), from the pages
/// alone.
pub(crate) async fn bits(db: &Database) -> StorageResult<StatusBits> {
    let rows: Vec<PageRow> = run!(db, |e| sqlx::query_as(
        "SELECT l.version, l.capacity, p.page, p.bits FROM status_list l \
         LEFT JOIN status_list_pages p ON 1 = 1 WHERE l.id = 1 ORDER BY p.page"
    )
    .fetch_all(e)
    .await)
    .map_err(classify)?;
    let Some((version, capacity, _, _)) = rows.first() else {
        return Err(StorageError::Corrupt("status list row"));
    };
    let version =
        u64::try_from(*version).map_err(|_| StorageError::Corrupt("status list version"))?;
    let capacity =
        u64::try_from(*capacity).map_err(|_| StorageError::Corrupt("status list capacity"))?;
    let mut out = StatusBits::clear(version, capacity);
    for (_, _, page, bits) in &rows {
        if let (Some(page), Some(bits)) = (page, bits) {
            let page =
                u64::try_from(*page).map_err(|_| StorageError::Corrupt("status list page"))?;
            out.put_page(page, bits);
        }
    }
    Ok(out)
}
