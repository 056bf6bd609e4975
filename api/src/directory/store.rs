//! Storage of the directory: regions, service points (with their opening days and default
//! capacity) and articles.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::model::{Article, ArticleInput, ArticleKind, Region, ServicePoint, ServicePointInput};
use crate::booking::calendar::Opening;
use crate::platform::storage::{
    Database, StorageError, StorageResult, Tx, all_by, classify, found, one_by, run,
};

pub(crate) const SERVICE_POINT_COLUMNS: &str = "id, number, district_code, street_code, police_station, name, scope, address, phone, hours, opens_saturday, open_weekdays, sessions, capacity_morning, capacity_afternoon";

pub(crate) const ARTICLE_COLUMNS: &str =
    "id, slug, kind, title, title_en, summary, body, source, published_on, updated_at";

/// The write statements for service points and articles; the insert and the update bind the
/// same values in the same order.
pub(crate) static INSERT_SERVICE_POINT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO service_points (id, number, district_code, street_code, police_station, name, scope, address, phone, hours, opens_saturday, updated_at, open_weekdays) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $11 THEN '123456' ELSE '12345' END) RETURNING {SERVICE_POINT_COLUMNS}"
    )
});

pub(crate) static UPDATE_SERVICE_POINT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE service_points SET number = $2, district_code = $3, street_code = $4, police_station = $5, name = $6, scope = $7, \
         address = $8, phone = $9, hours = $10, opens_saturday = $11, updated_at = $12, \
         open_weekdays = CASE WHEN $11 = (open_weekdays LIKE '%6%') THEN open_weekdays WHEN $11 THEN open_weekdays || '6' \
                              WHEN REPLACE(open_weekdays, '6', '') = '' THEN '12345' ELSE REPLACE(open_weekdays, '6', '') END \
         WHERE id = $1 RETURNING {SERVICE_POINT_COLUMNS}"
    )
});

pub(crate) static INSERT_ARTICLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO articles (id, slug, kind, title, title_en, summary, body, source, published_on, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {ARTICLE_COLUMNS}"
    )
});

pub(crate) static UPDATE_ARTICLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE articles SET slug = $2, kind = $3, title = $4, title_en = $5, summary = $6, body = $7, source = $8, published_on = $9, updated_at = $10 \
         WHERE id = $1 RETURNING {ARTICLE_COLUMNS}"
    )
});

#[derive(sqlx::FromRow)]
pub(crate) struct RegionRow {
    code: String,
    parent_code: Option<String>,
    name: String,
    name_en: Option<String>,
    level: String,
}

impl From<RegionRow> for Region {
    fn from(r: RegionRow) -> Self {
        Region {
            code: r.code,
            parent_code: r.parent_code,
            name: r.name,
            name_en: r.name_en,
            level: r.level,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServicePointRow {
    id: Uuid,
    number: i32,
    district_code: String,
    street_code: Option<String>,
    police_station: String,
    name: String,
    scope: String,
    address: String,
    phone: String,
    hours: String,
    opens_saturday: bool,
    open_weekdays: String,
    sessions: String,
    capacity_morning: i32,
    capacity_afternoon: i32,
}

impl TryFrom<ServicePointRow> for ServicePoint {
    type Error = StorageError;
    fn try_from(r: ServicePointRow) -> StorageResult<Self> {
        let opening = Opening::from_db(&r.open_weekdays, &r.sessions)
            .map_err(|_| StorageError::Corrupt("service point opening"))?;
        Ok(ServicePoint {
            id: r.id,
            number: r.number,
            district_code: r.district_code,
            street_code: r.street_code,
            police_station: r.police_station,
            name: r.name,
            scope: r.scope,
            address: r.address,
            phone: r.phone,
            hours: r.hours,
            opens_saturday: r.opens_saturday,
            open_weekdays: opening.weekdays().into_iter().map(i32::from).collect(),
            sessions: opening
                .sessions()
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            capacity_morning: r.capacity_morning,
            capacity_afternoon: r.capacity_afternoon,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ArticleRow {
    id: Uuid,
    slug: String,
    kind: String,
    title: String,
    title_en: Option<String>,
    summary: String,
    body: String,
    source: Option<String>,
    published_on: Option<NaiveDate>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ArticleRow> for Article {
    type Error = StorageError;
    fn try_from(r: ArticleRow) -> StorageResult<Self> {
        Ok(Article {
            id: r.id,
            slug: r.slug,
            kind: ArticleKind::parse(&r.kind).ok_or(StorageError::Corrupt("article kind"))?,
            title: r.title,
            title_en: r.title_en,
            summary: r.summary,
            body: r.body,
            source: r.source,
            published_on: r.published_on,
            updated_at: r.updated_at,
        })
    }
}

/// Regions, service points and articles.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    // Directory.
    async fn upsert_region(&self, region: &Region) -> StorageResult<()>;
    async fn regions_under(&self, parent: Option<&str>) -> StorageResult<Vec<Region>>;
    async fn region(&self, code: &str) -> StorageResult<Region>;
    async fn create_service_point(&self, input: &ServicePointInput) -> StorageResult<ServicePoint>;
    async fn update_service_point(
        &self,
        id: Uuid,
        input: &ServicePointInput,
    ) -> StorageResult<ServicePoint>;
    async fn delete_service_point(&self, id: Uuid) -> StorageResult<()>;
    async fn service_point(&self, id: Uuid) -> StorageResult<ServicePoint>;
    /// Service points whose district or street code starts with `region` (all when `None`).
    async fn service_points(&self, region: Option<&str>) -> StorageResult<Vec<ServicePoint>>;
    // Opening days and capacity.
    async fn set_opening(
        &self,
        service_point_id: Uuid,
        opening: &Opening,
        capacity_morning: i32,
        capacity_afternoon: i32,
    ) -> StorageResult<ServicePoint>;
    async fn create_article(&self, input: &ArticleInput) -> StorageResult<Article>;
    async fn update_article(&self, id: Uuid, input: &ArticleInput) -> StorageResult<Article>;
    async fn delete_article(&self, id: Uuid) -> StorageResult<()>;
    async fn article(&self, id: Uuid) -> StorageResult<Article>;
    async fn article_by_slug(&self, slug: &str) -> StorageResult<Article>;
    async fn articles(&self, kind: Option<&str>) -> StorageResult<Vec<Article>>;
}

#[async_trait]
impl DirectoryStore for Database {
    async fn upsert_region(&self, r: &Region) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        upsert_region_in(&mut tx, r).await?;
        tx.commit().await
    }

    async fn regions_under(&self, parent: Option<&str>) -> StorageResult<Vec<Region>> {
        let rows: Vec<RegionRow> = match parent {
            Some(parent) => run!(self, |e| sqlx::query_as(
                "SELECT code, parent_code, name, name_en, level FROM regions WHERE parent_code = $1 ORDER BY code",
            )
            .bind(parent)
            .fetch_all(e)
            .await),
            None => run!(self, |e| sqlx::query_as(
                "SELECT code, parent_code, name, name_en, level FROM regions WHERE parent_code IS NULL ORDER BY code",
            )
            .fetch_all(e)
            .await),
        }
        .map_err(classify)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn region(&self, code: &str) -> StorageResult<Region> {
        let row: RegionRow = run!(self, |e| sqlx::query_as(
            "SELECT code, parent_code, name, name_en, level FROM regions WHERE code = $1",
        )
        .bind(code)
        .fetch_one(e)
        .await)
        .map_err(classify)?;
        Ok(row.into())
    }

    async fn create_service_point(&self, p: &ServicePointInput) -> StorageResult<ServicePoint> {
        let mut tx = self.begin().await?;
        let point = insert_service_point_in(&mut tx, p).await?;
        tx.commit().await?;
        Ok(point)
    }

    async fn update_service_point(
        &self,
        id: Uuid,
        p: &ServicePointInput,
    ) -> StorageResult<ServicePoint> {
        let mut tx = self.begin().await?;
        let point = write_service_point(&mut tx, &UPDATE_SERVICE_POINT, id, p).await?;
        tx.commit().await?;
        Ok(point)
    }

    async fn delete_service_point(&self, id: Uuid) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "DELETE FROM service_points WHERE id = $1"
        )
        .bind(id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn service_point(&self, id: Uuid) -> StorageResult<ServicePoint> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!(
            "SELECT {} FROM service_points WHERE id = $1",
            SERVICE_POINT_COLUMNS
        );
        let row: ServicePointRow = one_by(self, sql, id).await?;
        row.try_into()
    }

    async fn service_points(&self, region: Option<&str>) -> StorageResult<Vec<ServicePoint>> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!(
            "SELECT {} FROM service_points WHERE $1 = '' OR district_code LIKE $2 OR street_code LIKE $2 ORDER BY district_code, number",
            SERVICE_POINT_COLUMNS
        );
        let region = region.unwrap_or_default();
        let escaped: String = region
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let rows: Vec<ServicePointRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(region)
            .bind(format!("{escaped}%"))
            .fetch_all(e)
            .await)
        .map_err(classify)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn set_opening(
        &self,
        service_point_id: Uuid,
        opening: &Opening,
        capacity_morning: i32,
        capacity_afternoon: i32,
    ) -> StorageResult<ServicePoint> {
        let (weekdays, sessions) = opening.to_db();
        let sql = format!(
            "UPDATE service_points SET open_weekdays = $2, sessions = $3, capacity_morning = $4, capacity_afternoon = $5, \
             opens_saturday = $6, updated_at = $7 WHERE id = $1 RETURNING {}",
            SERVICE_POINT_COLUMNS
        );
        let row: ServicePointRow = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(service_point_id)
            .bind(weekdays)
            .bind(sessions)
            .bind(capacity_morning)
            .bind(capacity_afternoon)
            .bind(opening.opens_on(chrono::Weekday::Sat))
            .bind(Utc::now())
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        row.try_into()
    }

    async fn create_article(&self, a: &ArticleInput) -> StorageResult<Article> {
        let mut tx = self.begin().await?;
        let article = write_article(&mut tx, &INSERT_ARTICLE, Uuid::new_v4(), a).await?;
        tx.commit().await?;
        Ok(article)
    }

    async fn update_article(&self, id: Uuid, a: &ArticleInput) -> StorageResult<Article> {
        let mut tx = self.begin().await?;
        let article = write_article(&mut tx, &UPDATE_ARTICLE, id, a).await?;
        tx.commit().await?;
        Ok(article)
    }

    async fn delete_article(&self, id: Uuid) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query("DELETE FROM articles WHERE id = $1")
            .bind(id)
            .execute(e)
            .await
            .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn article(&self, id: Uuid) -> StorageResult<Article> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!("SELECT {} FROM articles WHERE id = $1", ARTICLE_COLUMNS);
        let row: ArticleRow = one_by(self, sql, id).await?;
        row.try_into()
    }

    async fn article_by_slug(&self, slug: &str) -> StorageResult<Article> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!("SELECT {} FROM articles WHERE slug = $1", ARTICLE_COLUMNS);
        let row: ArticleRow = one_by(self, sql, slug.to_string()).await?;
        row.try_into()
    }

    async fn articles(&self, kind: Option<&str>) -> StorageResult<Vec<Article>> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!(
            "SELECT {} FROM articles WHERE $1 = '' OR kind = $1 ORDER BY kind, published_on DESC, title",
            ARTICLE_COLUMNS
        );
        let rows: Vec<ArticleRow> = all_by(self, sql, kind.unwrap_or_default().to_string()).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

/// Inserts or updates a service point: both statements bind the same values in the
/// same order ($1 the id, then the fields, then the update time).
async fn write_service_point(
    tx: &mut Tx,
    sql: &str,
    id: Uuid,
    p: &ServicePointInput,
) -> StorageResult<ServicePoint> {
    let row: ServicePointRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .bind(p.number)
        .bind(&p.district_code)
        .bind(&p.street_code)
        .bind(&p.police_station)
        .bind(&p.name)
        .bind(&p.scope)
        .bind(&p.address)
        .bind(&p.phone)
        .bind(&p.hours)
        .bind(p.opens_saturday)
        .bind(Utc::now())
        .fetch_one(e)
        .await)
    .map_err(classify)?;
    row.try_into()
}

/// Inserts or updates an article, binding like `write_service_point`.
async fn write_article(
    tx: &mut Tx,
    sql: &str,
    id: Uuid,
    a: &ArticleInput,
) -> StorageResult<Article> {
    let row: ArticleRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .bind(&a.slug)
        .bind(a.kind.as_str())
        .bind(&a.title)
        .bind(&a.title_en)
        .bind(&a.summary)
        .bind(&a.body)
        .bind(&a.source)
        .bind(a.published_on)
        .bind(Utc::now())
        .fetch_one(e)
        .await)
    .map_err(classify)?;
    row.try_into()
}

/// Writes a region (or its new names) inside the caller's transaction.
pub(crate) async fn upsert_region_in(tx: &mut Tx, r: &Region) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "INSERT INTO regions (code, parent_code, name, name_en, level) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code, name = excluded.name, name_en = excluded.name_en, level = excluded.level",
    )
    .bind(&r.code)
    .bind(&r.parent_code)
    .bind(&r.name)
    .bind(&r.name_en)
    .bind(&r.level)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// Adds a service point inside the caller's transaction.
pub(crate) async fn insert_service_point_in(
    tx: &mut Tx,
    p: &ServicePointInput,
) -> StorageResult<ServicePoint> {
    write_service_point(tx, &INSERT_SERVICE_POINT, Uuid::new_v4(), p).await
}

/// Adds an article inside the caller's transaction unless its slug is taken (`None` then):
/// a seed keeps what an administrator wrote under the same slug, and no unique violation
/// aborts the seeding transaction.
pub(crate) async fn insert_article_unless_taken_in(
    tx: &mut Tx,
    a: &ArticleInput,
) -> StorageResult<Option<Article>> {
    let taken: Option<Uuid> = run!(tx, |e| sqlx::query_scalar(
        "SELECT id FROM articles WHERE slug = $1"
    )
    .bind(&a.slug)
    .fetch_optional(e)
    .await)
    .map_err(classify)?;
    if taken.is_some() {
        return Ok(None);
    }
    write_article(tx, &INSERT_ARTICLE, Uuid::new_v4(), a)
        .await
        .map(Some)
}
