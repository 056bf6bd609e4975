//! Passwords: the policy a new password meets, and argon2id hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    TooWeak,
}

impl PasswordProblem {
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password_too_short",
            PasswordProblem::TooLong => "password_too_long",
            PasswordProblem::TooWeak => "password_too_weak",
        }
    }
    pub fn message(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "密码至少8位",
            PasswordProblem::TooLong => "密码不能超过64位",
            PasswordProblem::TooWeak => "密码须同时包含字母和数字",
        }
    }
}

/// 8 to 64 characters with at least one letter and one digit.
pub fn check_policy(password: &str) -> Result<(), PasswordProblem> {
    let n = password.chars().count();
    if n < 8 {
        return Err(PasswordProblem::TooShort);
    }
    if n > 64 {
        return Err(PasswordProblem::TooLong);
    }
    let letter = password.chars().any(|c| c.is_alphabetic());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if !(letter && digit) {
        return Err(PasswordProblem::TooWeak);
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifies against a fixed hash so that an unknown account name costs the same time as a wrong
/// password: response time does not reveal whether an account exists.
pub fn burn_time(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy-password-1").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// Bounds the argon2 runs of this process: each takes ~19 MiB and a core, so a flood of
/// sign-ins must wait its turn (briefly) or be told to come back, never pile up in memory.
pub struct Hashing {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// Why a hash or a check did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every hasher stayed busy for the whole wait.
    #[error("every password hasher is busy")]
    Busy,
    #[error("password hashing failed")]
    Failed,
}

impl Hashing {
    /// `concurrency` hashers at once (0: one per core); a caller waits up to `wait` for one.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let n = if concurrency == 0 { cores } else { concurrency };
        Self {
            permits: Arc::new(Semaphore::new(n)),
            wait,
        }
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, HashingError> {
        let acquire = self.permits.clone().acquire_owned();
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (or, never, closed).
            _ => self
                .permits
                .clone()
                .try_acquire_owned()
                .map_err(|_| HashingError::Busy),
        }
    }

    /// Hashes off the async workers. The permit moves into the blocking task, so a caller that
    /// goes away does not free it before the work is done.
    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash(&password).map_err(|_| HashingError::Failed)
        })
        .await
        .unwrap_or(Err(HashingError::Failed))
    }

    /// Checks a password; against a fixed hash when there is no account, so an unknown name
    /// costs the same time (and the same turn) as a wrong password.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match stored {
                Some(stored) => verify(&password, &stored),
                None => {
                    burn_time(&password);
                    false
                }
            }
        })
        .await
        .map_err(|_| HashingError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_policy("a1"), Err(PasswordProblem::TooShort));
        assert_eq!(check_policy("abcdefgh"), Err(PasswordProblem::TooWeak));
        assert_eq!(check_policy("12345678"), Err(PasswordProblem::TooWeak));
        assert_eq!(
            check_policy(&"a1".repeat(40)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(check_policy("zhang2024"), Ok(()));
    }

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let h = hash("zhang2024").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("zhang2024", &h));
        assert!(!verify("zhang2025", &h));
        assert!(!verify("zhang2024", "not a hash"));
    }
}

#[cfg(test)]
mod hashing_tests {
    use super::*;

    #[tokio::test]
    async fn a_full_hasher_answers_busy_after_its_wait() {
        let hashing = Hashing::new(1, Duration::ZERO);
        let held = hashing.permit().await.expect("the one permit");
        assert!(matches!(
            hashing.verify("x".into(), None).await,
            Err(HashingError::Busy)
        ));
        drop(held);
        assert!(
            !hashing
                .verify("x".into(), None)
                .await
                .expect("a free hasher")
        );
    }
}
