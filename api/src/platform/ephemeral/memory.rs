//! The in-process ephemeral store: a map behind a mutex, with lazy expiry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Ephemeral, EphemeralResult};

struct Entry {
    value: String,
    expires: Instant,
}

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    operations: AtomicUsize,
}

/// Sweep expired entries every this many operations, so memory stays bounded under a flood of
/// distinct keys (rate-limit counters per IP, for example).
const SWEEP_EVERY: usize = 4096;

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>, Instant) -> T) -> T {
        let mut map = match self.entries.lock() {
            Ok(map) => map,
            // A panic while holding the lock cannot leave an entry half-written; keep going.
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        if self.operations.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            map.retain(|_, e| e.expires > now);
        }
        f(&mut map, now)
    }
}

fn live<'a>(map: &'a HashMap<String, Entry>, key: &str, now: Instant) -> Option<&'a Entry> {
    map.get(key).filter(|e| e.expires > now)
}

#[async_trait]
impl Ephemeral for MemoryStore {
    async fn ping(&self) -> EphemeralResult<()> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<()> {
        self.with(|map, now| {
            map.insert(
                key.to_string(),
                Entry {
                    value: value.to_string(),
                    expires: now + ttl,
                },
            );
        });
        Ok(())
    }

    async fn get(&self, key: &str) -> EphemeralResult<Option<String>> {
        Ok(self.with(|map, now| live(map, key, now).map(|e| e.value.clone())))
    }

    async fn take(&self, key: &str) -> EphemeralResult<Option<String>> {
        Ok(self.with(|map, now| map.remove(key).filter(|e| e.expires > now).map(|e| e.value)))
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<bool> {
        Ok(self.with(|map, now| {
            if live(map, key, now).is_some() {
                return false;
            }
            map.insert(
                key.to_string(),
                Entry {
                    value: value.to_string(),
                    expires: now + ttl,
                },
            );
            true
        }))
    }

    async fn increment(&self, key: &str, ttl: Duration) -> EphemeralResult<u64> {
        Ok(self.with(|map, now| {
            let current = live(map, key, now)
                .map(|e| (e.value.parse::<u64>().unwrap_or(0), e.expires))
                .unwrap_or((0, now + ttl));
            let next = current.0.saturating_add(1);
            map.insert(
                key.to_string(),
                Entry {
                    value: next.to_string(),
                    expires: current.1,
                },
            );
            next
        }))
    }

    async fn ttl(&self, key: &str) -> EphemeralResult<Option<Duration>> {
        Ok(self.with(|map, now| live(map, key, now).map(|e| e.expires - now)))
    }

    async fn delete(&self, key: &str) -> EphemeralResult<()> {
        self.with(|map, _| map.remove(key));
        Ok(())
    }
}
