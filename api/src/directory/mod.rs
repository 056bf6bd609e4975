//! The public directory (seed 000 §4): regions (district → street → community), service points
//! (受理网点) and articles (政策法规, 办事指南). Anyone can read; administrators edit.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use crate::identity::auth::SessionAuth;
use crate::identity::model::Role;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::ApiTags;

pub mod seed;

#[derive(Debug, Clone, Object)]
pub struct Region {
    pub code: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    /// city, district, street or community
    pub level: String,
}

#[derive(Debug, Clone, Object)]
pub struct RegionInput {
    pub parent_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    /// city, district, street or community
    pub level: String,
}

impl RegionInput {
    fn into_region(self, code: String) -> Result<Region, ApiError> {
        if code.is_empty() || code.len() > 12 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::unprocessable(
                "invalid_region_code",
                "code",
                "区域代码应为不超过12位的数字",
            ));
        }
        if !matches!(
            self.level.as_str(),
            "city" | "district" | "street" | "community"
        ) {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "level",
                "level 应为 city、district、street 或 community",
            ));
        }
        required(&self.name, "name", 50)?;
        Ok(Region {
            code,
            parent_code: self.parent_code.filter(|p| !p.is_empty()),
            name: self.name.trim().to_string(),
            name_en: self.name_en,
            level: self.level,
        })
    }
}

/// 受理网点, with the columns of seed 000 §4.1.
#[derive(Debug, Clone, Object)]
pub struct ServicePoint {
    pub id: Uuid,
    /// 序号
    pub number: i32,
    pub district_code: String,
    pub street_code: Option<String>,
    /// 派出所
    pub police_station: String,
    /// 受理网点
    pub name: String,
    /// 受理范围
    pub scope: String,
    /// 地址
    pub address: String,
    /// 电话
    pub phone: String,
    /// 办公时间
    pub hours: String,
    /// Open on Saturdays (seed 000 §4.1: 清波).
    pub opens_saturday: bool,
    /// The point's own opening days, ISO weekdays (1 = Monday); holidays close every point
    /// and make-up working days open every point.
    pub open_weekdays: Vec<i32>,
    /// `morning`, `afternoon`.
    pub sessions: Vec<String>,
    /// Default places per morning session.
    pub capacity_morning: i32,
    /// Default places per afternoon session.
    pub capacity_afternoon: i32,
}

#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct ServicePointInput {
    pub number: i32,
    pub district_code: String,
    pub street_code: Option<String>,
    pub police_station: String,
    pub name: String,
    pub scope: String,
    pub address: String,
    pub phone: String,
    pub hours: String,
    #[oai(default)]
    #[serde(default)]
    pub opens_saturday: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ArticleKind {
    /// 政策法规
    Policy,
    /// 办事指南
    Guide,
}

impl ArticleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleKind::Policy => "policy",
            ArticleKind::Guide => "guide",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "policy" => Some(ArticleKind::Policy),
            "guide" => Some(ArticleKind::Guide),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Article {
    pub id: Uuid,
    pub slug: String,
    pub kind: ArticleKind,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// Where the text comes from.
    pub source: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct ArticleInput {
    /// Lower-case ASCII letters, digits and dashes.
    pub slug: String,
    pub kind: ArticleKind,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub body: String,
    pub source: Option<String>,
    pub published_on: Option<NaiveDate>,
}

fn required(value: &str, field: &str, max: usize) -> Result<(), ApiError> {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        return Err(ApiError::unprocessable(
            "invalid_field",
            field,
            format!("{field} 不能为空，且不超过{max}个字符"),
        ));
    }
    Ok(())
}

impl ServicePointInput {
    fn check(&self) -> Result<(), ApiError> {
        required(&self.district_code, "district_code", 12)?;
        required(&self.police_station, "police_station", 100)?;
        required(&self.name, "name", 100)?;
        required(&self.scope, "scope", 500)?;
        required(&self.address, "address", 200)?;
        required(&self.phone, "phone", 50)?;
        required(&self.hours, "hours", 200)?;
        if self.number < 0 {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "number",
                "序号不能为负数",
            ));
        }
        Ok(())
    }
}

impl ArticleInput {
    fn check(&self) -> Result<(), ApiError> {
        let slug_ok = (1..=100).contains(&self.slug.len())
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            return Err(ApiError::unprocessable(
                "invalid_slug",
                "slug",
                "slug 只能包含小写字母、数字和连字符",
            ));
        }
        required(&self.title, "title", 200)?;
        required(&self.summary, "summary", 500)?;
        required(&self.body, "body", 200_000)?;
        Ok(())
    }
}

#[derive(Debug, ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Done,
}

#[derive(Debug, ApiResponse)]
pub enum CreatedServicePoint {
    #[oai(status = 201)]
    Created(Json<ServicePoint>),
}

#[derive(Debug, ApiResponse)]
pub enum CreatedArticle {
    #[oai(status = 201)]
    Created(Json<Article>),
}

fn slug_conflict(e: StorageError) -> ApiError {
    match e {
        StorageError::Conflict(_) => ApiError::conflict("slug_taken", "slug", "该 slug 已被使用"),
        other => other.into(),
    }
}

pub struct DirectoryApi;

#[OpenApi(tag = "ApiTags::Directory")]
impl DirectoryApi {
    /// Regions one level below `parent` (the top level when absent).
    #[oai(path = "/regions", method = "get")]
    async fn regions(
        &self,
        state: Data<&AppState>,
        parent: Query<Option<String>>,
    ) -> Result<Json<Vec<Region>>, ApiError> {
        Ok(Json(
            state.storage.regions_under(parent.0.as_deref()).await?,
        ))
    }

    /// Add or edit a region (administrators); the parent must exist.
    #[oai(path = "/regions/:code", method = "put")]
    async fn put_region(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        code: Path<String>,
        body: Json<RegionInput>,
    ) -> Result<Json<Region>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let region = body.0.into_region(code.0)?;
        if let Some(parent) = &region.parent_code {
            state.storage.region(parent).await.map_err(|e| match e {
                StorageError::NotFound => {
                    ApiError::unprocessable("unknown_region", "parent_code", "上级区域不存在")
                }
                other => other.into(),
            })?;
        }
        state.storage.upsert_region(&region).await?;
        Ok(Json(region))
    }

    /// 受理网点查询: service points in a region (district or street code), or all.
    #[oai(path = "/service-points", method = "get")]
    async fn service_points(
        &self,
        state: Data<&AppState>,
        region: Query<Option<String>>,
    ) -> Result<Json<Vec<ServicePoint>>, ApiError> {
        Ok(Json(
            state.storage.service_points(region.0.as_deref()).await?,
        ))
    }

    #[oai(path = "/service-points/:id", method = "get")]
    async fn service_point(
        &self,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<Json<ServicePoint>, ApiError> {
        Ok(Json(state.storage.service_point(id.0).await?))
    }

    /// Add a service point (administrators).
    #[oai(path = "/service-points", method = "post")]
    async fn create_service_point(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ServicePointInput>,
    ) -> Result<CreatedServicePoint, ApiError> {
        auth.0.require(&[Role::Admin])?;
        body.check()?;
        Ok(CreatedServicePoint::Created(Json(
            state.storage.create_service_point(&body).await?,
        )))
    }

    /// Edit a service point (administrators).
    #[oai(path = "/service-points/:id", method = "put")]
    async fn update_service_point(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<ServicePointInput>,
    ) -> Result<Json<ServicePoint>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        body.check()?;
        Ok(Json(state.storage.update_service_point(id.0, &body).await?))
    }

    /// Remove a service point (administrators).
    #[oai(path = "/service-points/:id", method = "delete")]
    async fn delete_service_point(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Deleted, ApiError> {
        auth.0.require(&[Role::Admin])?;
        state.storage.delete_service_point(id.0).await?;
        Ok(Deleted::Done)
    }

    /// 政策法规 (`kind=policy`) and 办事指南 (`kind=guide`).
    #[oai(path = "/articles", method = "get")]
    async fn articles(
        &self,
        state: Data<&AppState>,
        kind: Query<Option<ArticleKind>>,
    ) -> Result<Json<Vec<Article>>, ApiError> {
        Ok(Json(
            state
                .storage
                .articles(kind.0.map(ArticleKind::as_str))
                .await?,
        ))
    }

    /// One article, by id or slug.
    #[oai(path = "/articles/:id", method = "get")]
    async fn article(
        &self,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> Result<Json<Article>, ApiError> {
        let article = match Uuid::parse_str(&id.0) {
            Ok(uuid) => state.storage.article(uuid).await?,
            Err(_) => state.storage.article_by_slug(&id.0).await?,
        };
        Ok(Json(article))
    }

    /// Publish an article (administrators).
    #[oai(path = "/articles", method = "post")]
    async fn create_article(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ArticleInput>,
    ) -> Result<CreatedArticle, ApiError> {
        auth.0.require(&[Role::Admin])?;
        body.check()?;
        let article = state
            .storage
            .create_article(&body)
            .await
            .map_err(slug_conflict)?;
        Ok(CreatedArticle::Created(Json(article)))
    }

    /// Edit an article (administrators).
    #[oai(path = "/articles/:id", method = "put")]
    async fn update_article(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<ArticleInput>,
    ) -> Result<Json<Article>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        body.check()?;
        Ok(Json(
            state
                .storage
                .update_article(id.0, &body)
                .await
                .map_err(slug_conflict)?,
        ))
    }

    /// Remove an article (administrators).
    #[oai(path = "/articles/:id", method = "delete")]
    async fn delete_article(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Deleted, ApiError> {
        auth.0.require(&[Role::Admin])?;
        state.storage.delete_article(id.0).await?;
        Ok(Deleted::Done)
    }
}
pub mod store;
