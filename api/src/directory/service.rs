//! The directory's use cases: anyone reads regions, service points and articles; administrators
//! edit them. Each answers with a [`DirectoryError`]; who may edit is checked by the caller.

use uuid::Uuid;

use super::model::{
    Article, ArticleInput, ArticleKey, ArticleKind, FieldError, Region, RegionInput, ServicePoint,
    ServicePointInput,
};
use crate::platform::storage::{Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A region's parent that is not in the directory.
    #[error("the parent region does not exist")]
    UnknownParent,
    #[error("the slug is taken")]
    SlugTaken,
    /// The service point still has applications, appointments or permits.
    #[error("the service point is in use")]
    InUse,
    /// Not found among others: the caller answers 404.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for DirectoryError {
    fn from(e: StorageError) -> Self {
        DirectoryError::Storage(e)
    }
}

type Result<T> = std::result::Result<T, DirectoryError>;

/// Regions one level below `parent` (the top level when absent).
pub async fn regions(storage: &dyn Storage, parent: Option<&str>) -> Result<Vec<Region>> {
    Ok(storage.regions_under(parent).await?)
}

/// One region by its code; `NotFound` when there is none.
pub async fn region(storage: &dyn Storage, code: &str) -> Result<Region> {
    Ok(storage.region(code).await?)
}

/// Adds or edits the region at `code`; its parent must exist.
pub async fn put_region(storage: &dyn Storage, code: String, input: RegionInput) -> Result<Region> {
    let region = input.into_region(code)?;
    if let Some(parent) = &region.parent_code {
        storage.region(parent).await.map_err(|e| match e {
            StorageError::NotFound => DirectoryError::UnknownParent,
            other => other.into(),
        })?;
    }
    storage.upsert_region(&region).await?;
    Ok(region)
}

/// Service points in a region (district or street code), or all.
pub async fn service_points(
    storage: &dyn Storage,
    region: Option<&str>,
) -> Result<Vec<ServicePoint>> {
    Ok(storage.service_points(region).await?)
}

pub async fn service_point(storage: &dyn Storage, id: Uuid) -> Result<ServicePoint> {
    Ok(storage.service_point(id).await?)
}

pub async fn create_service_point(
    storage: &dyn Storage,
    input: &ServicePointInput,
) -> Result<ServicePoint> {
    input.check()?;
    Ok(storage.create_service_point(input).await?)
}

pub async fn update_service_point(
    storage: &dyn Storage,
    id: Uuid,
    input: &ServicePointInput,
) -> Result<ServicePoint> {
    input.check()?;
    Ok(storage.update_service_point(id, input).await?)
}

pub async fn delete_service_point(storage: &dyn Storage, id: Uuid) -> Result<()> {
    storage.delete_service_point(id).await.map_err(|e| match e {
        StorageError::ForeignKey => DirectoryError::InUse,
        e => e.into(),
    })
}

/// 政策法规 and 办事指南, of one kind or both.
pub async fn articles(storage: &dyn Storage, kind: Option<ArticleKind>) -> Result<Vec<Article>> {
    Ok(storage.articles(kind.map(ArticleKind::as_str)).await?)
}

pub async fn article(storage: &dyn Storage, key: &ArticleKey) -> Result<Article> {
    Ok(match key {
        ArticleKey::Id(id) => storage.article(*id).await?,
        ArticleKey::Slug(slug) => storage.article_by_slug(slug).await?,
    })
}

pub async fn create_article(storage: &dyn Storage, input: &ArticleInput) -> Result<Article> {
    input.check()?;
    storage.create_article(input).await.map_err(slug_conflict)
}

pub async fn update_article(
    storage: &dyn Storage,
    id: Uuid,
    input: &ArticleInput,
) -> Result<Article> {
    input.check()?;
    storage
        .update_article(id, input)
        .await
        .map_err(slug_conflict)
}

pub async fn delete_article(storage: &dyn Storage, id: Uuid) -> Result<()> {
    Ok(storage.delete_article(id).await?)
}

/// The only unique column an article edit can collide on is its slug.
fn slug_conflict(e: StorageError) -> DirectoryError {
    match e {
        StorageError::Conflict(_) => DirectoryError::SlugTaken,
        other => other.into(),
    }
}
