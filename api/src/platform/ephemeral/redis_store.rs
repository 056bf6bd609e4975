//! The Redis ephemeral store, shared by every permitd instance.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{Ephemeral, EphemeralResult};

pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
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
}
