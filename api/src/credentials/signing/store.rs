//! The signing state every instance shares: when each issuer key activates, and the signed
//! trust and status lists as one instance signed them (issue 16).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::platform::storage::{Database, StorageError, StorageResult, classify, run};

/// Which signed list a row of `signed_lists` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Trust,
    Status,
}

impl ListKind {
    fn as_str(self) -> &'static str {
        match self {
            ListKind::Trust => "trust",
            ListKind::Status => "status",
        }
    }
}

/// The newest published version of a signed list, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PublishedList {
    pub version: i64,
    /// What was signed, to tell when it changed.
    pub content: String,
    pub issued_at: DateTime<Utc>,
    pub ttl_seconds: i64,
}

/// The signing state every instance shares: when each issuer key activates, and the signed
/// lists as one instance signed them.
#[async_trait]
pub trait SigningStore: Send + Sync {
    /// The recorded activation time of each issuer key (kid in hex).
    async fn key_schedule(&self) -> StorageResult<Vec<(String, DateTime<Utc>)>>;
    /// Records when the key `kid` starts signing; a kid already recorded keeps its time.
    async fn schedule_key(
        &self,
        kid: &str,
        activates_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The newest version of the list, if one was ever published.
    async fn published_list(&self, kind: ListKind) -> StorageResult<Option<PublishedList>>;
    /// The signed bytes of one version.
    async fn published_bytes(&self, kind: ListKind, version: i64) -> StorageResult<Vec<u8>>;
    /// Publishes `list.version` with its bytes unless another instance published that version
    /// first (then `false`); versions more than a few behind are removed.
    async fn publish_list(
        &self,
        kind: ListKind,
        list: &PublishedList,
        bytes: &[u8],
    ) -> StorageResult<bool>;
}

/// How many older versions stay readable for a request that read the head just before a new
/// one was published.
const KEPT_LIST_VERSIONS: i64 = 8;

#[async_trait]
impl SigningStore for Database {
    async fn key_schedule(&self) -> StorageResult<Vec<(String, DateTime<Utc>)>> {
        run!(self, |e| sqlx::query_as(
            "SELECT kid, activates_at FROM issuer_key_schedule ORDER BY activates_at"
        )
        .fetch_all(e)
        .await)
        .map_err(classify)
    }

    async fn schedule_key(
        &self,
        kid: &str,
        activates_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "INSERT INTO issuer_key_schedule (kid, activates_at, recorded_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kid) DO NOTHING"
        )
        .bind(kid)
        .bind(activates_at)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }

    async fn published_list(&self, kind: ListKind) -> StorageResult<Option<PublishedList>> {
        run!(self, |e| sqlx::query_as(
            "SELECT version, content, issued_at, ttl_seconds FROM signed_lists \
             WHERE kind = $1 ORDER BY version DESC LIMIT 1"
        )
        .bind(kind.as_str())
        .fetch_optional(e)
        .await)
        .map_err(classify)
    }

    async fn published_bytes(&self, kind: ListKind, version: i64) -> StorageResult<Vec<u8>> {
        let bytes: Option<Vec<u8>> = run!(self, |e| sqlx::query_scalar(
            "SELECT bytes FROM signed_lists WHERE kind = $1 AND version = $2"
        )
        .bind(kind.as_str())
        .bind(version)
        .fetch_optional(e)
        .await)
        .map_err(classify)?;
        bytes.ok_or(StorageError::NotFound)
    }

    async fn publish_list(
        &self,
        kind: ListKind,
        list: &PublishedList,
        bytes: &[u8],
    ) -> StorageResult<bool> {
        let inserted = run!(self, |e| sqlx::query(
            "INSERT INTO signed_lists (kind, version, content, issued_at, ttl_seconds, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, version) DO NOTHING"
        )
        .bind(kind.as_str())
        .bind(list.version)
        .bind(&list.content)
        .bind(list.issued_at)
        .bind(list.ttl_seconds)
        .bind(bytes)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        if inserted > 0 {
            run!(self, |e| sqlx::query(
                "DELETE FROM signed_lists WHERE kind = $1 AND version < $2"
            )
            .bind(kind.as_str())
            .bind(list.version - KEPT_LIST_VERSIONS)
            .execute(e)
            .await
            .map(|r| r.rows_affected()))
            .map_err(classify)?;
        }
        Ok(inserted > 0)
    }
}
