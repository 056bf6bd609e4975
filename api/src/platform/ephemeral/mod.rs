//! Short-lived state: sessions, rate-limit counters, SMS codes, the captcha replay guard and
//! WebAuthn ceremony state. In process by default; Redis when `REDIS_URL` is set, so several
//! permitd instances see the same state. Every value has a time to live.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

mod memory;
mod redis_store;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;

#[derive(Debug, thiserror::Error)]
pub enum EphemeralError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

pub type EphemeralResult<T> = Result<T, EphemeralError>;

#[async_trait]
pub trait Ephemeral: Send + Sync + 'static {
    async fn ping(&self) -> EphemeralResult<()>;
    fn backend(&self) -> &'static str;
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<()>;
    async fn get(&self, key: &str) -> EphemeralResult<Option<String>>;
    /// Reads and deletes in one step: of two concurrent takers, only one gets the value.
    async fn take(&self, key: &str) -> EphemeralResult<Option<String>>;
    /// Stores the value only if the key is absent; true when it was stored.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<bool>;
    /// Adds one to a counter; the time to live starts with the first increment.
    async fn increment(&self, key: &str, ttl: Duration) -> EphemeralResult<u64>;
    /// Remaining time to live, if the key exists.
    async fn ttl(&self, key: &str) -> EphemeralResult<Option<Duration>>;
    async fn delete(&self, key: &str) -> EphemeralResult<()>;
}

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct EphemeralOpenError(#[from] redis::RedisError);

pub async fn open(
    redis_url: Option<&str>,
    prefix: &str,
) -> Result<Arc<dyn Ephemeral>, EphemeralOpenError> {
    match redis_url {
        None | Some("") => Ok(Arc::new(MemoryStore::new())),
        Some(url) => Ok(Arc::new(RedisStore::connect(url, prefix).await?)),
    }
}
