//! PostgreSQL, for deployments with several permitd instances.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::OpenError;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

pub async fn open(url: &str, pool_size: u32) -> Result<PgPool, OpenError> {
    let pool = PgPoolOptions::new()
        .max_connections(pool_size.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(OpenError::Connect)?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}
