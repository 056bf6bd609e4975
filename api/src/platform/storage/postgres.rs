//! PostgreSQL, for deployments with several permitd instances.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::OpenError;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The pool waits `acquire_timeout` for a connection, a new one included (so a database that
/// is down or does not answer fails a request within it); an idle connection is pinged before
/// it is handed out, within the same time, so one a hung network left behind is dropped.
pub async fn open(url: &str, settings: &PoolSettings) -> Result<PgPool, OpenError> {
    let pool = PgPoolOptions::new()
        .max_connections(settings.size.max(1))
        .acquire_timeout(settings.acquire_timeout.max(Duration::from_millis(100)))
        .test_before_acquire(true)
        .connect(url)
        .await
        .map_err(OpenError::Connect)?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Runs one PostgreSQL statement for at most `within`; a statement still waiting then fails
/// as timed out (its connection is dropped, not reused).
pub async fn bounded<T, F>(within: Duration, statement: F) -> Result<T, sqlx::Error>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    tokio::time::timeout(within, statement)
        .await
        .unwrap_or_else(|_| Err(statement_timed_out()))
}

fn statement_timed_out() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the database did not answer in time",
    ))
}

/// How one instance's PostgreSQL pool waits: connections, and how long a request waits for
/// one and for each statement before it answers 503.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub size: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            size: super::DEFAULT_POOL_SIZE,
            acquire_timeout: Duration::from_millis(DEFAULT_ACQUIRE_TIMEOUT_MS),
            statement_timeout: Duration::from_millis(DEFAULT_STATEMENT_TIMEOUT_MS),
        }
    }
}

impl PoolSettings {
    pub fn of(config: &crate::platform::config::Config) -> Self {
        Self {
            size: config.db_pool_size,
            acquire_timeout: Duration::from_millis(config.db_acquire_timeout_ms),
            statement_timeout: Duration::from_millis(config.db_statement_timeout_ms),
        }
    }
}

/// `PERMIT_DB_ACQUIRE_TIMEOUT_MS`: a request waits this long for a connection (a new one
/// included) before it answers 503.
pub const DEFAULT_ACQUIRE_TIMEOUT_MS: u64 = 3000;
/// `PERMIT_DB_STATEMENT_TIMEOUT_MS`: the longest one statement may take, lock waits included.
pub const DEFAULT_STATEMENT_TIMEOUT_MS: u64 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_statement_that_never_answers_fails_as_timed_out_and_a_quick_one_passes() {
        let hung = bounded::<(), _>(Duration::from_secs(10), std::future::pending()).await;
        let err = hung.expect_err("a hung statement fails");
        assert!(matches!(&err, sqlx::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut));
        assert!(matches!(
            super::super::classify(err),
            super::super::StorageError::Unavailable(_)
        ));
        assert_eq!(
            bounded(Duration::from_secs(10), async { Ok::<_, sqlx::Error>(7) })
                .await
                .unwrap(),
            7
        );
    }
}
