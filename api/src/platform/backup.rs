//! `permitd backup PATH` and `permitd restore PATH`: one `.tar.gz` archive holding a consistent
//! copy of the SQLite database (`VACUUM INTO`, safe while permitd runs), the proof files of the
//! local object store and the keys directory. On PostgreSQL the database is `pg_dump`'s job and
//! the archive holds the files and keys; proof files in S3 stay with the bucket's own copies.
//!
//! Layout: `manifest.json` first, then `permit.sqlite`, `files/...`, `keys/...`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::platform::config::{Config, Secret};
use crate::platform::storage;

const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "permit.sqlite";
const FORMAT: &str = "permitd-backup";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} already exists: choose a new name, a backup never overwrites one", .0.display())]
    Exists(PathBuf),
    #[error(
        "{} is not empty: restore only into an empty directory (move the old one aside, or set PERMIT_DATA_DIR / PERMIT_KEYS_DIR to new ones)",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("{}: {}", .0.display(), .1)]
    Io(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    Database(#[from] storage::OpenError),
    #[error("{} is not a permitd backup: {}", .0.display(), .1)]
    NotABackup(PathBuf, String),
    #[error("{0}")]
    Mismatch(String),
}

/// What the archive holds, written first so a restore knows before it unpacks anything.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    permitd: String,
    created_at: chrono::DateTime<chrono::Utc>,
    /// Whether `permit.sqlite` is in the archive (false: the database was PostgreSQL).
    database: bool,
    /// Whether `files/` is in the archive (false: the proof files are in S3).
    files: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(path.to_path_buf(), e)
}

/// Every regular file under `dir`, relative to it, sorted. A missing `dir` has none.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries = match std::fs::read_dir(dir.join(&rel)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(BackupError::Io(dir.join(&rel), e)),
        };
        for entry in entries {
            let entry = entry.map_err(io(dir))?;
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            let child = rel.join(entry.file_name());
            if kind.is_dir() {
                stack.push(child);
            } else if kind.is_file() {
                out.push(child);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Adds the file at `path` as `name`; a file deleted since it was listed (a proof file removed
/// while the backup runs) is skipped: the database copy, taken before, may still name it.
fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &Path,
    path: &Path,
    mode: u32,
) -> Result<bool, BackupError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(BackupError::Io(path.into(), e)),
    };
    let len = file.metadata().map_err(io(path))?.len();
    let mut header = tar::Header::new_gnu();
    header.set_size(len);
    header.set_mode(mode);
    header.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, (&mut file).take(len))
        .map_err(io(path))?;
    Ok(true)
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> Result<(), BackupError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, bytes)
        .map_err(io(Path::new(name)))
}

fn local_files(config: &Config) -> Option<PathBuf> {
    config
        .files_url
        .as_deref()
        .filter(|u| !u.is_empty())
        .is_none()
        .then(|| config.data_dir.join("files"))
}

/// Writes the archive; returns the lines to show the operator.
pub async fn backup(config: &Config, archive: &Path) -> Result<Vec<String>, BackupError> {
    if archive.exists() {
        return Err(BackupError::Exists(archive.into()));
    }
    let keys_dir = config.keys_dir();
    if !keys_dir.is_dir() {
        return Err(BackupError::Io(
            keys_dir.clone(),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no keys directory"),
        ));
    }
    let mut lines = Vec::new();
    // Beside the archive (one file system, so the rename at the end is atomic).
    let beside = |suffix: &str| {
        let mut name = archive.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{suffix}-{}", uuid::Uuid::new_v4().simple()));
        archive.with_file_name(name)
    };
    let (partial, snapshot) = (beside("partial"), beside("sqlite"));
    let result = async {
        let url = config.database_url.as_ref().map(Secret::expose);
        let sqlite = storage::sqlite_file(url, &config.data_dir)?;
        // The database first: every proof file it names was written before it, so the files
        // copied next include them (unless deleted meanwhile).
        if let Some(file) = &sqlite {
            storage::snapshot_sqlite(file, &snapshot).await?;
            lines.push(format!(
                "database: a consistent copy of {} (VACUUM INTO)",
                file.display()
            ));
        } else {
            lines.push(
                "database: PostgreSQL is not in this archive; back it up with pg_dump, e.g. \
                 `pg_dump --format=custom --file=permit.pgdump \"$DATABASE_URL\"`, and restore it \
                 with pg_restore"
                    .into(),
            );
        }
        let files = local_files(config);
        let manifest = Manifest {
            format: FORMAT.into(),
            version: 1,
            permitd: env!("CARGO_PKG_VERSION").into(),
            created_at: chrono::Utc::now(),
            database: sqlite.is_some(),
            files: files.is_some(),
        };
        let out = {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                // The archive holds the signing keys.
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            options.open(&partial).map_err(io(&partial))?
        };
        let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        append_bytes(&mut tar, MANIFEST, &text)?;
        if sqlite.is_some() {
            append_file(&mut tar, Path::new(DATABASE), &snapshot, 0o600)?;
        }
        match &files {
            Some(dir) => {
                let mut count = 0;
                for rel in files_under(dir)? {
                    if append_file(
                        &mut tar,
                        &Path::new("files").join(&rel),
                        &dir.join(&rel),
                        0o600,
                    )? {
                        count += 1;
                    }
                }
                lines.push(format!(
                    "files: {count} proof file(s) from {}",
                    dir.display()
                ));
            }
            None => lines.push(
                "files: the proof files are in S3 (PERMIT_FILES_URL) and not in this archive; \
                 keep the bucket's versioning or replication"
                    .into(),
            ),
        }
        let mut keys = 0;
        for rel in files_under(&keys_dir)? {
            if append_file(
                &mut tar,
                &Path::new("keys").join(&rel),
                &keys_dir.join(&rel),
                0o600,
            )? {
                keys += 1;
            }
        }
        lines.push(format!("keys: {keys} file(s) from {}", keys_dir.display()));
        let gz = tar.into_inner().map_err(io(&partial))?;
        let out = gz.finish().map_err(io(&partial))?;
        out.sync_all().map_err(io(&partial))?;
        std::fs::rename(&partial, archive).map_err(io(archive))?;
        lines.push(format!("archive: {}", archive.display()));
        Ok(lines)
    }
    .await;
    let _ = std::fs::remove_file(&snapshot);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Whether `dir` is absent or holds nothing.
fn empty_or_absent(dir: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(BackupError::Io(dir.into(), e)),
    }
}

/// The relative path of an archive entry, refusing anything that could land outside its folder.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn write_new(path: &Path, mut from: impl Read, mode: u32) -> Result<(), BackupError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io(path))?;
    std::io::copy(&mut from, &mut file).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// Unpacks the archive into the configured data directory (and keys directory), which must be
/// empty; returns the lines to show the operator.
pub fn restore(config: &Config, archive: &Path) -> Result<Vec<String>, BackupError> {
    let url = config.database_url.as_ref().map(Secret::expose);
    let sqlite = storage::sqlite_file(url, &config.data_dir)?;
    let keys_dir = config.keys_dir();
    let files_dir = local_files(config);
    if !empty_or_absent(&config.data_dir)? {
        return Err(BackupError::NotEmpty(config.data_dir.clone()));
    }
    if !empty_or_absent(&keys_dir)? {
        return Err(BackupError::NotEmpty(keys_dir));
    }
    if let Some(file) = sqlite.as_ref().filter(|f| f.exists()) {
        return Err(BackupError::Exists(file.clone()));
    }
    let input = File::open(archive).map_err(io(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let mut entries = tar.entries().map_err(io(archive))?;
    let not_backup = |why: &str| BackupError::NotABackup(archive.into(), why.into());
    let manifest: Manifest = {
        let mut first = entries
            .next()
            .ok_or_else(|| not_backup("it is empty"))?
            .map_err(|e| not_backup(&e.to_string()))?;
        if first.path().ok().as_deref() != Some(Path::new(MANIFEST)) {
            return Err(not_backup("it does not start with manifest.json"));
        }
        let mut text = Vec::new();
        first.read_to_end(&mut text).map_err(io(archive))?;
        serde_json::from_slice(&text).map_err(|e| not_backup(&e.to_string()))?
    };
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(not_backup("unknown format or version"));
    }
    match (&sqlite, manifest.database) {
        (None, true) => {
            return Err(BackupError::Mismatch(
                "the archive holds a SQLite database but DATABASE_URL names PostgreSQL: restore with DATABASE_URL unset (or sqlite:...)".into(),
            ));
        }
        (Some(_), false) => {
            return Err(BackupError::Mismatch(
                "the archive was taken on PostgreSQL and holds no database: pg_restore the dump, then restore with DATABASE_URL set to it".into(),
            ));
        }
        _ => {}
    }
    if manifest.files && files_dir.is_none() {
        return Err(BackupError::Mismatch(
            "the archive holds local proof files but PERMIT_FILES_URL names S3: restore with it unset, then copy <data_dir>/files into the bucket".into(),
        ));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;
    let (mut files, mut keys) = (0, 0);
    for entry in entries {
        let entry = entry.map_err(io(archive))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(io(archive))?.into_owned();
        let rel = safe_relative(&path).ok_or_else(|| not_backup("an entry leaves its folder"))?;
        if rel == Path::new(DATABASE) {
            let file = sqlite.as_ref().expect("checked against the manifest");
            write_new(file, entry, 0o600)?;
        } else if let Ok(rest) = rel.strip_prefix("files") {
            let dir = files_dir.as_ref().expect("checked against the manifest");
            write_new(&dir.join(rest), entry, 0o600)?;
            files += 1;
        } else if let Ok(rest) = rel.strip_prefix("keys") {
            write_new(&keys_dir.join(rest), entry, 0o600)?;
            keys += 1;
        } else {
            return Err(not_backup(&format!("unexpected entry {}", rel.display())));
        }
    }
    let mut lines = vec![format!(
        "archive of {} (permitd {})",
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        manifest.permitd
    )];
    match &sqlite {
        Some(file) => lines.push(format!("database: {}", file.display())),
        None => lines
            .push("database: not in the archive (PostgreSQL): pg_restore it from its dump".into()),
    }
    if let Some(dir) = &files_dir {
        lines.push(format!(
            "files: {files} proof file(s) into {}",
            dir.display()
        ));
    }
    lines.push(format!("keys: {keys} file(s) into {}", keys_dir.display()));
    lines.push("next: `permitd check`, then start permitd".into());
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_leave_their_folder_are_refused() {
        assert_eq!(
            safe_relative(Path::new("files/ab/cd")),
            Some(PathBuf::from("files/ab/cd"))
        );
        assert_eq!(safe_relative(Path::new("../etc/passwd")), None);
        assert_eq!(safe_relative(Path::new("/etc/passwd")), None);
        assert_eq!(safe_relative(Path::new("keys/../../x")), None);
    }

    #[test]
    fn restore_refuses_a_directory_that_is_not_empty() {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("permit.sqlite"), b"x").unwrap();
        let config = Config {
            data_dir: data.path().to_path_buf(),
            ..Config::default()
        };
        let err = restore(&config, Path::new("/nonexistent.tar.gz")).unwrap_err();
        assert!(matches!(err, BackupError::NotEmpty(_)), "{err}");
        assert!(
            err.to_string()
                .contains("restore only into an empty directory")
        );
    }
}
