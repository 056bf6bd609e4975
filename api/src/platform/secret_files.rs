//! Secret files in the keys directory: 32 random bytes in hex, mode 0600. A file is created
//! under a temporary name and linked into place, so an instance starting beside another never
//! reads a half-written key, and of two instances creating the same file only one wins.

use std::path::{Path, PathBuf};

use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("key file {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("key file {0}: expected 64 hexadecimal characters")]
    Format(PathBuf),
    #[error("key file {0} is readable by other users; chmod 600 it")]
    Permissions(PathBuf),
}

/// How a key file's name says when it was made (`issuer-20261203T101500Z.key`).
pub const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// The files `<prefix><UTC stamp>.key` in `dir`, oldest first; other names are passed over.
pub fn stamped(
    dir: &Path,
    prefix: &str,
) -> std::io::Result<Vec<(chrono::DateTime<chrono::Utc>, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(stamp) = name
            .strip_prefix(prefix)
            .and_then(|s| s.strip_suffix(".key"))
        else {
            continue;
        };
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(stamp, STAMP) {
            out.push((t.and_utc(), entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a 32-byte secret, refusing a file other users can read.
pub fn read(path: &Path) -> Result<[u8; 32], SecretFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| SecretFileError::Io(path.into(), e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(SecretFileError::Permissions(path.into()));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| SecretFileError::Io(path.into(), e))?;
    let bytes = hex::decode(text.trim()).map_err(|_| SecretFileError::Format(path.into()))?;
    bytes
        .try_into()
        .map_err(|_| SecretFileError::Format(path.into()))
}

/// Creates `path` holding a new random secret; false when the file already exists (another
/// instance made it first: the caller reads that one).
pub fn create(path: &Path) -> Result<bool, SecretFileError> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let tmp = path.with_extension(format!("tmp-{}", hex::encode(suffix)));
    let io = |e| SecretFileError::Io(path.into(), e);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(format!("{}\n", hex::encode(secret)).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                io(e)
            })?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(e)),
    }
}

/// Held while one process generates missing keys in `dir`: instances starting at once on an
/// empty keys directory would otherwise each see no key and make their own. Released when
/// dropped.
pub fn generation_lock(dir: &Path) -> std::io::Result<std::fs::File> {
    let mut open = std::fs::OpenOptions::new();
    open.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let lock = open.open(dir.join(".generate.lock"))?;
    lock.lock()?;
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_secret_is_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.key");
        assert!(create(&path).unwrap());
        let first = read(&path).unwrap();
        assert!(!create(&path).unwrap(), "the second creator loses");
        assert_eq!(read(&path).unwrap(), first);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            assert!(matches!(read(&path), Err(SecretFileError::Permissions(_))));
        }
    }
}
