//! Durable storage: one database, two backends (SQLite, the embedded default, and PostgreSQL),
//! each with its own migrations under `migrations/`. The backend is chosen from the database
//! URL; anything else is a clear configuration error.
//!
//! Each context keeps its queries in its own `store.rs`, as small traits implemented for
//! [`Database`]. The SQL text is written once: both engines accept `$n` placeholders,
//! `RETURNING`, partial unique indexes and `ON CONFLICT`. A statement runs on either backend
//! through [`run!`], which only picks the executor; what differs between the engines (how a write
//! transaction starts, row locks, `SKIP LOCKED`) is the [`Dialect`] of the connection, visible
//! where it is used.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::platform::data_keys::DataKeys;

mod markers;
mod postgres;
mod schema;
pub mod sealing;
mod sqlite;

pub use markers::claim_marker;
pub use postgres::{
    DEFAULT_ACQUIRE_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, PoolSettings, bounded,
};
pub use schema::{SchemaState, schema_state, sqlite_file};
pub use sqlite::snapshot as snapshot_sqlite;

/// One statement's executor: a pool or an open transaction, of one backend.
pub enum Exec<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// Runs `$body` with `$e` bound to the executor of `$on` (a [`Database`] or a [`Tx`]). The body
/// is the same text for both backends; each arm is type-checked against its own driver.
/// On PostgreSQL the statement is bounded by [`Database::statement_timeout`]: a server or
/// network that stops answering fails it as [`StorageError::Unavailable`] instead of holding
/// the request (SQLite is a local file with its own busy timeout).
macro_rules! run {
    ($on:expr, |$e:ident| $body:expr) => {{
        let within = $on.statement_timeout();
        match $on.exec() {
            $crate::platform::storage::Exec::Sqlite($e) => $body,
            $crate::platform::storage::Exec::Postgres($e) => {
                $crate::platform::storage::bounded(within, async { $body }).await
            }
        }
    }};
}
pub(crate) use run;

/// What differs between the engines' SQL.
pub struct Dialect {
    /// Locks the selected rows until the transaction ends; SQLite needs none, since its
    /// `BEGIN IMMEDIATE` transactions already run one writer at a time.
    pub for_update: &'static str,
    /// Lets several job runners share work: rows another runner holds are skipped.
    pub skip_locked: &'static str,
}

impl Dialect {
    /// `skip_locked` for the rows of one table (by its alias) of a join only.
    pub fn skip_locked_of(&self, alias: &str) -> String {
        if self.skip_locked.is_empty() {
            String::new()
        } else {
            format!(" FOR UPDATE OF {alias} SKIP LOCKED")
        }
    }
}

const SQLITE: Dialect = Dialect {
    for_update: "",
    skip_locked: "",
};
const POSTGRES: Dialect = Dialect {
    for_update: " FOR UPDATE",
    skip_locked: " FOR UPDATE SKIP LOCKED",
};

/// The database permitd keeps its durable state in.
pub struct Database {
    pool: Exec<SqlitePool, PgPool>,
    /// How long one PostgreSQL statement may take.
    statement_timeout: std::time::Duration,
    /// Seals the personal columns as the stores write them and opens them as they read.
    keys: Arc<DataKeys>,
    /// The working-day calendar as last read, with the revision it was read at: every booking
    /// screen needs it, and it changes a few times a year (booking::store).
    pub(crate) calendar: Arc<crate::booking::store::CalendarCache>,
}

/// A write transaction; dropping it without [`Tx::commit`] rolls back.
pub struct Tx(
    Exec<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>,
    Arc<DataKeys>,
    std::time::Duration,
);

impl Database {
    pub fn exec(&self) -> Exec<&SqlitePool, &PgPool> {
        match &self.pool {
            Exec::Sqlite(p) => Exec::Sqlite(p),
            Exec::Postgres(p) => Exec::Postgres(p),
        }
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE` on SQLite, so it holds the write lock from
    /// the start instead of failing at its first write).
    pub async fn begin(&self) -> StorageResult<Tx> {
        Ok(Tx(
            match &self.pool {
                Exec::Sqlite(p) => {
                    Exec::Sqlite(p.begin_with("BEGIN IMMEDIATE").await.map_err(classify)?)
                }
                Exec::Postgres(p) => Exec::Postgres(
                    bounded(self.statement_timeout, p.begin())
                        .await
                        .map_err(classify)?,
                ),
            },
            self.keys.clone(),
            self.statement_timeout,
        ))
    }

    pub fn keys(&self) -> &DataKeys {
        &self.keys
    }

    pub fn statement_timeout(&self) -> std::time::Duration {
        self.statement_timeout
    }

    pub fn dialect(&self) -> &'static Dialect {
        match self.pool {
            Exec::Sqlite(_) => &SQLITE,
            Exec::Postgres(_) => &POSTGRES,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Exec::Sqlite(_) => "sqlite",
            Exec::Postgres(_) => "postgres",
        }
    }
}

impl Tx {
    pub fn exec(&mut self) -> Exec<&mut SqliteConnection, &mut PgConnection> {
        match &mut self.0 {
            Exec::Sqlite(t) => Exec::Sqlite(&mut **t),
            Exec::Postgres(t) => Exec::Postgres(&mut **t),
        }
    }

    pub fn dialect(&self) -> &'static Dialect {
        match self.0 {
            Exec::Sqlite(_) => &SQLITE,
            Exec::Postgres(_) => &POSTGRES,
        }
    }

    pub fn statement_timeout(&self) -> std::time::Duration {
        self.2
    }

    /// The data keys, owned, so a statement can borrow the transaction meanwhile.
    pub fn keys(&self) -> Arc<DataKeys> {
        self.1.clone()
    }

    pub async fn commit(self) -> StorageResult<()> {
        match self.0 {
            Exec::Sqlite(t) => t.commit().await,
            Exec::Postgres(t) => bounded(self.2, t.commit()).await,
        }
        .map_err(classify)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A unique value is already used; the string names the field (`username`, `id_number`, ...).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A foreign key does not hold: a deleted row is still referenced, or a new row names one
    /// that is not there. SQLite does not say which, so the use case that knows names it.
    #[error("a reference between rows does not hold")]
    ForeignKey,
    /// PostgreSQL gave up the transaction to break a deadlock or because it could not be
    /// serialized; run again, it usually succeeds. [`retry_once`] does, once.
    #[error("the database is busy: {0}")]
    Busy(sqlx::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data cannot be read: {0}")]
    Corrupt(&'static str),
    /// No connection was free in time, or the database stopped answering: it is down,
    /// unreachable or overloaded. Nothing is wrong with the request; try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
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
    #[error("the database file {} does not exist", .0.display())]
    Missing(std::path::PathBuf),
    #[error("cannot seal the personal data: {0}")]
    Seal(#[source] StorageError),
    #[error(transparent)]
    Keys(#[from] crate::platform::data_keys::DataKeyError),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// Everything permitd stores, as one object the application state holds. Each context's store
/// trait is implemented for [`Database`]; tests reach the same methods through this.
pub trait Storage:
    crate::identity::store::AccountStore
    + crate::identity::store::PasskeyStore
    + crate::identity::store::EnrolmentStore
    + crate::directory::store::DirectoryStore
    + crate::residence::store::RegistrationStore
    + crate::casework::store::ApplicationStore
    + crate::casework::store::MaterialStore
    + crate::booking::store::CalendarStore
    + crate::booking::store::CapacityStore
    + crate::booking::store::AppointmentStore
    + crate::notifications::store::NotificationStore
    + crate::credentials::store::PermitStore
    + crate::credentials::signing::SigningStore
    + crate::platform::audit::AuditStore
    + crate::privacy::store::PrivacyStore
    + PlatformStore
    + Send
    + Sync
    + 'static
{
}

impl Storage for Database {}

/// What the platform itself keeps: readiness and shared settings.
#[async_trait]
pub trait PlatformStore: Send + Sync {
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StorageResult<()>;
    fn backend(&self) -> &'static str;
    /// Opens a write transaction; a use case that changes several aggregates owns one.
    async fn begin(&self) -> StorageResult<Tx>;
    /// Stores `value` under `key` unless a value is already there; returns the value kept.
    /// Small values shared by every instance (generated secrets, seed markers).
    async fn setting_get_or_init(&self, key: &str, value: &str) -> StorageResult<String>;
}

#[async_trait]
impl PlatformStore for Database {
    async fn ping(&self) -> StorageResult<()> {
        run!(self, |e| sqlx::query("SELECT 1")
            .execute(e)
            .await
            .map(|r| r.rows_affected()))
        .map(|_| ())
        .map_err(classify)
    }

    fn backend(&self) -> &'static str {
        Database::backend(self)
    }

    async fn begin(&self) -> StorageResult<Tx> {
        Database::begin(self).await
    }

    async fn setting_get_or_init(&self, key: &str, value: &str) -> StorageResult<String> {
        run!(self, |e| sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
        )
        .bind(key)
        .bind(value)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        run!(self, |e| sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1"
        )
        .bind(key)
        .fetch_one(e)
        .await)
        .map_err(classify)
    }
}

/// Opens the storage the configuration names, with the data keys of its keys directory.
pub async fn open_configured(
    config: &crate::platform::config::Config,
) -> Result<Arc<dyn Storage>, OpenError> {
    let keys = DataKeys::for_config(config)?;
    open_with(
        config
            .database_url
            .as_ref()
            .map(crate::platform::config::Secret::expose),
        &config.data_dir,
        keys,
        PoolSettings::of(config),
    )
    .await
}

/// Opens the storage the URL names, creating the SQLite file and applying migrations; rows not
/// yet sealed under the current data key are sealed before it is handed out.
pub async fn open(
    url: Option<&str>,
    data_dir: &std::path::Path,
    keys: Arc<DataKeys>,
) -> Result<Arc<dyn Storage>, OpenError> {
    open_with(url, data_dir, keys, PoolSettings::default()).await
}

/// The PostgreSQL pool of one instance unless `PERMIT_DB_POOL_SIZE` says otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// [`open`] with a PostgreSQL pool as `pool` says (SQLite keeps its own few connections).
pub async fn open_with(
    url: Option<&str>,
    data_dir: &std::path::Path,
    keys: Arc<DataKeys>,
    pool: PoolSettings,
) -> Result<Arc<dyn Storage>, OpenError> {
    let db = connect(url, data_dir, keys, pool).await?;
    let resealed = sealing::seal_all(&db).await.map_err(OpenError::Seal)?;
    if resealed.total() > 0 {
        tracing::info!(
            values = resealed.total(),
            "sealed personal data under the current key"
        );
    }
    Ok(Arc::new(db))
}

/// `permitd keys rotate-data`: reseals, in batches, every row not under the newest data key.
pub async fn reseal(
    config: &crate::platform::config::Config,
) -> Result<sealing::Resealed, OpenError> {
    let keys = DataKeys::for_config(config)?;
    let url = config
        .database_url
        .as_ref()
        .map(crate::platform::config::Secret::expose);
    let db = connect(url, &config.data_dir, keys, PoolSettings::of(config)).await?;
    sealing::seal_all(&db).await.map_err(OpenError::Seal)
}

async fn connect(
    url: Option<&str>,
    data_dir: &std::path::Path,
    keys: Arc<DataKeys>,
    settings: PoolSettings,
) -> Result<Database, OpenError> {
    let pool = match url {
        None | Some("") => {
            std::fs::create_dir_all(data_dir)?;
            Exec::Sqlite(sqlite::open_file(&data_dir.join("permit.sqlite")).await?)
        }
        Some(url) if url.starts_with("sqlite:") => Exec::Sqlite(sqlite::open_url(url).await?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Exec::Postgres(postgres::open(url, &settings).await?)
        }
        Some(url) => {
            return Err(OpenError::UnsupportedScheme(
                url.split(':').next().unwrap_or_default().to_string(),
            ));
        }
    };
    Ok(Database {
        pool,
        statement_timeout: settings.statement_timeout,
        calendar: Default::default(),
        keys,
    })
}

/// The one row `sql` selects with its single parameter `key`; none is `NotFound`.
pub async fn one_by<R, K>(db: &Database, sql: String, key: K) -> StorageResult<R>
where
    R: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    K: Key,
{
    run!(db, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_one(e)
        .await)
    .map_err(classify)
}

/// Every row `sql` selects with its single parameter `key`.
pub async fn all_by<R, K>(db: &Database, sql: String, key: K) -> StorageResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    K: Key,
{
    run!(db, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(e)
        .await)
    .map_err(classify)
}

/// Runs `sql`, a statement with its single parameter `key`, in the transaction; answers how
/// many rows it touched.
pub async fn exec_by<K: Key>(tx: &mut Tx, sql: &'static str, key: K) -> StorageResult<u64> {
    run!(tx, |e| sqlx::query(sql)
        .bind(key)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
    .map_err(classify)
}

/// A value both backends bind as a query parameter (ids, owned text).
pub trait Key:
    for<'q> sqlx::Encode<'q, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'q> sqlx::Encode<'q, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + 'static
{
}

impl<K> Key for K where
    K: for<'q> sqlx::Encode<'q, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'q> sqlx::Encode<'q, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + 'static
{
}

/// An UPDATE or DELETE that touched nothing was aimed at a row that does not exist.
pub fn found(rows: u64) -> StorageResult<()> {
    if rows == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// SQLSTATEs that say "run the transaction again": serialization_failure and deadlock_detected.
const TRANSIENT_SQLSTATES: &[&str] = &["40001", "40P01"];

/// Whether a database error code is one a fresh attempt of the same transaction may not meet.
pub fn is_transient(sqlstate: &str) -> bool {
    TRANSIENT_SQLSTATES.contains(&sqlstate)
}

/// An error that may go away when the whole transaction runs again.
pub trait Transient {
    fn is_transient(&self) -> bool;
}

impl Transient for StorageError {
    fn is_transient(&self) -> bool {
        matches!(self, StorageError::Busy(_))
    }
}

/// Runs a use case's transaction, and once more when the database gave it up as a deadlock
/// victim or as not serializable: the first attempt rolled back entirely, so the second starts
/// clean. A second such failure stays [`StorageError::Busy`] ("try again" for the caller).
/// `attempt` must own its whole transaction (begin to commit) and have no effect outside it.
pub async fn retry_once<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: Transient,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    match attempt().await {
        Err(e) if e.is_transient() => {
            tracing::warn!("transaction gave up by the database, running it again");
            attempt().await
        }
        done => done,
    }
}

/// The database cannot be reached in time: no connection came within the acquire timeout, a
/// statement outlived its timeout, or the connection itself failed.
fn is_unavailable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

/// Maps a unique-constraint violation to the field it protects, and a deadlock or
/// serialization failure to [`StorageError::Busy`].
pub fn classify(err: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &err
        && db.code().is_some_and(|c| is_transient(&c))
    {
        return StorageError::Busy(err);
    }
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
            (&["id_number", "id_index"], "id_number"),
            (&["slug"], "slug"),
            (&["credential_id"], "credential"),
        ];
        let field = FIELDS
            .iter()
            .find(|(needles, _)| needles.iter().any(|n| text.contains(n)))
            .map_or("value", |(_, field)| *field);
        return StorageError::Conflict(field);
    }
    if let sqlx::Error::Database(db) = &err
        && db.is_foreign_key_violation()
    {
        return StorageError::ForeignKey;
    }
    if matches!(err, sqlx::Error::RowNotFound) {
        return StorageError::NotFound;
    }
    if is_unavailable(&err) {
        return StorageError::Unavailable(err);
    }
    StorageError::Database(err)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A database error carrying just an SQLSTATE, as PostgreSQL reports one.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "sqlstate {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            "coded"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn coded(sqlstate: &'static str) -> StorageError {
        classify(sqlx::Error::Database(Box::new(Coded(sqlstate))))
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_busy_and_nothing_else_is() {
        assert!(matches!(coded("40P01"), StorageError::Busy(_)));
        assert!(matches!(coded("40001"), StorageError::Busy(_)));
        assert!(coded("40P01").is_transient());
        // Other class 40 (rollback) and nearby codes are real failures, not worth a rerun.
        for other in [
            "40000", "40002", "40003", "55P03", "57014", "08006", "23503", "5",
        ] {
            let e = coded(other);
            assert!(!e.is_transient(), "{other}: {e:?}");
            assert!(!matches!(e, StorageError::Busy(_)), "{other}");
        }
        assert!(!StorageError::Database(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StorageError::NotFound.is_transient());
    }

    async fn run_failing(times: usize, with: fn() -> StorageError) -> (StorageResult<u8>, usize) {
        let calls = AtomicUsize::new(0);
        let out = retry_once(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) < times {
                Err(with())
            } else {
                Ok(7)
            }
        })
        .await;
        (out, calls.into_inner())
    }

    #[tokio::test]
    async fn a_busy_transaction_runs_once_more_and_only_once() {
        let (out, calls) = run_failing(0, || coded("40P01")).await;
        assert_eq!((out.ok(), calls), (Some(7), 1));
        let (out, calls) = run_failing(1, || coded("40P01")).await;
        assert_eq!((out.ok(), calls), (Some(7), 2), "a deadlock victim retried");
        let (out, calls) = run_failing(2, || coded("40001")).await;
        assert!(matches!(out, Err(StorageError::Busy(_))), "{out:?}");
        assert_eq!(calls, 2, "no third attempt");
        let (out, calls) = run_failing(1, || StorageError::Conflict("username")).await;
        assert!(matches!(out, Err(StorageError::Conflict(_))));
        assert_eq!(calls, 1, "a real refusal is not retried");
    }
}
