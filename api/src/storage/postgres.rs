//! PostgreSQL, for deployments with several permitd instances.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

pub struct PostgresStorage {
    pool: PgPool,
}

impl PostgresStorage {
    pub async fn open(url: &str) -> Result<Self, OpenError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(OpenError::Connect)?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

shared_queries!(PostgresStorage, pool, {
    fn backend(&self) -> &'static str {
        "postgres"
    }
});

case_queries!(
    PostgresStorage,
    sqlx::Postgres,
    pool,
    "BEGIN",
    " FOR UPDATE",
    " FOR UPDATE SKIP LOCKED"
);
permit_queries!(
    PostgresStorage,
    sqlx::Postgres,
    pool,
    "BEGIN",
    " FOR UPDATE SKIP LOCKED"
);
