//! The queries both backends share. `shared_queries!` expands to the `Storage` methods for one
//! pool type; each backend file invokes it inside its `impl Storage`.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{StorageError, StorageResult};
use crate::accounts::{Account, Role, Sex};
use crate::calendar::Opening;
use crate::directory::{Article, ArticleKind, Region, ServicePoint};
use crate::passkeys::StoredPasskey;

pub(super) const ACCOUNT_COLUMNS: &str = "id, username, password_hash, role, real_name, id_number, sex, phone, region_code, login_sms_required, real_name_verified_at, created_at";
pub(super) const SERVICE_POINT_COLUMNS: &str = "id, number, district_code, street_code, police_station, name, scope, address, phone, hours, opens_saturday, open_weekdays, sessions, capacity_morning, capacity_afternoon";
pub(super) const ARTICLE_COLUMNS: &str =
    "id, slug, kind, title, title_en, summary, body, source, published_on, updated_at";

/// The write statements for service points and articles; the insert and the update bind the
/// same values in the same order.
pub(super) static INSERT_SERVICE_POINT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO service_points (id, number, district_code, street_code, police_station, name, scope, address, phone, hours, opens_saturday, updated_at, open_weekdays) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $11 THEN '123456' ELSE '12345' END) RETURNING {SERVICE_POINT_COLUMNS}"
    )
});
pub(super) static UPDATE_SERVICE_POINT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE service_points SET number = $2, district_code = $3, street_code = $4, police_station = $5, name = $6, scope = $7, \
         address = $8, phone = $9, hours = $10, opens_saturday = $11, updated_at = $12, \
         open_weekdays = CASE WHEN $11 = (open_weekdays LIKE '%6%') THEN open_weekdays WHEN $11 THEN open_weekdays || '6' \
                              WHEN REPLACE(open_weekdays, '6', '') = '' THEN '12345' ELSE REPLACE(open_weekdays, '6', '') END \
         WHERE id = $1 RETURNING {SERVICE_POINT_COLUMNS}"
    )
});
pub(super) static INSERT_ARTICLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO articles (id, slug, kind, title, title_en, summary, body, source, published_on, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {ARTICLE_COLUMNS}"
    )
});
pub(super) static UPDATE_ARTICLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE articles SET slug = $2, kind = $3, title = $4, title_en = $5, summary = $6, body = $7, source = $8, published_on = $9, updated_at = $10 \
         WHERE id = $1 RETURNING {ARTICLE_COLUMNS}"
    )
});

#[derive(sqlx::FromRow)]
pub(super) struct AccountRow {
    id: Uuid,
    username: String,
    password_hash: String,
    role: String,
    real_name: String,
    id_number: Option<String>,
    sex: Option<String>,
    phone: Option<String>,
    region_code: Option<String>,
    login_sms_required: bool,
    real_name_verified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StorageError;
    fn try_from(r: AccountRow) -> StorageResult<Self> {
        Ok(Account {
            id: r.id,
            username: r.username,
            password_hash: r.password_hash,
            role: Role::parse(&r.role).ok_or(StorageError::Corrupt("account role"))?,
            real_name: r.real_name,
            id_number: r.id_number,
            sex: r
                .sex
                .map(|s| Sex::parse(&s).ok_or(StorageError::Corrupt("account sex")))
                .transpose()?,
            phone: r.phone,
            region_code: r.region_code,
            login_sms_required: r.login_sms_required,
            real_name_verified_at: r.real_name_verified_at,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PasskeyRow {
    id: Uuid,
    account_id: Uuid,
    name: String,
    credential_id: String,
    credential: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<PasskeyRow> for StoredPasskey {
    fn from(r: PasskeyRow) -> Self {
        StoredPasskey {
            id: r.id,
            account_id: r.account_id,
            name: r.name,
            credential_id: r.credential_id,
            credential_json: r.credential,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RegionRow {
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
pub(super) struct ServicePointRow {
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
pub(super) struct ArticleRow {
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

/// Expands to `impl Storage for $ty` with the shared methods; `$pool` is the field holding the
/// sqlx pool, and the items after it are the backend's own methods.
macro_rules! shared_queries {
    ($ty:ty, $pool:ident, { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl Storage for $ty {
        $($own)*

        async fn ping(&self) -> StorageResult<()> {
            sqlx::query("SELECT 1")
                .execute(&self.$pool)
                .await
                .map(|_| ())
                .map_err(classify)
        }

        async fn setting_get_or_init(&self, key: &str, value: &str) -> StorageResult<String> {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(value)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)
        }

        async fn create_account(&self, a: &NewAccount) -> StorageResult<Account> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!(
                "INSERT INTO accounts (id, username, password_hash, role, real_name, id_number, sex, phone, region_code, login_sms_required, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {}",
                shared::ACCOUNT_COLUMNS
            );
            let row: shared::AccountRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Uuid::new_v4())
                .bind(&a.username)
                .bind(&a.password_hash)
                .bind(a.role.as_str())
                .bind(&a.real_name)
                .bind(&a.id_number)
                .bind(a.sex.map(|s| s.as_str()))
                .bind(&a.phone)
                .bind(&a.region_code)
                .bind(a.login_sms_required)
                .bind(Utc::now())
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn account_by_id(&self, id: Uuid) -> StorageResult<Account> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!("SELECT {} FROM accounts WHERE id = $1", shared::ACCOUNT_COLUMNS);
            let row: shared::AccountRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn account_by_username(&self, username: &str) -> StorageResult<Account> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!(
                "SELECT {} FROM accounts WHERE username = $1",
                shared::ACCOUNT_COLUMNS
            );
            let row: shared::AccountRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(username)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn username_taken(&self, username: &str) -> StorageResult<bool> {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE username = $1")
                .bind(username)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            Ok(n > 0)
        }

        async fn resident_id_number_taken(&self, id_number: &str) -> StorageResult<bool> {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM accounts WHERE id_number = $1 AND role = 'resident'",
            )
            .bind(id_number)
            .fetch_one(&self.$pool)
            .await
            .map_err(classify)?;
            Ok(n > 0)
        }

        async fn resident_by_id_number(&self, id_number: &str) -> StorageResult<Account> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!(
                "SELECT {} FROM accounts WHERE id_number = $1 AND role = 'resident'",
                shared::ACCOUNT_COLUMNS
            );
            let row: shared::AccountRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id_number)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn set_password_hash(&self, id: Uuid, hash: &str) -> StorageResult<()> {
            let done = sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(Utc::now())
                .bind(id)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn set_phone(&self, id: Uuid, phone: &str) -> StorageResult<()> {
            let done = sqlx::query(
                "UPDATE accounts SET phone = $1, login_sms_required = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(phone)
            .bind(true)
            .bind(Utc::now())
            .bind(id)
            .execute(&self.$pool)
            .await
            .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn set_login_sms_required(&self, id: Uuid, required: bool) -> StorageResult<()> {
            let done = sqlx::query("UPDATE accounts SET login_sms_required = $1 WHERE id = $2")
                .bind(required)
                .bind(id)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn set_staff_service_points(&self, id: Uuid, points: &[Uuid]) -> StorageResult<()> {
            let mut tx = self.$pool.begin().await.map_err(classify)?;
            sqlx::query("DELETE FROM staff_service_points WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            for point in points {
                sqlx::query("INSERT INTO staff_service_points (account_id, service_point_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(point)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
            }
            tx.commit().await.map_err(classify)
        }

        async fn staff_service_points(&self, id: Uuid) -> StorageResult<Vec<Uuid>> {
            sqlx::query_scalar(
                "SELECT service_point_id FROM staff_service_points WHERE account_id = $1 ORDER BY service_point_id",
            )
            .bind(id)
            .fetch_all(&self.$pool)
            .await
            .map_err(classify)
        }

        async fn add_passkey(&self, p: &StoredPasskey) -> StorageResult<()> {
            sqlx::query(
                "INSERT INTO passkeys (id, account_id, name, credential_id, credential, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(p.id)
            .bind(p.account_id)
            .bind(&p.name)
            .bind(&p.credential_id)
            .bind(&p.credential_json)
            .bind(p.created_at)
            .execute(&self.$pool)
            .await
            .map_err(classify)
            .map(|_| ())
        }

        async fn passkeys_of(&self, account_id: Uuid) -> StorageResult<Vec<StoredPasskey>> {
            let rows: Vec<shared::PasskeyRow> = sqlx::query_as(
                "SELECT id, account_id, name, credential_id, credential, created_at, last_used_at FROM passkeys WHERE account_id = $1 ORDER BY created_at",
            )
            .bind(account_id)
            .fetch_all(&self.$pool)
            .await
            .map_err(classify)?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn update_passkey(
            &self,
            id: Uuid,
            credential_json: &str,
            used_at: DateTime<Utc>,
        ) -> StorageResult<()> {
            let done = sqlx::query("UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3")
                .bind(credential_json)
                .bind(used_at)
                .bind(id)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn delete_passkey(&self, account_id: Uuid, id: Uuid) -> StorageResult<()> {
            let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account_id)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn upsert_region(&self, r: &Region) -> StorageResult<()> {
            sqlx::query(
                "INSERT INTO regions (code, parent_code, name, name_en, level) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code, name = excluded.name, name_en = excluded.name_en, level = excluded.level",
            )
            .bind(&r.code)
            .bind(&r.parent_code)
            .bind(&r.name)
            .bind(&r.name_en)
            .bind(&r.level)
            .execute(&self.$pool)
            .await
            .map_err(classify)
            .map(|_| ())
        }

        async fn regions_under(&self, parent: Option<&str>) -> StorageResult<Vec<Region>> {
            let rows: Vec<shared::RegionRow> = match parent {
                Some(parent) => sqlx::query_as(
                    "SELECT code, parent_code, name, name_en, level FROM regions WHERE parent_code = $1 ORDER BY code",
                )
                .bind(parent)
                .fetch_all(&self.$pool)
                .await,
                None => sqlx::query_as(
                    "SELECT code, parent_code, name, name_en, level FROM regions WHERE parent_code IS NULL ORDER BY code",
                )
                .fetch_all(&self.$pool)
                .await,
            }
            .map_err(classify)?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn region(&self, code: &str) -> StorageResult<Region> {
            let row: shared::RegionRow = sqlx::query_as(
                "SELECT code, parent_code, name, name_en, level FROM regions WHERE code = $1",
            )
            .bind(code)
            .fetch_one(&self.$pool)
            .await
            .map_err(classify)?;
            Ok(row.into())
        }

        async fn create_service_point(&self, p: &ServicePointInput) -> StorageResult<ServicePoint> {
            self.write_service_point(&shared::INSERT_SERVICE_POINT, Uuid::new_v4(), p).await
        }

        async fn update_service_point(
            &self,
            id: Uuid,
            p: &ServicePointInput,
        ) -> StorageResult<ServicePoint> {
            self.write_service_point(&shared::UPDATE_SERVICE_POINT, id, p).await
        }

        async fn delete_service_point(&self, id: Uuid) -> StorageResult<()> {
            let done = sqlx::query("DELETE FROM service_points WHERE id = $1")
                .bind(id)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn service_point(&self, id: Uuid) -> StorageResult<ServicePoint> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!(
                "SELECT {} FROM service_points WHERE id = $1",
                shared::SERVICE_POINT_COLUMNS
            );
            let row: shared::ServicePointRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn service_points(&self, region: Option<&str>) -> StorageResult<Vec<ServicePoint>> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!(
                "SELECT {} FROM service_points WHERE $1 = '' OR district_code LIKE $2 OR street_code LIKE $2 ORDER BY district_code, number",
                shared::SERVICE_POINT_COLUMNS
            );
            let region = region.unwrap_or_default();
            let escaped: String = region.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            let rows: Vec<shared::ServicePointRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(region)
                .bind(format!("{escaped}%"))
                .fetch_all(&self.$pool)
                .await
                .map_err(classify)?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        async fn create_article(&self, a: &ArticleInput) -> StorageResult<Article> {
            self.write_article(&shared::INSERT_ARTICLE, Uuid::new_v4(), a).await
        }

        async fn update_article(&self, id: Uuid, a: &ArticleInput) -> StorageResult<Article> {
            self.write_article(&shared::UPDATE_ARTICLE, id, a).await
        }

        async fn delete_article(&self, id: Uuid) -> StorageResult<()> {
            let done = sqlx::query("DELETE FROM articles WHERE id = $1")
                .bind(id)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
            found(done.rows_affected())
        }

        async fn article(&self, id: Uuid) -> StorageResult<Article> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!("SELECT {} FROM articles WHERE id = $1", shared::ARTICLE_COLUMNS);
            let row: shared::ArticleRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn article_by_slug(&self, slug: &str) -> StorageResult<Article> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!("SELECT {} FROM articles WHERE slug = $1", shared::ARTICLE_COLUMNS);
            let row: shared::ArticleRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(slug)
                .fetch_one(&self.$pool)
                .await
                .map_err(classify)?;
            row.try_into()
        }

        async fn articles(&self, kind: Option<&str>) -> StorageResult<Vec<Article>> {
            // Only constant column lists are spliced in; values are always bound.
            let sql = format!(
                "SELECT {} FROM articles WHERE $1 = '' OR kind = $1 ORDER BY kind, published_on DESC, title",
                shared::ARTICLE_COLUMNS
            );
            let rows: Vec<shared::ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(kind.unwrap_or_default())
                .fetch_all(&self.$pool)
                .await
                .map_err(classify)?;
            rows.into_iter().map(TryInto::try_into).collect()
        }
        }

        impl $ty {
            /// Inserts or updates a service point: both statements bind the same values in the
            /// same order ($1 the id, then the fields, then the update time).
            async fn write_service_point(
                &self,
                sql: &str,
                id: Uuid,
                p: &ServicePointInput,
            ) -> StorageResult<ServicePoint> {
                let row: shared::ServicePointRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
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
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.try_into()
            }

            /// Inserts or updates an article, binding like `write_service_point`.
            async fn write_article(&self, sql: &str, id: Uuid, a: &ArticleInput) -> StorageResult<Article> {
                let row: shared::ArticleRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
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
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.try_into()
            }
        }
    };
}

pub(super) use shared_queries;

/// An UPDATE or DELETE that touched nothing was aimed at a row that does not exist.
pub(super) fn found(rows: u64) -> StorageResult<()> {
    if rows == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}
