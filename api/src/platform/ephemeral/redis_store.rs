//! The Redis ephemeral store, shared by every permitd instance.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Attempt, AttemptRule, Ephemeral, EphemeralResult};

pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisStore {
    /// Connects, each attempt (the reconnections after a failure too) within `limit`, and
    /// fails a command whose answer takes longer than `limit`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        limit: Duration,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(limit))
            .set_response_timeout(Some(limit))
            .set_number_of_retries(2)
            .set_max_delay(limit);
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            connection,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

#[async_trait]
impl Ephemeral for RedisStore {
    async fn ping(&self) -> EphemeralResult<()> {
        let mut c = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut c).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<()> {
        let mut c = self.connection.clone();
        let _: () = c.pset_ex(self.key(key), value, millis(ttl)).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> EphemeralResult<Option<String>> {
        let mut c = self.connection.clone();
        Ok(c.get(self.key(key)).await?)
    }

    async fn take(&self, key: &str) -> EphemeralResult<Option<String>> {
        let mut c = self.connection.clone();
        Ok(c.get_del(self.key(key)).await?)
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> EphemeralResult<bool> {
        let mut c = self.connection.clone();
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut c)
            .await?;
        Ok(stored.is_some())
    }

    async fn increment(&self, key: &str, ttl: Duration) -> EphemeralResult<u64> {
        // INCR and the first PEXPIRE in one script, so a counter can never outlive its window.
        let script = redis::Script::new(
            "local n = redis.call('INCR', KEYS[1]) \
             if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
             return n",
        );
        let mut c = self.connection.clone();
        let n: u64 = script
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut c)
            .await?;
        Ok(n)
    }

    async fn ttl(&self, key: &str) -> EphemeralResult<Option<Duration>> {
        let mut c = self.connection.clone();
        let ms: i64 = c.pttl(self.key(key)).await?;
        Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
    }

    async fn delete(&self, key: &str) -> EphemeralResult<()> {
        let mut c = self.connection.clone();
        let _: () = c.del(self.key(key)).await?;
        Ok(())
    }

    async fn take_attempt(
        &self,
        counter: &str,
        lock: &str,
        rule: &AttemptRule,
    ) -> EphemeralResult<Attempt> {
        // The lock check, the count and the arming in one script: Redis runs it alone.
        let script = redis::Script::new(
            "local left = redis.call('PTTL', KEYS[2]) \
             if left > 0 then return {0, left} end \
             local n = redis.call('INCR', KEYS[1]) \
             if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
             local free = tonumber(ARGV[2]) \
             if n >= free then \
               local lock = tonumber(ARGV[3]) * 2 ^ math.min(n - free, 20) \
               lock = math.floor(math.min(lock, tonumber(ARGV[4]))) \
               redis.call('SET', KEYS[2], n, 'PX', lock) \
             end \
             return {1, n}",
        );
        let mut c = self.connection.clone();
        let (allowed, value): (u8, u64) = script
            .key(self.key(counter))
            .key(self.key(lock))
            .arg(millis(rule.window))
            .arg(rule.free.max(1))
            .arg(millis(rule.base_lock))
            .arg(millis(rule.max_lock))
            .invoke_async(&mut c)
            .await?;
        Ok(if allowed == 1 {
            Attempt::Allowed { ticket: value }
        } else {
            Attempt::Locked {
                left: Duration::from_millis(value),
            }
        })
    }

    async fn purge_expired(&self) -> EphemeralResult<u64> {
        // Every key is written with a time to live (PX/PEXPIRE): Redis deletes it when it
        // expires, on access or by its own active expiry.
        Ok(0)
    }

    async fn give_back(&self, counter: &str, lock: &str, ticket: u64) -> EphemeralResult<()> {
        let script = redis::Script::new(
            "if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end \
             local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
             if n > 0 then redis.call('DECR', KEYS[1]) end \
             return 1",
        );
        let mut c = self.connection.clone();
        let _: u8 = script
            .key(self.key(counter))
            .key(self.key(lock))
            .arg(ticket.to_string())
            .invoke_async(&mut c)
            .await?;
        Ok(())
    }
}
