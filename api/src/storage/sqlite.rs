//! SQLite, the embedded default: one file in the data directory, WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use super::casework::{self, Booking, CaseStore, SlotUsage, case_queries};
use super::permits::{self, PermitStore, permit_queries};
use super::shared::{self, found, shared_queries};
use super::{OpenError, Storage, StorageError, StorageResult, classify};
use crate::accounts::{Account, NewAccount};
use crate::applications::model::{
    Application, ApplicationFields, Appointment, AppointmentStatus, Decision, Material, Status,
};
use crate::calendar::{CalendarDay, Opening, Session};
use crate::directory::{Article, ArticleInput, Region, ServicePoint, ServicePointInput};
use crate::notifications::model::{NewNotification, Notification, PendingSms};
use crate::passkeys::StoredPasskey;
use crate::permits::model::{AuditEntry, NewPermit, Permit};
use crate::residence::model::{NewRegistration, ResidenceRegistration};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    pub async fn open_file(path: &Path) -> Result<Self, OpenError> {
        Self::open_with(SqliteConnectOptions::new().filename(path)).await
    }

    pub async fn open_url(url: &str) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::from_str(url).map_err(OpenError::Connect)?;
        Self::open_with(options).await
    }

    async fn open_with(options: SqliteConnectOptions) -> Result<Self, OpenError> {
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
        Ok(Self { pool })
    }
}

shared_queries!(SqliteStorage, pool, {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
});

case_queries!(SqliteStorage, sqlx::Sqlite, pool, "BEGIN IMMEDIATE", "", "");
permit_queries!(SqliteStorage, sqlx::Sqlite, pool, "BEGIN IMMEDIATE", "");
