//! The in-process ephemeral store: a map behind a mutex. An expired entry is never read;
//! it is dropped at the next sweep (every few thousand operations) or purge (each jobs round).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Attempt, AttemptRule, Ephemeral, EphemeralResult};

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

    async fn take_attempt(
        &self,
        counter: &str,
        lock: &str,
        rule: &AttemptRule,
    ) -> EphemeralResult<Attempt> {
        // Under the map's lock: the check, the count and the arming are one step.
        Ok(self.with(|map, now| {
            if let Some(e) = live(map, lock, now) {
                return Attempt::Locked {
                    left: e.expires - now,
                };
            }
            let (count, expires) = live(map, counter, now)
                .map(|e| (e.value.parse::<u64>().unwrap_or(0), e.expires))
                .unwrap_or((0, now + rule.window));
            let ticket = count.saturating_add(1);
            map.insert(
                counter.to_string(),
                Entry {
                    value: ticket.to_string(),
                    expires,
                },
            );
            if let Some(d) = rule.lock_for(ticket) {
                map.insert(
                    lock.to_string(),
                    Entry {
                        value: ticket.to_string(),
                        expires: now + d,
                    },
                );
            }
            Attempt::Allowed { ticket }
        }))
    }

    async fn purge_expired(&self) -> EphemeralResult<u64> {
        Ok(self.with(|map, now| {
            let before = map.len();
            map.retain(|_, e| e.expires > now);
            (before - map.len()) as u64
        }))
    }

    async fn give_back(&self, counter: &str, lock: &str, ticket: u64) -> EphemeralResult<()> {
        self.with(|map, now| {
            if live(map, lock, now).is_some_and(|e| e.value == ticket.to_string()) {
                map.remove(lock);
            }
            if let Some(e) = map.get_mut(counter).filter(|e| e.expires > now) {
                let n = e.value.parse::<u64>().unwrap_or(0);
                e.value = n.saturating_sub(1).to_string();
            }
        });
        Ok(())
    }
}
