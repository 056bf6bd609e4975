//! Rate limits and login backoff, counted in the ephemeral store so every instance shares them.

use std::time::Duration;

use crate::platform::ephemeral::{Attempt, AttemptRule, Ephemeral, EphemeralError};

/// Why an event was refused; identity's http turns it into the 429 every client sees.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// The window's allowance is used up; the next event counts after `retry_after` seconds.
    #[error("rate limited for {retry_after}s")]
    Refused { retry_after: u64 },
    /// Too many failed sign-ins: locked out for `retry_after` more seconds.
    #[error("locked out for {retry_after}s")]
    Locked { retry_after: u64 },
    #[error(transparent)]
    Ephemeral(#[from] EphemeralError),
}

impl RateLimitError {
    /// The wait a refusal names, if it is one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            RateLimitError::Refused { retry_after } | RateLimitError::Locked { retry_after } => {
                Some(*retry_after)
            }
            RateLimitError::Ephemeral(_) => None,
        }
    }
}

/// At most `max` events per `window` for one subject (a phone, an IP address, an account).
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub name: &'static str,
    pub max: u64,
    pub window: Duration,
}

impl RateLimit {
    /// Counts one event; refuses it once the window's allowance is used up.
    pub async fn hit(&self, store: &dyn Ephemeral, subject: &str) -> Result<(), RateLimitError> {
        let key = format!("rl:{}:{}", self.name, subject);
        let n = store.increment(&key, self.window).await?;
        if n > self.max {
            let wait = store.ttl(&key).await?.unwrap_or(self.window);
            return Err(RateLimitError::Refused {
                retry_after: wait.as_secs().max(1),
            });
        }
        Ok(())
    }
}

/// Applications started per account in an hour (5 people, with room for mistakes).
pub const APPLICATIONS_PER_ACCOUNT: RateLimit = RateLimit {
    name: "application",
    max: 30,
    window: Duration::from_secs(60 * 60),
};

/// Proof uploads per account in an hour (5 people × 10 files, with retakes).
pub const UPLOADS_PER_ACCOUNT: RateLimit = RateLimit {
    name: "upload",
    max: 120,
    window: Duration::from_secs(60 * 60),
};

/// Bookings, moves and cancellations per account in an hour.
pub const BOOKINGS_PER_ACCOUNT: RateLimit = RateLimit {
    name: "booking",
    max: 30,
    window: Duration::from_secs(60 * 60),
};

/// Failed sign-ins: the first `free` failures in a window cost nothing; the failure that uses
/// up the last free one locks the subject out for `base`, and each one after that for twice as
/// long as the last, up to `max_lock`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub name: &'static str,
    pub free: u64,
    pub base: Duration,
    pub max_lock: Duration,
    pub window: Duration,
}

pub const LOGIN_PER_ACCOUNT: Backoff = Backoff::hourly("login-account", 5);

pub const LOGIN_PER_IP: Backoff = Backoff::hourly("login-ip", 20);

/// Wrong current passwords and SMS codes when a signed-in account changes its password or its
/// phone: counted per account like sign-in, so a stolen session is not a password oracle.
pub const REAUTH_PER_ACCOUNT: Backoff = Backoff::hourly("reauth-account", 5);

/// One attempt taken with [`Backoff::take`], already counted as a failure: keep it when the
/// secret was wrong, or settle it with [`Backoff::record_success`] or [`Backoff::give_back`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an attempt is settled: kept as a failure, cleared by a success, or given back"]
pub struct Ticket(u64);

/// How a taken attempt ended, for [`Backoff::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    WrongSecret,
    RightSecret,
    NotChecked,
}

impl Backoff {
    /// The usual schedule: `free` failures an hour, then lockouts doubling from 30 s to 15 min.
    pub const fn hourly(name: &'static str, free: u64) -> Backoff {
        Backoff {
            name,
            free,
            base: Duration::from_secs(30),
            max_lock: Duration::from_secs(15 * 60),
            window: Duration::from_secs(60 * 60),
        }
    }

    fn lock_key(&self, subject: &str) -> String {
        format!("lock:{}:{}", self.name, subject)
    }
    fn failures_key(&self, subject: &str) -> String {
        format!("fail:{}:{}", self.name, subject)
    }

    pub fn rule(&self) -> AttemptRule {
        AttemptRule {
            free: self.free,
            window: self.window,
            base_lock: self.base,
            max_lock: self.max_lock,
        }
    }

    /// The lock the `failures`th failure of a window earns, if any.
    pub fn lock_for(&self, failures: u64) -> Option<Duration> {
        self.rule().lock_for(failures)
    }

    /// Takes one attempt in one atomic step: refused while the subject is locked out, otherwise
    /// counted as a failure before the secret is checked. Of any number of concurrent attempts,
    /// at most `free` get past a fresh window.
    pub async fn take(
        &self,
        store: &dyn Ephemeral,
        subject: &str,
    ) -> Result<Ticket, RateLimitError> {
        match store
            .take_attempt(
                &self.failures_key(subject),
                &self.lock_key(subject),
                &self.rule(),
            )
            .await?
        {
            Attempt::Allowed { ticket } => Ok(Ticket(ticket)),
            Attempt::Locked { left } => Err(locked(left)),
        }
    }

    /// An attempt that turned out not to be a failure (nothing was checked, or the check is not
    /// over yet): it no longer counts.
    pub async fn give_back(
        &self,
        store: &dyn Ephemeral,
        subject: &str,
        ticket: Ticket,
    ) -> Result<(), RateLimitError> {
        store
            .give_back(
                &self.failures_key(subject),
                &self.lock_key(subject),
                ticket.0,
            )
            .await?;
        Ok(())
    }

    /// Settles a taken attempt by how it ended: a wrong secret stays counted, a right one
    /// clears the subject's failures, and an attempt whose secret was never checked is given
    /// back.
    pub async fn settle(
        &self,
        store: &dyn Ephemeral,
        subject: &str,
        ticket: Ticket,
        outcome: Outcome,
    ) -> Result<(), RateLimitError> {
        match outcome {
            Outcome::WrongSecret => Ok(()),
            Outcome::RightSecret => self.record_success(store, subject).await,
            Outcome::NotChecked => self.give_back(store, subject, ticket).await,
        }
    }

    /// Refuses while the subject is locked out, counting nothing: for the first step of a
    /// ceremony whose answer is counted by `take` at its last step.
    pub async fn check(&self, store: &dyn Ephemeral, subject: &str) -> Result<(), RateLimitError> {
        if let Some(left) = store.ttl(&self.lock_key(subject)).await? {
            return Err(locked(left));
        }
        Ok(())
    }

    /// The secret was right: the subject's failures and lock are forgotten.
    pub async fn record_success(
        &self,
        store: &dyn Ephemeral,
        subject: &str,
    ) -> Result<(), RateLimitError> {
        store.delete(&self.failures_key(subject)).await?;
        store.delete(&self.lock_key(subject)).await?;
        Ok(())
    }
}

fn locked(left: Duration) -> RateLimitError {
    RateLimitError::Locked {
        retry_after: left.as_secs().max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ephemeral::MemoryStore;
    use crate::platform::error::ApiError;

    #[tokio::test]
    async fn a_rate_limit_allows_max_events_per_subject_then_refuses_with_the_wait() {
        let store = MemoryStore::new();
        let limit = RateLimit {
            name: "test",
            max: 3,
            window: Duration::from_secs(60),
        };
        for _ in 0..3 {
            limit
                .hit(&store, "13800000001")
                .await
                .expect("within the allowance");
        }
        let refused = ApiError::from(limit.hit(&store, "13800000001").await.unwrap_err());
        assert_eq!(refused.status(), poem::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.body().code, "rate_limited");
        let wait = refused.body().retry_after.expect("the wait is given");
        assert!((1..=60).contains(&wait), "wait {wait}");
        // Refused events still count: a client that keeps trying does not get through.
        assert!(limit.hit(&store, "13800000001").await.is_err());
        // Another subject has its own allowance.
        limit
            .hit(&store, "13800000002")
            .await
            .expect("another subject");
    }

    #[test]
    fn backoff_doubles_after_the_free_failures_and_caps() {
        let b = LOGIN_PER_ACCOUNT;
        assert_eq!(b.lock_for(4), None);
        // The fifth failure uses up the free ones: the sixth attempt waits 30 s.
        assert_eq!(b.lock_for(5), Some(Duration::from_secs(30)));
        assert_eq!(b.lock_for(6), Some(Duration::from_secs(60)));
        assert_eq!(b.lock_for(7), Some(Duration::from_secs(120)));
        assert_eq!(b.lock_for(100), Some(Duration::from_secs(900)));
    }
}
