//! How far a database's schema is from the migrations this build carries, read without
//! creating or changing anything (for `permitd check`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::OpenError;

/// What the database holds compared with this build's migrations.
#[derive(Debug)]
pub struct SchemaState {
    pub backend: &'static str,
    /// Migrations of this build not applied yet (`version description`).
    pub pending: Vec<String>,
    /// Applied migrations whose text differs from this build's, or that this build does not
    /// know (the database was migrated by another version of permitd).
    pub foreign: Vec<i64>,
}

impl SchemaState {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.foreign.is_empty()
    }
}

/// Where the SQLite database is, when the configuration names SQLite (the default file in the
/// data directory, or a `sqlite:` URL); `None` for PostgreSQL.
pub fn sqlite_file(url: Option<&str>, data_dir: &Path) -> Result<Option<PathBuf>, OpenError> {
    match url {
        None | Some("") => Ok(Some(data_dir.join("permit.sqlite"))),
        Some(url) if url.starts_with("sqlite:") => {
            let options = SqliteConnectOptions::from_str(url).map_err(OpenError::Connect)?;
            Ok(Some(options.get_filename().to_path_buf()))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(None),
        Some(url) => Err(OpenError::UnsupportedScheme(
            url.split(':').next().unwrap_or_default().to_string(),
        )),
    }
}

fn compare(backend: &'static str, migrator: &Migrator, applied: &[(i64, Vec<u8>)]) -> SchemaState {
    let known = || {
        migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
    };
    let pending = known()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    let foreign = applied
        .iter()
        .filter(|(v, sum)| {
            !known().any(|m| m.version == *v && m.checksum.as_ref() == sum.as_slice())
        })
        .map(|(v, _)| *v)
        .collect();
    SchemaState {
        backend,
        pending,
        foreign,
    }
}

/// Reads the schema state of the database the configuration names. A missing SQLite file is
/// [`OpenError::Missing`]: nothing is created.
pub async fn schema_state(url: Option<&str>, data_dir: &Path) -> Result<SchemaState, OpenError> {
    if let Some(file) = sqlite_file(url, data_dir)? {
        if !file.is_file() {
            return Err(OpenError::Missing(file));
        }
        // Read-write but never writing (and never creating: the file exists): a read-only
        // reader of a WAL database leaves the -wal and -shm files behind, a writer's last
        // close removes them.
        let mut conn = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(OpenError::Connect)?;
        let has_table: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(OpenError::Connect)?;
        let applied: Vec<(i64, Vec<u8>)> = if has_table {
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
                .fetch_all(&mut conn)
                .await
                .map_err(OpenError::Connect)?
        } else {
            Vec::new()
        };
        let _ = conn.close().await;
        return Ok(compare("sqlite", &super::sqlite::MIGRATOR, &applied));
    }
    let url = url.unwrap_or_default();
    let options = PgConnectOptions::from_str(url).map_err(OpenError::Connect)?;
    let mut conn = tokio::time::timeout(Duration::from_secs(10), options.connect())
        .await
        .map_err(|_| OpenError::Connect(sqlx::Error::PoolTimedOut))?
        .map_err(OpenError::Connect)?;
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .map_err(OpenError::Connect)?;
    let applied: Vec<(i64, Vec<u8>)> = if has_table {
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut conn)
            .await
            .map_err(OpenError::Connect)?
    } else {
        Vec::new()
    };
    let _ = conn.close().await;
    Ok(compare("postgres", &super::postgres::MIGRATOR, &applied))
}
