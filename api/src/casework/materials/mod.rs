//! Proof files (证明材料): uploaded as multipart, judged by their bytes (not their name or
//! declared type), stripped of JPEG/PNG metadata such as EXIF GPS, and kept in object storage
//! (a local directory by default, S3-compatible by configuration) under unguessable keys. Only
//! the owner and the clerks of the application's service point can read one.
//!
//! The object store is opened here; the endpoints are in `http`.

use std::sync::Arc;

use object_store::ObjectStore;

use crate::platform::config::Config;

pub mod content;
pub mod http;

#[derive(Debug, thiserror::Error)]
pub enum FilesOpenError {
    #[error("cannot create the files directory: {0}")]
    Dir(#[from] std::io::Error),
    #[error("object storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("files_url `{0}`: expected s3://bucket[/prefix]")]
    Url(String),
}

/// The object store the configuration names.
pub fn open_files(config: &Config) -> Result<Arc<dyn ObjectStore>, FilesOpenError> {
    match config.files_url.as_deref().filter(|u| !u.is_empty()) {
        None => {
            let dir = config.data_dir.join("files");
            std::fs::create_dir_all(&dir)?;
            Ok(Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(dir)?,
            ))
        }
        Some(url) => {
            let rest = url
                .strip_prefix("s3://")
                .ok_or_else(|| FilesOpenError::Url(url.into()))?;
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(FilesOpenError::Url(url.into()));
            }
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()?;
            if prefix.trim_matches('/').is_empty() {
                Ok(Arc::new(s3))
            } else {
                Ok(Arc::new(object_store::prefix::PrefixStore::new(
                    s3,
                    prefix.trim_matches('/'),
                )))
            }
        }
    }
}
