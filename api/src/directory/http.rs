//! The directory's endpoints. Handlers extract, check the administrator's role, call
//! `directory::service`, and map its errors; the API's objects mirror the model's types under the
//! same schema names.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::model::{self, ArticleKind as ArticleKindModel, FieldError};
use super::service::{self, DirectoryError};
use crate::identity::auth::SessionAuth;
use crate::identity::model::Role;
use crate::platform::audit;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{MultiLineText, Nullable, Text};
use crate::platform::web::{ApiTags, api_enum};

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Region {
    pub code: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    /// city, district, street or community
    pub level: String,
}

impl From<model::Region> for Region {
    fn from(r: model::Region) -> Self {
        Region {
            code: r.code,
            parent_code: r.parent_code,
            name: r.name,
            name_en: r.name_en,
            level: r.level,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct RegionInput {
    pub parent_code: Nullable<Text>,
    pub name: Text,
    pub name_en: Nullable<Text>,
    /// city, district, street or community
    pub level: Text,
}

impl From<RegionInput> for model::RegionInput {
    fn from(r: RegionInput) -> Self {
        model::RegionInput {
            parent_code: r.parent_code.0.map(Into::into),
            name: r.name.into(),
            name_en: r.name_en.0.map(Into::into),
            level: r.level.into(),
        }
    }
}

/// 受理网点, with the columns of the Zhejiang manual §4.1.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
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
    /// Open on Saturdays (the Zhejiang manual §4.1: 清波).
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

impl From<model::ServicePoint> for ServicePoint {
    fn from(p: model::ServicePoint) -> Self {
        ServicePoint {
            id: p.id,
            number: p.number,
            district_code: p.district_code,
            street_code: p.street_code,
            police_station: p.police_station,
            name: p.name,
            scope: p.scope,
            address: p.address,
            phone: p.phone,
            hours: p.hours,
            opens_saturday: p.opens_saturday,
            open_weekdays: p.open_weekdays,
            sessions: p.sessions,
            capacity_morning: p.capacity_morning,
            capacity_afternoon: p.capacity_afternoon,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct ServicePointInput {
    pub number: i32,
    pub district_code: Text,
    pub street_code: Nullable<Text>,
    pub police_station: Text,
    pub name: Text,
    pub scope: Text,
    pub address: Text,
    pub phone: Text,
    pub hours: Text,
    #[oai(default)]
    pub opens_saturday: bool,
}

impl From<ServicePointInput> for model::ServicePointInput {
    fn from(p: ServicePointInput) -> Self {
        model::ServicePointInput {
            number: p.number,
            district_code: p.district_code.into(),
            street_code: p.street_code.0.map(Into::into),
            police_station: p.police_station.into(),
            name: p.name.into(),
            scope: p.scope.into(),
            address: p.address.into(),
            phone: p.phone.into(),
            hours: p.hours.into(),
            opens_saturday: p.opens_saturday,
        }
    }
}

api_enum! {
    ArticleKind as "ArticleKind" mirrors ArticleKindModel { Policy, Guide }
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
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

impl From<model::Article> for Article {
    fn from(a: model::Article) -> Self {
        Article {
            id: a.id,
            slug: a.slug,
            kind: a.kind.into(),
            title: a.title,
            title_en: a.title_en,
            summary: a.summary,
            body: a.body,
            source: a.source,
            published_on: a.published_on,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct ArticleInput {
    /// Lower-case ASCII letters, digits and dashes.
    pub slug: Text,
    pub kind: ArticleKind,
    pub title: Text,
    pub title_en: Nullable<Text>,
    pub summary: Text,
    pub body: MultiLineText,
    pub source: Nullable<Text>,
    pub published_on: Option<NaiveDate>,
}

impl From<ArticleInput> for model::ArticleInput {
    fn from(a: ArticleInput) -> Self {
        model::ArticleInput {
            slug: a.slug.into(),
            kind: a.kind.into(),
            title: a.title.into(),
            title_en: a.title_en.0.map(Into::into),
            summary: a.summary.into(),
            body: a.body.into(),
            source: a.source.0.map(Into::into),
            published_on: a.published_on,
        }
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

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        match e {
            FieldError::RegionCode => ApiError::unprocessable(
                "invalid_region_code",
                "code",
                "区域代码应为不超过12位的数字",
            ),
            FieldError::Level => ApiError::unprocessable(
                "invalid_field",
                "level",
                "level 应为 city、district、street 或 community",
            ),
            FieldError::Required { field, max } => ApiError::unprocessable(
                "invalid_field",
                field,
                format!("{field} 不能为空，且不超过{max}个字符"),
            ),
            FieldError::NegativeNumber => {
                ApiError::unprocessable("invalid_field", "number", "序号不能为负数")
            }
            FieldError::Slug => ApiError::unprocessable(
                "invalid_slug",
                "slug",
                "slug 只能包含小写字母、数字和连字符",
            ),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Field(f) => f.into(),
            DirectoryError::UnknownParent => {
                ApiError::unprocessable("unknown_region", "parent_code", "上级区域不存在")
            }
            DirectoryError::SlugTaken => {
                ApiError::conflict("slug_taken", "slug", "该 slug 已被使用")
            }
            DirectoryError::InUse => ApiError::new(
                poem::http::StatusCode::CONFLICT,
                "in_use",
                "该服务点仍有申请、预约或居住证，不能删除",
            ),
            DirectoryError::Storage(e) => e.into(),
        }
    }
}

pub struct DirectoryApi;

fn all<M, V: From<M>>(items: Vec<M>) -> Vec<V> {
    items.into_iter().map(V::from).collect()
}

#[OpenApi(tag = "ApiTags::Directory")]
impl DirectoryApi {
    /// Regions one level below `parent` (the top level when absent).
    #[oai(path = "/regions", method = "get")]
    async fn regions(
        &self,
        state: Data<&AppState>,
        parent: Query<Option<Text>>,
    ) -> Result<Json<Vec<Region>>, ApiError> {
        let regions = service::regions(&*state.storage, parent.0.as_deref()).await?;
        Ok(Json(all(regions)))
    }

    /// Add or edit a region (administrators); the parent must exist.
    #[oai(path = "/regions/:code", method = "put")]
    async fn put_region(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        code: Path<Text>,
        body: Json<RegionInput>,
    ) -> Result<Json<Region>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let region = service::put_region(&*state.storage, code.0.into(), body.0.into()).await?;
        audit::record(&state, &auth, "put_region", "region", &region.code, "").await?;
        Ok(Json(region.into()))
    }

    /// 受理网点查询: service points in a region (district or street code), or all.
    #[oai(path = "/service-points", method = "get")]
    async fn service_points(
        &self,
        state: Data<&AppState>,
        region: Query<Option<Text>>,
    ) -> Result<Json<Vec<ServicePoint>>, ApiError> {
        let points = service::service_points(&*state.storage, region.0.as_deref()).await?;
        Ok(Json(all(points)))
    }

    #[oai(path = "/service-points/:id", method = "get")]
    async fn service_point(
        &self,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<Json<ServicePoint>, ApiError> {
        Ok(Json(
            service::service_point(&*state.storage, id.0).await?.into(),
        ))
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
        let point = service::create_service_point(&*state.storage, &body.0.into()).await?;
        audit::record(
            &state,
            &auth,
            "create_service_point",
            "service_point",
            point.id,
            "",
        )
        .await?;
        Ok(CreatedServicePoint::Created(Json(point.into())))
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
        let point = service::update_service_point(&*state.storage, id.0, &body.0.into()).await?;
        audit::record(
            &state,
            &auth,
            "update_service_point",
            "service_point",
            point.id,
            "",
        )
        .await?;
        Ok(Json(point.into()))
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
        service::delete_service_point(&*state.storage, id.0).await?;
        audit::record(
            &state,
            &auth,
            "delete_service_point",
            "service_point",
            id.0,
            "",
        )
        .await?;
        Ok(Deleted::Done)
    }

    /// 政策法规 (`kind=policy`) and 办事指南 (`kind=guide`).
    #[oai(path = "/articles", method = "get")]
    async fn articles(
        &self,
        state: Data<&AppState>,
        kind: Query<Option<ArticleKind>>,
    ) -> Result<Json<Vec<Article>>, ApiError> {
        let articles = service::articles(&*state.storage, kind.0.map(Into::into)).await?;
        Ok(Json(all(articles)))
    }

    /// One article, by id or slug.
    #[oai(path = "/articles/:id", method = "get")]
    async fn article(
        &self,
        state: Data<&AppState>,
        id: Path<Text>,
    ) -> Result<Json<Article>, ApiError> {
        let key = model::ArticleKey::parse(&id.0);
        Ok(Json(service::article(&*state.storage, &key).await?.into()))
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
        let article = service::create_article(&*state.storage, &body.0.into()).await?;
        audit::record(&state, &auth, "create_article", "article", article.id, "").await?;
        Ok(CreatedArticle::Created(Json(article.into())))
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
        let article = service::update_article(&*state.storage, id.0, &body.0.into()).await?;
        audit::record(&state, &auth, "update_article", "article", article.id, "").await?;
        Ok(Json(article.into()))
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
        service::delete_article(&*state.storage, id.0).await?;
        audit::record(&state, &auth, "delete_article", "article", id.0, "").await?;
        Ok(Deleted::Done)
    }
}
