//! Short-lived state: sessions, rate-limit counters, SMS codes, the captcha replay guard and
//! WebAuthn ceremony state. In process by default; Redis when `REDIS_URL` is set, so several
//! permitd instances see the same state. Every value has a time to live.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

mod bounded;
mod memory;
mod pseudonymous;
mod redis_store;

pub use bounded::bounded;
pub use memory::MemoryStore;
pub use pseudonymous::pseudonymous;
pub use redis_store::RedisStore;

#[derive(Debug, thiserror::Error)]
pub enum EphemeralError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
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
    /// Takes one attempt at a guarded secret (a password, a code) in one atomic step: refused
    /// while `lock` is live; otherwise counted in `counter` at once, before the secret is
    /// checked, so concurrent attempts cannot all slip past the limit. The attempt that uses up
    /// the last free one arms the lock its failure would earn; success clears both keys
    /// ([`Ephemeral::delete`]) and an attempt that turns out not to count is given back with
    /// [`Ephemeral::give_back`].
    async fn take_attempt(
        &self,
        counter: &str,
        lock: &str,
        rule: &AttemptRule,
    ) -> EphemeralResult<Attempt>;
    /// Undoes one attempt taken by [`Ephemeral::take_attempt`]: the count goes down by one and
    /// the lock goes only if this attempt armed it.
    async fn give_back(&self, counter: &str, lock: &str, ticket: u64) -> EphemeralResult<()>;
    /// Drops every expired entry now (sessions, ceremonies, codes), so none outlives its time
    /// to live in memory; returns how many went. Redis drops expired keys itself: 0.
    async fn purge_expired(&self) -> EphemeralResult<u64>;
}

/// How attempts are limited: the first `free` in a `window` cost nothing; from the last free
/// one on, each attempt locks the subject for `base_lock` doubled per attempt past that, up to
/// `max_lock` (the lock is lifted by a success).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRule {
    pub free: u64,
    pub window: Duration,
    pub base_lock: Duration,
    pub max_lock: Duration,
}

impl AttemptRule {
    /// The lock armed by the `n`th attempt of the window, if any.
    pub fn lock_for(&self, n: u64) -> Option<Duration> {
        if n < self.free.max(1) {
            return None;
        }
        let doublings = (n - self.free.max(1)).min(20) as u32;
        Some(
            self.base_lock
                .saturating_mul(2u32.saturating_pow(doublings))
                .min(self.max_lock),
        )
    }
}

/// What [`Ephemeral::take_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt may go ahead; `ticket` is its number in the window (for `give_back`).
    Allowed { ticket: u64 },
    /// Locked out for this much longer; nothing was counted.
    Locked { left: Duration },
}

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct EphemeralOpenError(#[from] redis::RedisError);

pub async fn open(
    redis_url: Option<&str>,
    prefix: &str,
) -> Result<Arc<dyn Ephemeral>, EphemeralOpenError> {
    open_bounded(
        redis_url,
        prefix,
        Duration::from_millis(DEFAULT_REDIS_TIMEOUT_MS),
    )
    .await
}

/// `PERMIT_REDIS_TIMEOUT_MS`: the longest Redis connection attempt, and the longest one call
/// (its reconnection included) may take.
pub const DEFAULT_REDIS_TIMEOUT_MS: u64 = 3000;

/// The in-process store, or Redis with every call bounded by `limit` (see [`bounded`]).
pub async fn open_bounded(
    redis_url: Option<&str>,
    prefix: &str,
    limit: Duration,
) -> Result<Arc<dyn Ephemeral>, EphemeralOpenError> {
    match redis_url {
        None | Some("") => Ok(Arc::new(MemoryStore::new())),
        Some(url) => Ok(bounded(
            Arc::new(RedisStore::connect(url, prefix, limit).await?),
            limit,
        )),
    }
}
