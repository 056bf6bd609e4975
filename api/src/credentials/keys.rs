//! Signing keys: a root key that signs the trust list, and issuer keys that sign credentials
//! and the status list. Each key is a file in the keys directory holding the 32-byte Ed25519
//! secret in hex (mode 0600). On first start a development key set is generated there;
//! production mounts its own files. `permitd keys rotate` adds an issuer key: the newest signs
//! from then on, and an older one stays in the trust list until the last credential it signed
//! has expired.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use permit_verifier::ed25519_dalek::SigningKey;
use permit_verifier::{Issuer, TrustList, TrustedKey};

use crate::platform::secret_files::{self, SecretFileError};

pub const ROOT_FILE: &str = "root.key";
const ISSUER_PREFIX: &str = "issuer-";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("keys directory {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    File(#[from] SecretFileError),
    #[error("keys directory {0} holds no issuer-*.key file")]
    NoIssuer(PathBuf),
}

/// An issuer key and when it started signing.
pub struct IssuerKey {
    pub issuer: Issuer,
    pub created_at: DateTime<Utc>,
}

pub struct KeyRing {
    pub root: SigningKey,
    /// Oldest first; the last one signs.
    pub issuers: Vec<IssuerKey>,
    pub name: String,
}

fn read_secret(path: &Path) -> Result<SigningKey, KeyError> {
    Ok(SigningKey::from_bytes(&secret_files::read(path)?))
}

/// Creates a new key file; one that appeared meanwhile (another instance) is kept.
fn write_secret(path: &Path) -> Result<(), KeyError> {
    secret_files::create(path)?;
    Ok(())
}

fn issuer_file(at: DateTime<Utc>) -> String {
    format!("{ISSUER_PREFIX}{}.key", at.format(secret_files::STAMP))
}

impl KeyRing {
    /// Loads the keys in `dir`, generating the development set (a root and one issuer key)
    /// when there is none.
    pub fn load_or_create(dir: &Path, name: &str, now: DateTime<Utc>) -> Result<Self, KeyError> {
        std::fs::create_dir_all(dir).map_err(|e| KeyError::Io(dir.into(), e))?;
        let root_path = dir.join(ROOT_FILE);
        if !root_path.exists() {
            write_secret(&root_path)?;
            tracing::warn!(dir = %dir.display(), "generated a development root key");
        }
        if Self::issuer_files(dir)?.is_empty() {
            Self::rotate(dir, now)?;
            tracing::warn!(dir = %dir.display(), "generated a development issuer key");
        }
        Self::load(dir, name)
    }

    pub fn load(dir: &Path, name: &str) -> Result<Self, KeyError> {
        let root = read_secret(&dir.join(ROOT_FILE))?;
        let mut issuers = Vec::new();
        for (created_at, path) in Self::issuer_files(dir)? {
            issuers.push(IssuerKey {
                issuer: Issuer::new(read_secret(&path)?, name),
                created_at,
            });
        }
        if issuers.is_empty() {
            return Err(KeyError::NoIssuer(dir.into()));
        }
        Ok(KeyRing {
            root,
            issuers,
            name: name.to_string(),
        })
    }

    /// Adds a new issuer key file; returns its path.
    pub fn rotate(dir: &Path, now: DateTime<Utc>) -> Result<PathBuf, KeyError> {
        std::fs::create_dir_all(dir).map_err(|e| KeyError::Io(dir.into(), e))?;
        let mut at = now;
        // Two rotations in one second get distinct, ordered names.
        while dir.join(issuer_file(at)).exists() {
            at += chrono::Duration::seconds(1);
        }
        let path = dir.join(issuer_file(at));
        write_secret(&path)?;
        Ok(path)
    }

    /// Issuer key files by creation time, oldest first.
    fn issuer_files(dir: &Path) -> Result<Vec<(DateTime<Utc>, PathBuf)>, KeyError> {
        secret_files::stamped(dir, ISSUER_PREFIX).map_err(|e| KeyError::Io(dir.into(), e))
    }

    /// The key that signs now.
    pub fn active(&self) -> &Issuer {
        &self
            .issuers
            .last()
            .expect("load refuses a key set without an issuer key")
            .issuer
    }

    /// The trust list: the signing key, and each older key while a credential it signed is
    /// still within its validity (`usage`: kid in hex → latest exp it signed).
    pub fn trust_list(
        &self,
        usage: &HashMap<String, DateTime<Utc>>,
        now: DateTime<Utc>,
        ttl_seconds: u64,
    ) -> TrustList {
        let mut keys: Vec<TrustedKey> = Vec::new();
        for (i, k) in self.issuers.iter().enumerate() {
            let successor = self.issuers.get(i + 1).map(|n| n.created_at);
            let alive = match successor {
                None => true,
                Some(_) => usage
                    .get(&hex::encode(k.issuer.kid()))
                    .is_some_and(|exp| *exp > now),
            };
            if alive {
                keys.push(k.issuer.trusted_key(k.created_at, successor));
            }
        }
        TrustList::new(self.name.clone(), now, ttl_seconds, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_keeps_the_old_key_while_its_credentials_live() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc::now();
        let ring = KeyRing::load_or_create(dir.path(), "test", t0).unwrap();
        assert_eq!(ring.issuers.len(), 1);
        let old_kid = hex::encode(ring.active().kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ROOT_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        KeyRing::rotate(dir.path(), t0 + chrono::Duration::days(1)).unwrap();
        let ring = KeyRing::load(dir.path(), "test").unwrap();
        assert_eq!(ring.issuers.len(), 2);
        assert_ne!(hex::encode(ring.active().kid()), old_kid);
        let now = t0 + chrono::Duration::days(2);
        let mut usage = HashMap::new();
        usage.insert(old_kid.clone(), now + chrono::Duration::days(300));
        assert_eq!(ring.trust_list(&usage, now, 60).keys.len(), 2);
        usage.insert(old_kid, now - chrono::Duration::days(1));
        assert_eq!(
            ring.trust_list(&usage, now, 60).keys.len(),
            1,
            "expired: dropped"
        );
        let unused = ring.trust_list(&HashMap::new(), now, 60);
        assert_eq!(
            unused.keys.len(),
            1,
            "a retired key that signed nothing is dropped"
        );
    }

    #[test]
    fn a_key_readable_by_others_or_malformed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        KeyRing::load_or_create(dir.path(), "test", Utc::now()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let root = dir.path().join(ROOT_FILE);
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                KeyRing::load(dir.path(), "test"),
                Err(KeyError::File(SecretFileError::Permissions(_)))
            ));
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::write(&root, "zz").unwrap();
            assert!(matches!(
                KeyRing::load(dir.path(), "test"),
                Err(KeyError::File(SecretFileError::Format(_)))
            ));
            for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
                if f.file_name().to_string_lossy().starts_with("issuer-") {
                    std::fs::remove_file(f.path()).unwrap();
                }
            }
            std::fs::write(&root, "11".repeat(32)).unwrap();
            assert!(matches!(
                KeyRing::load(dir.path(), "test"),
                Err(KeyError::NoIssuer(_))
            ));
        }
    }
}
