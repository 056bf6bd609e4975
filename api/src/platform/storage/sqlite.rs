//! SQLite, the embedded default: one file in the data directory, WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::OpenError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

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
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(OpenError::Connect)?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}
