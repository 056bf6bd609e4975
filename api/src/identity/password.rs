//! Passwords: the policy a new password meets, and argon2id hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// Hashing is CPU-bound; keep it off the async workers.
pub async fn hash_blocking(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .unwrap_or(Err(argon2::password_hash::Error::Crypto))
}

pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            burn_time(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
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
