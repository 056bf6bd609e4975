//! Ephemeral keys name their subject: a phone number (SMS codes and their limits), a username,
//! an address. Under this wrapper the store only ever sees a keyed pseudonym of each key (its
//! kind, then an HMAC of the whole key under the blind-index key), so a look at Redis shows no
//! personal data, and every instance sharing the keys directory derives the same names.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Attempt, AttemptRule, Ephemeral, EphemeralResult};
use crate::platform::data_keys::DataKeys;

pub struct Pseudonymous {
    inner: Arc<dyn Ephemeral>,
    keys: Arc<DataKeys>,
}

/// Wraps `inner` so that it stores every key under its pseudonym.
pub fn pseudonymous(inner: Arc<dyn Ephemeral>, keys: Arc<DataKeys>) -> Arc<dyn Ephemeral> {
    Arc::new(Pseudonymous { inner, keys })
}

impl Pseudonymous {
    fn name(&self, key: &str) -> String {
        let kind = key.split(':').next().unwrap_or_default();
        format!("{kind}:{}", self.keys.pseudonym(key))
    }
}

#[async_trait]
impl Ephemeral for Pseudonymous {
    async fn ping(&self) -> EphemeralResult<()> {
        self.inner.ping().await
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<()> {
        self.inner.put(&self.name(key), value, ttl).await
    }
    async fn get(&self, key: &str) -> EphemeralResult<Option<String>> {
        self.inner.get(&self.name(key)).await
    }
    async fn take(&self, key: &str) -> EphemeralResult<Option<String>> {
        self.inner.take(&self.name(key)).await
    }
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<bool> {
        self.inner.put_if_absent(&self.name(key), value, ttl).await
    }
    async fn increment(&self, key: &str, ttl: Duration) -> EphemeralResult<u64> {
        self.inner.increment(&self.name(key), ttl).await
    }
    async fn ttl(&self, key: &str) -> EphemeralResult<Option<Duration>> {
        self.inner.ttl(&self.name(key)).await
    }
    async fn delete(&self, key: &str) -> EphemeralResult<()> {
        self.inner.delete(&self.name(key)).await
    }
    async fn take_attempt(
        &self,
        counter: &str,
        lock: &str,
        rule: &AttemptRule,
    ) -> EphemeralResult<Attempt> {
        self.inner
            .take_attempt(&self.name(counter), &self.name(lock), rule)
            .await
    }
    async fn give_back(&self, counter: &str, lock: &str, ticket: u64) -> EphemeralResult<()> {
        self.inner
            .give_back(&self.name(counter), &self.name(lock), ticket)
            .await
    }
    async fn purge_expired(&self) -> EphemeralResult<u64> {
        self.inner.purge_expired().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ephemeral::MemoryStore;

    #[tokio::test]
    async fn the_store_sees_pseudonyms_and_the_caller_its_own_keys() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(DataKeys::load(dir.path(), true).unwrap());
        let inner: Arc<dyn Ephemeral> = Arc::new(MemoryStore::new());
        let store = pseudonymous(inner.clone(), keys.clone());
        let key = "sms-code:login:13800000000";
        store.put(key, "x", Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.get(key).await.unwrap().as_deref(), Some("x"));
        assert_eq!(inner.get(key).await.unwrap(), None, "never under the phone");
        let named = format!("sms-code:{}", keys.pseudonym(key));
        assert!(!named.contains("13800000000"));
        assert_eq!(inner.get(&named).await.unwrap().as_deref(), Some("x"));
    }
}
