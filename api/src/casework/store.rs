//! Storage of applications (预约受理) and their proof files.
//!
//! The rules that must hold under concurrency are conditions of the SQL itself, so they hold
//! however many permitd instances share the database: "at most 5 people per account" and "at
//! most 10 files" are conditions of the INSERT, run after locking the account or application
//! row (PostgreSQL) or inside an IMMEDIATE transaction (SQLite, one writer at a time).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::applications::model::{
    Application, ApplicationFields, BusinessType, Material, Status, Transition,
};
use super::materials::content::MaterialKind;
use crate::identity::model::{IdNumber, PhoneNumber, Sex};
use crate::platform::data_keys::DataKeys;
use crate::platform::page::Cursor;
use crate::platform::storage::sealing::{
    APPLICANT_ADDRESS, APPLICANT_EMPLOYER, APPLICANT_ID_NUMBER, APPLICANT_NAME, APPLICANT_PHONE,
    ID_NUMBER,
};
use crate::platform::storage::{
    Database, StorageError, StorageResult, Tx, all_by, classify, one_by, run,
};

pub(crate) const APPLICATION_COLUMNS: &str = "id, number, account_id, business_type, applicant_name, applicant_id_number, applicant_sex, phone, district_code, street_code, address_detail, community_code, service_point_id, employer, condition, status, review_note, submitted_at, reviewed_at, created_at, updated_at";

pub(crate) const MATERIAL_COLUMNS: &str =
    "id, application_id, object_key, kind, size_bytes, file_name, sha256, created_at";

/// Statuses that count toward the five people of an account.
const HELD: &str = "status <> 'cancelled'";

pub(crate) static INSERT_APPLICATION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO applications (id, number, account_id, business_type, applicant_name, applicant_id_number, applicant_sex, phone, \
         district_code, street_code, address_detail, community_code, service_point_id, employer, condition, status, created_at, updated_at, applicant_id_index) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'draft', $16, $16, $18 \
         WHERE EXISTS (SELECT 1 FROM applications WHERE account_id = $3 AND applicant_id_index = $18 AND {HELD}) \
            OR (SELECT COUNT(DISTINCT applicant_id_index) FROM applications WHERE account_id = $3 AND {HELD}) < $17 \
         RETURNING {APPLICATION_COLUMNS}"
    )
});

pub(crate) static UPDATE_APPLICATION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE applications SET business_type = $3, applicant_name = $4, applicant_id_number = $5, applicant_sex = $6, phone = $7, \
         district_code = $8, street_code = $9, address_detail = $10, community_code = $11, service_point_id = $12, employer = $13, \
         condition = $14, updated_at = $15, applicant_id_index = $17 \
         WHERE id = $1 AND account_id = $2 AND {editable} \
           AND (EXISTS (SELECT 1 FROM applications o WHERE o.account_id = $2 AND o.applicant_id_index = $17 AND o.{HELD}) \
            OR (SELECT COUNT(DISTINCT o.applicant_id_index) FROM applications o WHERE o.account_id = $2 AND o.{HELD} AND o.id <> $1) < $16) \
         RETURNING {APPLICATION_COLUMNS}",
        editable = Transition::Edit.sql_from(),
    )
});

#[derive(sqlx::FromRow)]
pub(crate) struct ApplicationRow {
    id: Uuid,
    number: String,
    account_id: Uuid,
    business_type: String,
    applicant_name: String,
    applicant_id_number: String,
    applicant_sex: String,
    phone: String,
    district_code: String,
    street_code: String,
    address_detail: String,
    community_code: String,
    service_point_id: Uuid,
    employer: Option<String>,
    condition: Option<String>,
    status: String,
    review_note: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    reviewed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ApplicationRow {
    pub(crate) fn open(self, keys: &DataKeys) -> StorageResult<Application> {
        let r = self;
        let id = r.id;
        Ok(Application {
            id,
            number: r.number,
            account_id: r.account_id,
            fields: ApplicationFields {
                business_type: BusinessType::parse(&r.business_type)
                    .ok_or(StorageError::Corrupt("application business type"))?,
                applicant_name: keys.open(APPLICANT_NAME, id, &r.applicant_name)?,
                applicant_id_number: IdNumber::parse(&keys.open(
                    APPLICANT_ID_NUMBER,
                    id,
                    &r.applicant_id_number,
                )?)
                .map_err(|_| StorageError::Corrupt("applicant ID number"))?,
                applicant_sex: Sex::parse(&r.applicant_sex)
                    .ok_or(StorageError::Corrupt("applicant sex"))?,
                phone: PhoneNumber::parse(&keys.open(APPLICANT_PHONE, id, &r.phone)?)
                    .ok_or(StorageError::Corrupt("applicant phone"))?,
                district_code: r.district_code,
                street_code: r.street_code,
                address_detail: keys.open(APPLICANT_ADDRESS, id, &r.address_detail)?,
                community_code: r.community_code,
                service_point_id: r.service_point_id,
                employer: keys.open_opt(APPLICANT_EMPLOYER, id, r.employer.as_deref())?,
                condition: r.condition,
            },
            status: Status::parse(&r.status).ok_or(StorageError::Corrupt("application status"))?,
            review_note: r.review_note,
            submitted_at: r.submitted_at,
            reviewed_at: r.reviewed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MaterialRow {
    id: Uuid,
    application_id: Uuid,
    object_key: String,
    kind: String,
    size_bytes: i64,
    file_name: String,
    sha256: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<MaterialRow> for Material {
    type Error = StorageError;
    fn try_from(r: MaterialRow) -> StorageResult<Self> {
        Ok(Material {
            id: r.id,
            application_id: r.application_id,
            object_key: r.object_key,
            kind: MaterialKind::parse(&r.kind).ok_or(StorageError::Corrupt("material kind"))?,
            size_bytes: r.size_bytes,
            file_name: r.file_name,
            sha256: r.sha256,
            created_at: r.created_at,
        })
    }
}

/// Applications through their lifecycle.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    // Applications.
    async fn application(&self, id: Uuid) -> StorageResult<Application>;
    async fn applications_of(&self, account_id: Uuid) -> StorageResult<Vec<Application>>;
    /// A service point's applications past the draft stage, oldest submission first.
    /// A service point's submitted applications, oldest submission first (equal times by id),
    /// from just after `after`, `limit` at most.
    async fn applications_at(
        &self,
        service_point_id: Uuid,
        status: Option<Status>,
        after: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<Application>>;
    /// 确认申报: needs a condition and at least one file.
    /// 确认申报: needs a condition and at least one file; `None` when it is not submittable.
    async fn submit_application(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Application>>;
    /// 现场受理: a draft filed by a clerk at the counter is accepted at once (no appointment).
    async fn admit_walk_in(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Application>>;
}

#[async_trait]
impl ApplicationStore for Database {
    async fn application(&self, id: Uuid) -> StorageResult<Application> {
        let sql = format!(
            "SELECT {} FROM applications WHERE id = $1",
            APPLICATION_COLUMNS
        );
        let row: ApplicationRow = one_by(self, sql, id).await?;
        row.open(self.keys())
    }

    async fn applications_of(&self, account_id: Uuid) -> StorageResult<Vec<Application>> {
        let sql = format!(
            "SELECT {} FROM applications WHERE account_id = $1 ORDER BY created_at DESC",
            APPLICATION_COLUMNS
        );
        let rows: Vec<ApplicationRow> = all_by(self, sql, account_id).await?;
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }

    async fn applications_at(
        &self,
        service_point_id: Uuid,
        status: Option<Status>,
        after: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<Application>> {
        // The page key is the submission time (the creation time of the few that have none).
        let after_sql = if after.is_some() {
            "AND (COALESCE(submitted_at, created_at), id) > ($4, $5) "
        } else {
            "AND $4 IS NULL AND $5 IS NULL "
        };
        let sql = format!(
            "SELECT {} FROM applications WHERE service_point_id = $1 AND status <> 'draft' \
             AND ($2 = '' OR status = $2) {after_sql}ORDER BY COALESCE(submitted_at, created_at), id LIMIT $3",
            APPLICATION_COLUMNS
        );
        let rows: Vec<ApplicationRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(service_point_id)
            .bind(status.map(Status::as_str).unwrap_or_default())
            .bind(limit)
            .bind(after.map(|c| c.at))
            .bind(after.map(|c| c.id))
            .fetch_all(e)
            .await)
        .map_err(classify)?;
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }

    async fn submit_application(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Application>> {
        let sql = format!(
            "UPDATE applications SET status = {next}, submitted_at = $3, updated_at = $3 \
             WHERE id = $1 AND account_id = $2 AND {from} AND condition IS NOT NULL \
               AND EXISTS (SELECT 1 FROM materials WHERE application_id = $1) RETURNING {APPLICATION_COLUMNS}",
            next = Transition::Submit.sql_next(),
            from = Transition::Submit.sql_from(),
        );
        let row: Option<ApplicationRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(account_id)
            .bind(now)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        row.map(|r| r.open(self.keys())).transpose()
    }

    async fn admit_walk_in(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Application>> {
        let sql = format!(
            "UPDATE applications SET status = {next}, submitted_at = $2, reviewed_at = $2, updated_at = $2 \
             WHERE id = $1 AND {from} RETURNING {APPLICATION_COLUMNS}",
            next = Transition::AdmitWalkIn.sql_next(),
            from = Transition::AdmitWalkIn.sql_from(),
        );
        let row: Option<ApplicationRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(now)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        row.map(|r| r.open(self.keys())).transpose()
    }
}

/// Proof files of an application.
#[async_trait]
pub trait MaterialStore: Send + Sync {
    // Proof files.
    /// `None` when the application already has `max` files or can no longer be edited.
    async fn add_material(&self, m: &Material, max: i64) -> StorageResult<Option<Material>>;
    async fn materials_of(&self, application_id: Uuid) -> StorageResult<Vec<Material>>;
    async fn material(&self, application_id: Uuid, id: Uuid) -> StorageResult<Material>;
    /// Deletes a file of an application that can still be edited.
    /// `None` when the application can no longer be edited; a missing file is `NotFound`.
    async fn delete_material(
        &self,
        application_id: Uuid,
        id: Uuid,
    ) -> StorageResult<Option<Material>>;
}

#[async_trait]
impl MaterialStore for Database {
    async fn add_material(&self, m: &Material, max: i64) -> StorageResult<Option<Material>> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT id FROM applications WHERE id = $1{}",
            tx.dialect().for_update
        );
        run!(tx, |e| sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(m.application_id)
            .fetch_optional(e)
            .await
            .map(|_| ()))
        .map_err(classify)?;
        let sql = format!(
            "INSERT INTO materials ({cols}) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
             WHERE (SELECT COUNT(*) FROM materials WHERE application_id = $2) < $9 \
               AND EXISTS (SELECT 1 FROM applications WHERE id = $2 AND {editable}) \
             RETURNING {cols}",
            cols = MATERIAL_COLUMNS,
            editable = Transition::Edit.sql_from()
        );
        let row: Option<MaterialRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(m.id)
            .bind(m.application_id)
            .bind(&m.object_key)
            .bind(m.kind.as_str())
            .bind(m.size_bytes)
            .bind(&m.file_name)
            .bind(&m.sha256)
            .bind(m.created_at)
            .bind(max)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        tx.commit().await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn materials_of(&self, application_id: Uuid) -> StorageResult<Vec<Material>> {
        let sql = format!(
            "SELECT {} FROM materials WHERE application_id = $1 ORDER BY created_at",
            MATERIAL_COLUMNS
        );
        let rows: Vec<MaterialRow> = all_by(self, sql, application_id).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn material(&self, application_id: Uuid, id: Uuid) -> StorageResult<Material> {
        let sql = format!(
            "SELECT {} FROM materials WHERE id = $1 AND application_id = $2",
            MATERIAL_COLUMNS
        );
        let row: MaterialRow = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(application_id)
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        row.try_into()
    }

    async fn delete_material(
        &self,
        application_id: Uuid,
        id: Uuid,
    ) -> StorageResult<Option<Material>> {
        let sql = format!(
            "DELETE FROM materials WHERE id = $1 AND application_id = $2 \
             AND EXISTS (SELECT 1 FROM applications WHERE id = $2 AND {editable}) RETURNING {MATERIAL_COLUMNS}",
            editable = Transition::Edit.sql_from(),
        );
        let row: Option<MaterialRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(application_id)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        match row {
            Some(row) => row.try_into().map(Some),
            None => {
                // Tell a missing file from a locked application.
                self.material(application_id, id).await?;
                Ok(None)
            }
        }
    }
}

/// Binds the twelve fields of steps 1 and 2, in column order, after the statement's
/// leading values ($4..$15 of the insert, $3..$14 of the update), the personal ones sealed for
/// the row `id`.
fn bind_fields<'q, DB, O>(
    q: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>,
    f: &'q ApplicationFields,
    id: Uuid,
    keys: &DataKeys,
) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    q.bind(f.business_type.as_str())
        .bind(keys.seal(APPLICANT_NAME, id, &f.applicant_name))
        .bind(keys.seal(APPLICANT_ID_NUMBER, id, f.applicant_id_number.as_str()))
        .bind(f.applicant_sex.as_str())
        .bind(keys.seal(APPLICANT_PHONE, id, f.phone.as_str()))
        .bind(&f.district_code)
        .bind(&f.street_code)
        .bind(keys.seal(APPLICANT_ADDRESS, id, &f.address_detail))
        .bind(&f.community_code)
        .bind(f.service_point_id)
        .bind(keys.seal_opt(APPLICANT_EMPLOYER, id, f.employer.as_deref()))
        .bind(&f.condition)
}

/// Inserts a draft unless the account already holds applications for `max_people` other
/// people (`None`). The caller holds the account (`identity::service::hold_account`).
pub(crate) async fn insert_application(
    tx: &mut Tx,
    account_id: Uuid,
    number: &str,
    f: &ApplicationFields,
    max_people: i64,
    now: DateTime<Utc>,
) -> StorageResult<Option<Application>> {
    let keys = tx.keys().clone();
    let id = Uuid::new_v4();
    let index = keys.index(ID_NUMBER, f.applicant_id_number.as_str());
    let row: Option<ApplicationRow> = run!(tx, |e| bind_fields(
        sqlx::query_as(sqlx::AssertSqlSafe(INSERT_APPLICATION.as_str()))
            .bind(id)
            .bind(number)
            .bind(account_id),
        f,
        id,
        &keys,
    )
    .bind(now)
    .bind(max_people)
    .bind(&index)
    .fetch_optional(e)
    .await)
    .map_err(classify)?;
    row.map(|r| r.open(&keys)).transpose()
}

/// Rewrites steps 1 and 2 of an editable application of the account, within the five-people
/// rule; `None` when nothing matched (the caller tells which rule refused).
pub(crate) async fn update_fields(
    tx: &mut Tx,
    account_id: Uuid,
    id: Uuid,
    f: &ApplicationFields,
    max_people: i64,
    now: DateTime<Utc>,
) -> StorageResult<Option<Application>> {
    let keys = tx.keys().clone();
    let index = keys.index(ID_NUMBER, f.applicant_id_number.as_str());
    let row: Option<ApplicationRow> = run!(tx, |e| bind_fields(
        sqlx::query_as(sqlx::AssertSqlSafe(UPDATE_APPLICATION.as_str()))
            .bind(id)
            .bind(account_id),
        f,
        id,
        &keys,
    )
    .bind(now)
    .bind(max_people)
    .bind(&index)
    .fetch_optional(e)
    .await)
    .map_err(classify)?;
    row.map(|r| r.open(&keys)).transpose()
}

/// Moves the application as `transition` allows; `review`, when given, is the pre-review note
/// (and stamps the review time). `None` when the application is not there, not `owner`'s, or
/// the lifecycle forbids the move.
pub(crate) async fn transition(
    tx: &mut Tx,
    transition: Transition,
    id: Uuid,
    owner: Option<Uuid>,
    review: Option<Option<&str>>,
    now: DateTime<Utc>,
) -> StorageResult<Option<Application>> {
    let sql = format!(
        "UPDATE applications SET status = {next}, updated_at = $2, \
         ended_at = CASE WHEN {next} IN ({ended}) THEN $2 ELSE ended_at END, \
         review_note = CASE WHEN $5 THEN $4 ELSE review_note END, \
         reviewed_at = CASE WHEN $5 THEN $2 ELSE reviewed_at END \
         WHERE id = $1 AND account_id = COALESCE($3, account_id) AND {from} RETURNING {APPLICATION_COLUMNS}",
        next = transition.sql_next(),
        from = transition.sql_from(),
        ended = Status::sql_ended_list(),
    );
    let row: Option<ApplicationRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(now)
        .bind(owner)
        .bind(review.flatten())
        .bind(review.is_some())
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    row.map(|r| r.open(&tx.keys())).transpose()
}

/// The application as the transaction sees it.
pub(crate) async fn application_in(tx: &mut Tx, id: Uuid) -> StorageResult<Application> {
    let sql = format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1");
    let row: ApplicationRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(e)
        .await)
    .map_err(classify)?;
    row.open(&tx.keys())
}

/// The submitted application in progress that holds `id_number`, if any; on PostgreSQL it is
/// locked until the transaction ends.
pub(crate) async fn holder_of(tx: &mut Tx, id_number: &str) -> StorageResult<Option<Application>> {
    let sql = format!(
        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE applicant_id_index = $1 AND {}{}",
        Status::sql_holding(),
        tx.dialect().for_update
    );
    let index = tx.keys().index(ID_NUMBER, id_number);
    let row: Option<ApplicationRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(index)
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    row.map(|r| r.open(&tx.keys())).transpose()
}

/// Up to `limit` drafts started before `before`, oldest first; on PostgreSQL rows another job
/// runner holds are skipped.
pub(crate) async fn stale_drafts(
    tx: &mut Tx,
    before: DateTime<Utc>,
    limit: i64,
) -> StorageResult<Vec<Application>> {
    let sql = format!(
        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE id IN \
         (SELECT id FROM applications WHERE status = 'draft' AND created_at < $1 \
          ORDER BY created_at LIMIT $2{}) ORDER BY created_at",
        tx.dialect().skip_locked
    );
    let rows: Vec<ApplicationRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(limit)
        .fetch_all(e)
        .await)
    .map_err(classify)?;
    rows.into_iter().map(|r| r.open(&tx.keys())).collect()
}
