//! Signing keys: a root key that signs the trust list, and issuer keys that sign credentials
//! and the status list. Each key is a file in the keys directory holding the 32-byte Ed25519
//! secret in hex (mode 0600). In demo and development mode a key set is generated there on first
//! start; production makes its own once (`permitd keys init`).
//!
//! Rotation is scheduled, not tied to restarts: `permitd keys rotate` adds an issuer key whose
//! file is named after its activation time, at least one trust-list time to live ahead, and
//! records that time in the database. The trust list publishes the new key at once; every
//! instance reads the schedule (and the keys directory) again every few seconds and switches
//! at that moment. An older key stays in the trust list until the last credential it signed
//! has expired.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use permit_verifier::ed25519_dalek::SigningKey;
use permit_verifier::{Issuer, TrustList, TrustedKey};

use crate::credentials::signing::SigningStore;
use crate::platform::secret_files::{self, SecretFileError};
use crate::platform::storage::StorageResult;

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
    #[error(
        "a new issuer key may activate at {earliest} at the earliest (one trust-list time to live from now), so that every verifier's trust list holds it before it signs"
    )]
    TooSoon { earliest: DateTime<Utc> },
    #[error("recording the key's activation time: {0}")]
    Storage(#[from] crate::platform::storage::StorageError),
}

/// Adds an issuer key that activates at `activates_at` (default: one trust-list time to live
/// from now, the earliest allowed) and records that time for every instance; returns its kid
/// and activation time.
pub async fn schedule_rotation(
    store: &dyn SigningStore,
    dir: &Path,
    name: &str,
    trust_ttl_seconds: u64,
    activates_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), KeyError> {
    KeyRing::load(dir, name)?;
    let ttl = chrono::Duration::seconds(i64::try_from(trust_ttl_seconds).unwrap_or(i64::MAX / 2));
    let earliest = now + ttl;
    let at = activates_at.unwrap_or(earliest);
    if at < earliest {
        return Err(KeyError::TooSoon { earliest });
    }
    // The file first, named after the activation: an instance that reads it before the row is
    // written (or if writing the row fails) still activates it at that time.
    let path = KeyRing::rotate(dir, at)?;
    let kid = hex::encode(Issuer::new(read_secret(&path)?, name).kid());
    let at = secret_files::stamped(dir, ISSUER_PREFIX)
        .map_err(|e| KeyError::Io(dir.into(), e))?
        .into_iter()
        .find(|(_, p)| *p == path)
        .map_or(at, |(t, _)| t);
    store.schedule_key(&kid, at, now).await?;
    Ok((kid, at))
}

/// An issuer key and when it starts signing.
#[derive(Clone)]
pub struct IssuerKey {
    pub issuer: Issuer,
    pub activates_at: DateTime<Utc>,
}

/// The key set as read at one moment.
#[derive(Clone)]
pub struct KeyRing {
    pub root: SigningKey,
    /// By activation time, earliest first.
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
        let lock = secret_files::generation_lock(dir).map_err(|e| KeyError::Io(dir.into(), e))?;
        let root_path = dir.join(ROOT_FILE);
        if !root_path.exists() {
            write_secret(&root_path)?;
            tracing::warn!(dir = %dir.display(), "generated a development root key");
        }
        if Self::issuer_files(dir)?.is_empty() {
            Self::rotate(dir, now)?;
            tracing::warn!(dir = %dir.display(), "generated a development issuer key");
        }
        drop(lock);
        Self::load(dir, name)
    }

    pub fn load(dir: &Path, name: &str) -> Result<Self, KeyError> {
        let root = read_secret(&dir.join(ROOT_FILE))?;
        let mut issuers = Vec::new();
        for (activates_at, path) in Self::issuer_files(dir)? {
            issuers.push(IssuerKey {
                issuer: Issuer::new(read_secret(&path)?, name),
                activates_at,
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

    /// Adds a new issuer key file named after the time it activates; returns its path.
    pub fn rotate(dir: &Path, activates_at: DateTime<Utc>) -> Result<PathBuf, KeyError> {
        std::fs::create_dir_all(dir).map_err(|e| KeyError::Io(dir.into(), e))?;
        let mut at = activates_at;
        // Two rotations in one second get distinct, ordered names.
        while dir.join(issuer_file(at)).exists() {
            at += chrono::Duration::seconds(1);
        }
        let path = dir.join(issuer_file(at));
        write_secret(&path)?;
        Ok(path)
    }

    /// The activation times recorded in the database replace those of the file names.
    pub fn with_schedule(mut self, schedule: &[(String, DateTime<Utc>)]) -> Self {
        let recorded: HashMap<&str, DateTime<Utc>> =
            schedule.iter().map(|(k, t)| (k.as_str(), *t)).collect();
        for k in &mut self.issuers {
            if let Some(t) = recorded.get(hex::encode(k.issuer.kid()).as_str()) {
                k.activates_at = *t;
            }
        }
        self.issuers.sort_by_key(|k| k.activates_at);
        self
    }

    /// Issuer key files by the time in their names, earliest first.
    fn issuer_files(dir: &Path) -> Result<Vec<(DateTime<Utc>, PathBuf)>, KeyError> {
        secret_files::stamped(dir, ISSUER_PREFIX).map_err(|e| KeyError::Io(dir.into(), e))
    }

    /// The key that signs at `now`: the latest activated one (the earliest, should every key
    /// activate later, which only a hand-made key set can do).
    pub fn active_at(&self, now: DateTime<Utc>) -> &Issuer {
        let first = &self
            .issuers
            .first()
            .expect("load refuses a key set without an issuer key")
            .issuer;
        self.issuers
            .iter()
            .rev()
            .find(|k| k.activates_at <= now)
            .map_or(first, |k| &k.issuer)
    }

    /// The trust list: the signing key, the keys scheduled to sign later, and each older key
    /// while a credential it signed is still within its validity (`usage`: kid in hex →
    /// latest exp it signed). Each key is trusted from its activation to its successor's.
    pub fn trust_list(
        &self,
        usage: &HashMap<String, DateTime<Utc>>,
        now: DateTime<Utc>,
        ttl_seconds: u64,
    ) -> TrustList {
        let mut keys: Vec<TrustedKey> = Vec::new();
        for (i, k) in self.issuers.iter().enumerate() {
            let successor = self.issuers.get(i + 1).map(|n| n.activates_at);
            let alive = successor.is_none_or(|s| s > now)
                || usage
                    .get(&hex::encode(k.issuer.kid()))
                    .is_some_and(|exp| *exp > now);
            if alive {
                keys.push(k.issuer.trusted_key(k.activates_at, successor));
            }
        }
        TrustList::new(self.name.clone(), now, ttl_seconds, keys)
    }

    /// What the trust list at `now` says, to tell when it must be signed again.
    pub fn trust_content(list: &TrustList) -> String {
        list.keys
            .iter()
            .map(|k| {
                format!(
                    "{}@{}..{}",
                    hex::encode(k.kid),
                    k.valid_from.timestamp(),
                    k.valid_until
                        .map_or(String::new(), |t| t.timestamp().to_string())
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The key set every instance shares, read again from the keys directory and the database's
/// schedule every `refresh_every`, so a scheduled key signs from its activation time on every
/// instance, and a key added on another host is picked up without a restart.
pub struct SigningKeys {
    dir: PathBuf,
    name: String,
    refresh_every: Duration,
    current: RwLock<(Arc<KeyRing>, Option<Instant>)>,
    /// The latest expiry this process recorded per kid: a credential that expires no later
    /// is not written again (the database's row is a maximum; every QR shown would otherwise
    /// write the same hot row on every instance).
    recorded_use: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl SigningKeys {
    pub fn new(ring: KeyRing, dir: PathBuf, refresh_every: Duration) -> Self {
        let name = ring.name.clone();
        SigningKeys {
            dir,
            name,
            refresh_every,
            current: RwLock::new((Arc::new(ring), None)),
            recorded_use: Mutex::new(HashMap::new()),
        }
    }

    /// The root key (it does not rotate).
    pub fn root(&self) -> SigningKey {
        self.snapshot().root.clone()
    }

    fn snapshot(&self) -> Arc<KeyRing> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// The key set, read again when the last reading is older than `refresh_every`.
    pub async fn ring(&self, store: &dyn SigningStore) -> StorageResult<Arc<KeyRing>> {
        let due = {
            let c = self.current.read().unwrap_or_else(|e| e.into_inner());
            c.1.is_none_or(|at| at.elapsed() >= self.refresh_every)
        };
        if due {
            self.refreshed(store).await
        } else {
            Ok(self.snapshot())
        }
    }

    /// The key set read again now. A keys directory that cannot be read keeps the last set
    /// (the error is logged): signing goes on with the keys it had.
    pub async fn refreshed(&self, store: &dyn SigningStore) -> StorageResult<Arc<KeyRing>> {
        let schedule = store.key_schedule().await?;
        let ring = match KeyRing::load(&self.dir, &self.name) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "reading the keys directory again; keeping the keys read before");
                (*self.snapshot()).clone()
            }
        };
        let known: Vec<String> = ring
            .issuers
            .iter()
            .map(|k| hex::encode(k.issuer.kid()))
            .collect();
        for (kid, at) in &schedule {
            if !known.contains(kid) {
                tracing::error!(kid = %kid, activates_at = %at, "a scheduled issuer key has no file in the keys directory; it cannot sign or be published until its file is there");
            }
        }
        let ring = Arc::new(ring.with_schedule(&schedule));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            (ring.clone(), Some(Instant::now()));
        Ok(ring)
    }

    /// Whether `exp` for `kid` still needs to be written (later than any this process wrote).
    pub fn use_to_record(&self, kid: &str, exp: DateTime<Utc>) -> bool {
        let used = self.recorded_use.lock().unwrap_or_else(|e| e.into_inner());
        used.get(kid).is_none_or(|last| exp > *last)
    }

    /// `exp` for `kid` is in the database.
    pub fn recorded(&self, kid: &str, exp: DateTime<Utc>) {
        let mut used = self.recorded_use.lock().unwrap_or_else(|e| e.into_inner());
        let last = used.entry(kid.to_string()).or_insert(exp);
        if exp > *last {
            *last = exp;
        }
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
        let old_kid = hex::encode(ring.active_at(t0).kid());
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
        let now = t0 + chrono::Duration::days(2);
        assert_ne!(hex::encode(ring.active_at(now).kid()), old_kid);
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
    fn a_scheduled_key_is_published_at_once_and_signs_from_its_activation() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc::now();
        let ring = KeyRing::load_or_create(dir.path(), "test", t0).unwrap();
        let old = hex::encode(ring.active_at(t0).kid());
        let activation = t0 + chrono::Duration::days(7);
        KeyRing::rotate(dir.path(), activation).unwrap();
        let ring = KeyRing::load(dir.path(), "test").unwrap();
        let new = hex::encode(ring.issuers[1].issuer.kid());
        assert_eq!(
            hex::encode(ring.active_at(t0).kid()),
            old,
            "before: the old key"
        );
        let second = chrono::Duration::seconds(1);
        assert_eq!(hex::encode(ring.active_at(activation - second).kid()), old);
        assert_eq!(
            hex::encode(ring.active_at(activation).kid()),
            new,
            "from then: the new"
        );
        // Published at once, each key trusted for its own period; the signing key needs no
        // recorded use to stay.
        let list = ring.trust_list(&HashMap::new(), t0, 60);
        assert_eq!(list.keys.len(), 2);
        assert_eq!(list.keys[0].valid_until, Some(list.keys[1].valid_from));
        assert_eq!(list.keys[1].valid_until, None);
        // The database's schedule wins over the file name.
        let later = activation + chrono::Duration::days(1);
        let ring = ring.with_schedule(&[(new.clone(), later)]);
        assert_eq!(hex::encode(ring.active_at(activation).kid()), old);
        assert_eq!(hex::encode(ring.active_at(later).kid()), new);
    }

    #[test]
    fn instances_starting_at_once_on_an_empty_directory_make_one_key_set() {
        for _round in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let start = Arc::new(std::sync::Barrier::new(8));
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let (dir, start) = (dir.path().to_path_buf(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let ring = KeyRing::load_or_create(&dir, "test", Utc::now()).unwrap();
                        crate::platform::data_keys::DataKeys::load(&dir, true).unwrap();
                        hex::encode(ring.active_at(Utc::now()).kid())
                    })
                })
                .collect();
            let kids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert!(
                kids.iter().all(|k| *k == kids[0]),
                "one issuer key: {kids:?}"
            );
            let count = |prefix: &str| secret_files::stamped(dir.path(), prefix).unwrap().len();
            assert_eq!(count(ISSUER_PREFIX), 1);
            assert_eq!(count("data-"), 1, "one personal-data key");
        }
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
