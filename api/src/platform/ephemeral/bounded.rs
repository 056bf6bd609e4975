//! A time limit on every call to a shared ephemeral store (Redis): a server that is down, a
//! network that swallows packets or a reconnection that keeps failing fails the call after
//! the limit as [`EphemeralError::TimedOut`], so the request answers `503` with `Retry-After`
//! instead of waiting. Nothing is kept from a call that timed out: the next one uses the
//! connection as it then is, so recovery needs nothing from here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Attempt, AttemptRule, Ephemeral, EphemeralError, EphemeralResult};

pub struct Bounded {
    inner: Arc<dyn Ephemeral>,
    limit: Duration,
}

/// Wraps `inner` so that every call ends within `limit`.
pub fn bounded(inner: Arc<dyn Ephemeral>, limit: Duration) -> Arc<dyn Ephemeral> {
    Arc::new(Bounded { inner, limit })
}

impl Bounded {
    async fn within<T>(
        &self,
        call: impl Future<Output = EphemeralResult<T>>,
    ) -> EphemeralResult<T> {
        tokio::time::timeout(self.limit, call)
            .await
            .unwrap_or(Err(EphemeralError::TimedOut(self.limit)))
    }
}

#[async_trait]
impl Ephemeral for Bounded {
    async fn ping(&self) -> EphemeralResult<()> {
        self.within(self.inner.ping()).await
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<()> {
        self.within(self.inner.put(key, value, ttl)).await
    }
    async fn get(&self, key: &str) -> EphemeralResult<Option<String>> {
        self.within(self.inner.get(key)).await
    }
    async fn take(&self, key: &str) -> EphemeralResult<Option<String>> {
        self.within(self.inner.take(key)).await
    }
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<bool> {
        self.within(self.inner.put_if_absent(key, value, ttl)).await
    }
    async fn increment(&self, key: &str, ttl: Duration) -> EphemeralResult<u64> {
        self.within(self.inner.increment(key, ttl)).await
    }
    async fn ttl(&self, key: &str) -> EphemeralResult<Option<Duration>> {
        self.within(self.inner.ttl(key)).await
    }
    async fn delete(&self, key: &str) -> EphemeralResult<()> {
        self.within(self.inner.delete(key)).await
    }
    async fn take_attempt(
        &self,
        counter: &str,
        lock: &str,
        rule: &AttemptRule,
    ) -> EphemeralResult<Attempt> {
        self.within(self.inner.take_attempt(counter, lock, rule))
            .await
    }
    async fn give_back(&self, counter: &str, lock: &str, ticket: u64) -> EphemeralResult<()> {
        self.within(self.inner.give_back(counter, lock, ticket))
            .await
    }
    async fn purge_expired(&self) -> EphemeralResult<u64> {
        self.within(self.inner.purge_expired()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose every call waits forever.
    struct Hanging;

    #[async_trait]
    impl Ephemeral for Hanging {
        async fn ping(&self) -> EphemeralResult<()> {
            std::future::pending().await
        }
        fn backend(&self) -> &'static str {
            "hanging"
        }
        async fn put(&self, _: &str, _: &str, _: Duration) -> EphemeralResult<()> {
            std::future::pending().await
        }
        async fn get(&self, _: &str) -> EphemeralResult<Option<String>> {
            std::future::pending().await
        }
        async fn take(&self, _: &str) -> EphemeralResult<Option<String>> {
            std::future::pending().await
        }
        async fn put_if_absent(&self, _: &str, _: &str, _: Duration) -> EphemeralResult<bool> {
            std::future::pending().await
        }
        async fn increment(&self, _: &str, _: Duration) -> EphemeralResult<u64> {
            std::future::pending().await
        }
        async fn ttl(&self, _: &str) -> EphemeralResult<Option<Duration>> {
            std::future::pending().await
        }
        async fn delete(&self, _: &str) -> EphemeralResult<()> {
            std::future::pending().await
        }
        async fn take_attempt(
            &self,
            _: &str,
            _: &str,
            _: &AttemptRule,
        ) -> EphemeralResult<Attempt> {
            std::future::pending().await
        }
        async fn give_back(&self, _: &str, _: &str, _: u64) -> EphemeralResult<()> {
            std::future::pending().await
        }
        async fn purge_expired(&self) -> EphemeralResult<u64> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_answers_fails_as_timed_out() {
        let store = bounded(Arc::new(Hanging), Duration::from_secs(3));
        assert!(matches!(
            store.get("k").await,
            Err(EphemeralError::TimedOut(_))
        ));
        assert!(matches!(
            store.put("k", "v", Duration::from_secs(1)).await,
            Err(EphemeralError::TimedOut(_))
        ));
        assert!(matches!(
            store.ping().await,
            Err(EphemeralError::TimedOut(_))
        ));
    }
}
