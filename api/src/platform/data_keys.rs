//! Personal data at rest (PIPL arts. 28-30, 51). Names, ID numbers, phone numbers, addresses
//! and employers are sealed with AES-256-GCM before they reach either database, the row id and
//! column as associated data (a value copied into another row or column does not open). Each
//! sealed value names the key that sealed it, `pd1.<kid>.<nonce and ciphertext>`, so the key can
//! rotate: `permitd keys rotate-data` adds a key and reseals in batches while the service runs.
//!
//! Equality the database must still enforce or search (one account per ID number, one open
//! application per person, the clerk's search) goes through a keyed blind index, HMAC-SHA-256
//! under a separate key, never the plaintext. Ephemeral-store keys that would name a person (a
//! phone in an SMS-code key) are pseudonymised under the same key.
//!
//! The keys live in the keys directory: `data-<UTC stamp>.key` (the newest seals; its id is a
//! fingerprint of the key) and `index.key`. Development and demo mode generate them; production refuses to start without.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

use crate::platform::secret_files::{self, SecretFileError};

const PREFIX: &str = "pd1.";
const DATA_PREFIX: &str = "data-";
const INDEX_FILE: &str = "index.key";
/// How often an instance looks for a key another process added: within this time of a
/// rotation every instance seals with the new key (`rotate-data` waits this long first).
pub const REFRESH: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DataKeyError {
    #[error("keys directory {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    File(#[from] SecretFileError),
    #[error(
        "keys directory {0} holds no personal-data key (data-*.key and index.key); create them with `permitd keys init`"
    )]
    Missing(PathBuf),
}

/// A stored value that does not open: wrong row, column or key, or tampered with.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value of {0} does not open")]
pub struct SealError(pub &'static str);

struct DataKey {
    kid: String,
    cipher: Aes256Gcm,
}

struct Loaded {
    /// Oldest first; the last one seals.
    keys: Vec<DataKey>,
    checked: Instant,
}

pub struct DataKeys {
    dir: PathBuf,
    loaded: RwLock<Loaded>,
    index: [u8; 32],
}

fn data_files(dir: &Path) -> Result<Vec<(DateTime<Utc>, PathBuf)>, DataKeyError> {
    secret_files::stamped(dir, DATA_PREFIX).map_err(|e| DataKeyError::Io(dir.into(), e))
}

/// A key's id: a fingerprint of the key itself, so two deployments' keys never share one.
fn kid_of(secret: &[u8; 32]) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(secret)[..6])
}

fn load_keys(dir: &Path) -> Result<Vec<DataKey>, DataKeyError> {
    data_files(dir)?
        .into_iter()
        .map(|(_, path)| {
            let secret = secret_files::read(&path)?;
            Ok(DataKey {
                kid: kid_of(&secret),
                cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&secret)),
            })
        })
        .collect()
}

fn aad(column: &str, row: Uuid) -> Vec<u8> {
    format!("{column}:{row}").into_bytes()
}

impl DataKeys {
    /// Loads the keys in `dir`; `generate` (development and demo mode) creates the missing ones.
    pub fn load(dir: &Path, generate: bool) -> Result<Self, DataKeyError> {
        if generate {
            std::fs::create_dir_all(dir).map_err(|e| DataKeyError::Io(dir.into(), e))?;
            let _lock =
                secret_files::generation_lock(dir).map_err(|e| DataKeyError::Io(dir.into(), e))?;
            if secret_files::create(&dir.join(INDEX_FILE))? {
                tracing::warn!(dir = %dir.display(), "generated a development blind-index key");
            }
            if data_files(dir)?.is_empty() {
                Self::add_key(dir, Utc::now())?;
                tracing::warn!(dir = %dir.display(), "generated a development data key");
            }
        }
        if !dir.is_dir() || !dir.join(INDEX_FILE).exists() || data_files(dir)?.is_empty() {
            return Err(DataKeyError::Missing(dir.into()));
        }
        let index = secret_files::read(&dir.join(INDEX_FILE))?;
        Ok(DataKeys {
            dir: dir.into(),
            loaded: RwLock::new(Loaded {
                keys: load_keys(dir)?,
                checked: Instant::now(),
            }),
            index,
        })
    }

    /// The keys of the configuration's keys directory, generated in development and demo mode.
    pub fn for_config(
        config: &crate::platform::config::Config,
    ) -> Result<std::sync::Arc<Self>, DataKeyError> {
        Self::load(&config.keys_dir(), config.dev_helpers()).map(std::sync::Arc::new)
    }

    /// Adds a data key (creating the index key if there is none); the newest seals from then on.
    /// Returns its key id.
    pub fn add_key(dir: &Path, now: DateTime<Utc>) -> Result<String, DataKeyError> {
        std::fs::create_dir_all(dir).map_err(|e| DataKeyError::Io(dir.into(), e))?;
        secret_files::create(&dir.join(INDEX_FILE))?;
        let mut at = now;
        loop {
            let path = dir.join(format!(
                "{DATA_PREFIX}{}.key",
                at.format(secret_files::STAMP)
            ));
            // Two rotations in one second get distinct, ordered names.
            if secret_files::create(&path)? {
                return Ok(kid_of(&secret_files::read(&path)?));
            }
            at += chrono::Duration::seconds(1);
        }
    }

    /// Re-reads the directory: a key another process added is picked up.
    pub fn refresh(&self) {
        match load_keys(&self.dir) {
            Ok(keys) if !keys.is_empty() => {
                let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
                loaded.keys = keys;
                loaded.checked = Instant::now();
            }
            Ok(_) => {
                tracing::error!("the keys directory lost its data keys; keeping the loaded ones")
            }
            Err(e) => tracing::error!(error = %e, "cannot re-read the data keys"),
        }
    }

    fn refresh_if_stale(&self) {
        let stale = self
            .loaded
            .read()
            .map(|l| l.checked.elapsed() >= REFRESH)
            .unwrap_or(true);
        if stale {
            self.refresh();
        }
    }

    /// The id of the key that seals now.
    pub fn current_kid(&self) -> String {
        self.refresh_if_stale();
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        loaded
            .keys
            .last()
            .map(|k| k.kid.clone())
            .unwrap_or_default()
    }

    /// Seals `plain` for `column` of the row `row`.
    pub fn seal(&self, column: &'static str, row: Uuid, plain: &str) -> String {
        self.refresh_if_stale();
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        let key = loaded
            .keys
            .last()
            .expect("load refuses a directory without a data key");
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad(column, row),
                },
            )
            .expect("AES-GCM seals any message of this size");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}.{}", key.kid, URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn seal_opt(&self, column: &'static str, row: Uuid, plain: Option<&str>) -> Option<String> {
        plain.map(|p| self.seal(column, row, p))
    }

    /// Opens what [`DataKeys::seal`] made. A value without the envelope is plaintext from
    /// before sealing (the start-up pass reseals it).
    pub fn open(&self, column: &'static str, row: Uuid, stored: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (kid, body) = rest.split_once('.').ok_or(SealError(column))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError(column))?;
        if bytes.len() < 12 + 16 {
            return Err(SealError(column));
        }
        let (nonce, sealed) = bytes.split_at(12);
        let attempt = |keys: &[DataKey]| {
            keys.iter().find(|k| k.kid == kid).map(|k| {
                k.cipher.decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: &aad(column, row),
                    },
                )
            })
        };
        let found = {
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            attempt(&loaded.keys)
        };
        let opened = match found {
            Some(result) => result,
            None => {
                // Sealed by another instance under a key added since this one loaded.
                self.refresh();
                let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
                attempt(&loaded.keys).ok_or(SealError(column))?
            }
        };
        let plain = opened.map_err(|_| SealError(column))?;
        String::from_utf8(plain).map_err(|_| SealError(column))
    }

    pub fn open_opt(
        &self,
        column: &'static str,
        row: Uuid,
        stored: Option<&str>,
    ) -> Result<Option<String>, SealError> {
        stored.map(|s| self.open(column, row, s)).transpose()
    }

    /// True when `stored` is sealed under the current key (nothing to reseal).
    pub fn is_current(&self, stored: &str, current_kid: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|r| r.split_once('.'))
            .is_some_and(|(kid, _)| kid == current_kid)
    }

    /// The blind index of `value` as a `kind` (`id_number`, `phone`): equal values of one kind
    /// give equal indexes; nothing about the value can be read from it without the index key.
    pub fn index(&self, kind: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.index).expect("HMAC takes any key");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A stable pseudonym for a key of the ephemeral store.
    pub fn pseudonym(&self, value: &str) -> String {
        self.index("ephemeral", value)[..32].to_string()
    }

    /// The SQL `LIKE` pattern of values sealed under `kid`.
    pub fn like_kid(kid: &str) -> String {
        format!("{PREFIX}{kid}.%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_in_its_own_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let keys = DataKeys::load(dir.path(), true).unwrap();
        let row = Uuid::new_v4();
        let sealed = keys.seal("accounts.real_name", row, "张三");
        assert!(sealed.starts_with("pd1."));
        assert!(!sealed.contains("张三"));
        assert_ne!(
            sealed,
            keys.seal("accounts.real_name", row, "张三"),
            "fresh nonce"
        );
        assert_eq!(
            keys.open("accounts.real_name", row, &sealed).unwrap(),
            "张三"
        );
        assert!(
            keys.open("accounts.real_name", Uuid::new_v4(), &sealed)
                .is_err()
        );
        assert!(keys.open("accounts.phone", row, &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.open("accounts.real_name", row, &tampered).is_err());
        assert!(
            keys.open("accounts.real_name", row, "pd1.nokey.AAAA")
                .is_err()
        );
        assert_eq!(
            keys.open("accounts.real_name", row, "李四").unwrap(),
            "李四",
            "plaintext from before sealing still reads"
        );
    }

    #[test]
    fn production_needs_the_keys_and_a_rotation_is_seen_by_a_running_instance() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            DataKeys::load(dir.path(), false),
            Err(DataKeyError::Missing(_))
        ));
        let first = DataKeys::add_key(dir.path(), Utc::now()).unwrap();
        let running = DataKeys::load(dir.path(), false).unwrap();
        let other = DataKeys::load(dir.path(), false).unwrap();
        let row = Uuid::new_v4();
        let old = running.seal("permits.id_number", row, "33010219900101001X");
        let second = DataKeys::add_key(dir.path(), Utc::now()).unwrap();
        assert_ne!(first, second);
        other.refresh();
        let new = other.seal("permits.id_number", row, "33010219900101001X");
        assert!(other.is_current(&new, &second));
        assert!(!other.is_current(&old, &second));
        // The instance that has not looked yet opens the new key's value by re-reading.
        assert_eq!(
            running.open("permits.id_number", row, &new).unwrap(),
            "33010219900101001X"
        );
        assert_eq!(
            other.open("permits.id_number", row, &old).unwrap(),
            "33010219900101001X"
        );
    }

    #[test]
    fn the_blind_index_is_keyed_and_separates_kinds() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ka = DataKeys::load(a.path(), true).unwrap();
        let kb = DataKeys::load(b.path(), true).unwrap();
        let n = "33010219900101001X";
        assert_eq!(ka.index("id_number", n), ka.index("id_number", n));
        assert_ne!(ka.index("id_number", n), kb.index("id_number", n));
        assert_ne!(ka.index("id_number", n), ka.index("phone", n));
        assert!(!ka.index("id_number", n).contains("3301"));
    }
}
