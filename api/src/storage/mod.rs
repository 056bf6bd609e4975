//! Durable storage: one interface, two implementations (SQLite, the embedded default, and
//! PostgreSQL), each with its own migrations under `migrations/`. The backend is chosen from the
//! database URL; anything else is a clear configuration error.
//!
//! The SQL text is shared: both engines accept `$n` placeholders, `RETURNING`, partial unique
//! indexes and `ON CONFLICT`, so `shared_queries!` writes each query once for both pools. What
//! differs (pool set-up, migrations, later `FOR UPDATE SKIP LOCKED`) lives in each backend file.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::{Account, NewAccount};
use crate::directory::{Article, ArticleInput, Region, ServicePoint, ServicePointInput};
use crate::passkeys::StoredPasskey;

mod casework;
mod permits;
mod postgres;
mod shared;
mod sqlite;

pub use casework::{Booking, CaseStore, DueAppointment, NoticeFor, SlotUsage};
pub use permits::{PermitNotice, PermitStore};

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A unique value is already used; the string names the field (`username`, `id_number`, ...).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data cannot be read: {0}")]
    Corrupt(&'static str),
    /// A rule the database enforces refused the change (`slot_full`, `too_many_applicants`,
    /// `not_editable`, ...); nothing was written.
    #[error("rejected: {0}")]
    Rejected(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported DATABASE_URL scheme `{0}`: use postgres://... or sqlite://... (or leave it empty for SQLite in the data directory)"
    )]
    UnsupportedScheme(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory: {0}")]
    DataDir(#[from] std::io::Error),
}

pub type StorageResult<T> = Result<T, StorageError>;

#[async_trait]
pub trait Storage: CaseStore + PermitStore + Send + Sync + 'static {
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StorageResult<()>;
    fn backend(&self) -> &'static str;

    // Settings: small values shared by every instance (generated secrets, seed markers).
    /// Stores `value` under `key` unless a value is already there; returns the value kept.
    async fn setting_get_or_init(&self, key: &str, value: &str) -> StorageResult<String>;

    // Accounts.
    async fn create_account(&self, account: &NewAccount) -> StorageResult<Account>;
    async fn account_by_id(&self, id: Uuid) -> StorageResult<Account>;
    async fn account_by_username(&self, username: &str) -> StorageResult<Account>;
    async fn username_taken(&self, username: &str) -> StorageResult<bool>;
    async fn resident_id_number_taken(&self, id_number: &str) -> StorageResult<bool>;
    async fn resident_by_id_number(&self, id_number: &str) -> StorageResult<Account>;
    async fn set_password_hash(&self, id: Uuid, hash: &str) -> StorageResult<()>;
    /// Changes the phone and requires an SMS code at the next login.
    async fn set_phone(&self, id: Uuid, phone: &str) -> StorageResult<()>;
    async fn set_login_sms_required(&self, id: Uuid, required: bool) -> StorageResult<()>;
    async fn set_staff_service_points(&self, id: Uuid, points: &[Uuid]) -> StorageResult<()>;
    async fn staff_service_points(&self, id: Uuid) -> StorageResult<Vec<Uuid>>;

    // Passkeys.
    async fn add_passkey(&self, passkey: &StoredPasskey) -> StorageResult<()>;
    async fn passkeys_of(&self, account_id: Uuid) -> StorageResult<Vec<StoredPasskey>>;
    /// Replaces the stored credential (its signature counter moves on every use).
    async fn update_passkey(
        &self,
        id: Uuid,
        credential_json: &str,
        used_at: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Deletes one of the account's passkeys; another account's passkey is `NotFound`.
    async fn delete_passkey(&self, account_id: Uuid, id: Uuid) -> StorageResult<()>;

    // Directory.
    async fn upsert_region(&self, region: &Region) -> StorageResult<()>;
    async fn regions_under(&self, parent: Option<&str>) -> StorageResult<Vec<Region>>;
    async fn region(&self, code: &str) -> StorageResult<Region>;
    async fn create_service_point(&self, input: &ServicePointInput) -> StorageResult<ServicePoint>;
    async fn update_service_point(
        &self,
        id: Uuid,
        input: &ServicePointInput,
    ) -> StorageResult<ServicePoint>;
    async fn delete_service_point(&self, id: Uuid) -> StorageResult<()>;
    async fn service_point(&self, id: Uuid) -> StorageResult<ServicePoint>;
    /// Service points whose district or street code starts with `region` (all when `None`).
    async fn service_points(&self, region: Option<&str>) -> StorageResult<Vec<ServicePoint>>;
    async fn create_article(&self, input: &ArticleInput) -> StorageResult<Article>;
    async fn update_article(&self, id: Uuid, input: &ArticleInput) -> StorageResult<Article>;
    async fn delete_article(&self, id: Uuid) -> StorageResult<()>;
    async fn article(&self, id: Uuid) -> StorageResult<Article>;
    async fn article_by_slug(&self, slug: &str) -> StorageResult<Article>;
    async fn articles(&self, kind: Option<&str>) -> StorageResult<Vec<Article>>;
}

/// Opens the storage the URL names, creating the SQLite file and applying migrations.
pub async fn open(
    url: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<std::sync::Arc<dyn Storage>, OpenError> {
    match url {
        None | Some("") => {
            std::fs::create_dir_all(data_dir)?;
            let path = data_dir.join("permit.sqlite");
            Ok(std::sync::Arc::new(SqliteStorage::open_file(&path).await?))
        }
        Some(url) if url.starts_with("sqlite:") => {
            Ok(std::sync::Arc::new(SqliteStorage::open_url(url).await?))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(std::sync::Arc::new(PostgresStorage::open(url).await?))
        }
        Some(url) => Err(OpenError::UnsupportedScheme(
            url.split(':').next().unwrap_or_default().to_string(),
        )),
    }
}

/// Maps a unique-constraint violation to the field it protects.
fn classify(err: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
        // PostgreSQL names the index; SQLite names the table and column.
        const FIELDS: &[(&[&str], &str)] = &[
            (&["username"], "username"),
            (
                &["permits_application", "permits.application_id"],
                "application",
            ),
            (
                &["permits_status_index", "permits.status_index"],
                "status_index",
            ),
            (&["permits_number", "permits.number"], "permit_number"),
            (&["applications_number", "applications.number"], "number"),
            (
                &["appointments_one_booked", "appointments.application_id"],
                "appointment",
            ),
            (&["id_number"], "id_number"),
            (&["slug"], "slug"),
            (&["credential_id"], "credential"),
        ];
        let field = FIELDS
            .iter()
            .find(|(needles, _)| needles.iter().any(|n| text.contains(n)))
            .map_or("value", |(_, field)| *field);
        return StorageError::Conflict(field);
    }
    if matches!(err, sqlx::Error::RowNotFound) {
        return StorageError::NotFound;
    }
    StorageError::Database(err)
}
