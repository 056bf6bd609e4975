//! SQLite, the embedded default: one file in the data directory, WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::OpenError;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

pub async fn open_file(path: &Path) -> Result<SqlitePool, OpenError> {
    open_with(SqliteConnectOptions::new().filename(path)).await
}

pub async fn open_url(url: &str) -> Result<SqlitePool, OpenError> {
    let options = SqliteConnectOptions::from_str(url).map_err(OpenError::Connect)?;
    open_with(options).await
}

async fn open_with(options: SqliteConnectOptions) -> Result<SqlitePool, OpenError> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Erased and overwritten rows (retention, a closed account, resealing) are zeroed in
        // the file, not left in free pages for a copy of it to show.
        .pragma("secure_delete", "on")
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(OpenError::Connect)?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// A consistent copy of the SQLite database at `file` into `dest` (which must not exist), taken
/// with `VACUUM INTO` while permitd may be writing: the copy is one read transaction's view, so
/// it holds every committed transaction up to its start and nothing half done.
pub async fn snapshot(file: &Path, dest: &Path) -> Result<(), OpenError> {
    use sqlx::{ConnectOptions, Connection};
    if !file.is_file() {
        return Err(OpenError::Missing(file.to_path_buf()));
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(OpenError::Connect)?;
    sqlx::query("VACUUM INTO $1")
        .bind(dest.to_string_lossy().to_string())
        .execute(&mut conn)
        .await
        .map_err(OpenError::Connect)?;
    let _ = conn.close().await;
    Ok(())
}
