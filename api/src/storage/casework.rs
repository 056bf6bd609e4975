//! Storage for what residents do (DESIGN §4.2–4.3): residence registrations, applications,
//! proof files, the working-day calendar, capacity, appointments and the notification outbox.
//!
//! The rules that must hold under concurrency are written into the SQL, so they hold however
//! many permitd instances share the database:
//! - a place is taken only by `UPDATE slots SET booked = booked + 1 WHERE booked < capacity`;
//! - "at most 5 people per account" and "at most 10 files" are conditions of the INSERT itself,
//!   run after locking the account or application row (PostgreSQL) or inside an IMMEDIATE
//!   transaction (SQLite, one writer at a time);
//! - background jobs take rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{StorageError, StorageResult};
use crate::accounts::Sex;
use crate::applications::model::{
    Application, ApplicationFields, Appointment, AppointmentStatus, BusinessType, Decision,
    Material, Status,
};
use crate::calendar::{CalendarDay, DayKind, Opening, Session};
use crate::directory::ServicePoint;
use crate::materials::content::MaterialKind;
use crate::notifications::model::{NewNotification, Notification, PendingSms};
use crate::residence::model::{NewRegistration, ResidenceRegistration};

/// One booking request: take a place in `session` of `day` at `service_point_id` for the
/// application, giving back its current place if it has one.
#[derive(Debug, Clone)]
pub struct Booking {
    pub account_id: Uuid,
    pub application_id: Uuid,
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: Session,
    pub now: DateTime<Utc>,
    pub notice: NewNotification,
}

/// Places of one session of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotUsage {
    pub day: NaiveDate,
    pub session: Session,
    pub capacity: i32,
    pub booked: i32,
}

/// A booked appointment with what a notice about it needs.
#[derive(Debug, Clone)]
pub struct DueAppointment {
    pub appointment: Appointment,
    pub application: Application,
}

/// Composes the notice for one row a background job processes.
pub type NoticeFor<'a> = dyn Fn(&DueAppointment) -> NewNotification + Send + Sync + 'a;

#[async_trait]
pub trait CaseStore: Send + Sync {
    // Residence registrations.
    async fn create_registration(
        &self,
        r: &NewRegistration,
    ) -> StorageResult<ResidenceRegistration>;
    async fn registrations_of(&self, account_id: Uuid)
    -> StorageResult<Vec<ResidenceRegistration>>;

    // Applications.
    /// Fails with `Rejected("too_many_applicants")` when the account already holds
    /// applications for `max_people` other people.
    async fn create_application(
        &self,
        account_id: Uuid,
        number: &str,
        fields: &ApplicationFields,
        max_people: i64,
        now: DateTime<Utc>,
    ) -> StorageResult<Application>;
    /// Edits steps 1 and 2 while the application is a draft or returned.
    async fn update_application(
        &self,
        account_id: Uuid,
        id: Uuid,
        fields: &ApplicationFields,
        max_people: i64,
        now: DateTime<Utc>,
    ) -> StorageResult<Application>;
    async fn application(&self, id: Uuid) -> StorageResult<Application>;
    async fn applications_of(&self, account_id: Uuid) -> StorageResult<Vec<Application>>;
    /// A service point's applications past the draft stage, oldest submission first.
    async fn applications_at(
        &self,
        service_point_id: Uuid,
        status: Option<Status>,
    ) -> StorageResult<Vec<Application>>;
    /// 确认申报: needs a condition and at least one file.
    async fn submit_application(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Application>;
    /// 现场受理: a draft filed by a clerk at the counter is accepted at once (no appointment).
    async fn admit_walk_in(&self, id: Uuid, now: DateTime<Utc>) -> StorageResult<Application>;
    /// Withdraws the application and gives back its place, if any.
    async fn cancel_application(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Application>;
    /// Pre-review: pass keeps the appointment; return gives the place back.
    async fn review_application(
        &self,
        id: Uuid,
        decision: Decision,
        note: Option<&str>,
        now: DateTime<Utc>,
        notice: &NewNotification,
    ) -> StorageResult<Application>;

    // Proof files.
    async fn add_material(&self, m: &Material, max: i64) -> StorageResult<Material>;
    async fn materials_of(&self, application_id: Uuid) -> StorageResult<Vec<Material>>;
    async fn material(&self, application_id: Uuid, id: Uuid) -> StorageResult<Material>;
    /// Deletes a file of an application that can still be edited.
    async fn delete_material(&self, application_id: Uuid, id: Uuid) -> StorageResult<Material>;

    // The working-day calendar.
    async fn calendar(&self) -> StorageResult<(Vec<i32>, Vec<CalendarDay>)>;
    /// Replaces every listed day of `year` and marks the year known.
    async fn replace_calendar_year(&self, year: i32, days: &[CalendarDay]) -> StorageResult<()>;

    // Opening days and capacity.
    async fn set_opening(
        &self,
        service_point_id: Uuid,
        opening: &Opening,
        capacity_morning: i32,
        capacity_afternoon: i32,
    ) -> StorageResult<ServicePoint>;
    /// `None` goes back to the service point's default for the session.
    async fn set_slot_capacity(
        &self,
        service_point_id: Uuid,
        day: NaiveDate,
        session: Session,
        capacity: Option<i32>,
    ) -> StorageResult<()>;
    /// Only the sessions somebody booked or an administrator set have a row.
    async fn slots(
        &self,
        service_point_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StorageResult<Vec<SlotUsage>>;

    // Appointments.
    /// `Rejected("slot_full")` leaves everything as it was, the old place included.
    async fn book(&self, b: &Booking) -> StorageResult<Appointment>;
    async fn cancel_appointment(
        &self,
        account_id: Uuid,
        application_id: Uuid,
        now: DateTime<Utc>,
        notice: &NewNotification,
    ) -> StorageResult<Appointment>;
    async fn appointment(&self, id: Uuid) -> StorageResult<Appointment>;
    /// A service point's appointments of one day that hold a place or were attended.
    async fn appointments_on(
        &self,
        service_point_id: Uuid,
        day: NaiveDate,
    ) -> StorageResult<Vec<Appointment>>;
    /// 已受理: the booked appointment and its application are checked in.
    async fn check_in(
        &self,
        appointment_id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Appointment>;
    /// The application's appointment that still holds a place or was attended.
    async fn current_appointment(&self, application_id: Uuid)
    -> StorageResult<Option<Appointment>>;

    // Background jobs.
    /// Booked appointments of days before `today` become no-shows.
    async fn mark_no_shows(
        &self,
        today: NaiveDate,
        limit: i64,
        now: DateTime<Utc>,
        notice: &NoticeFor<'_>,
    ) -> StorageResult<usize>;
    /// One reminder for each booked appointment on `day`.
    async fn queue_reminders(
        &self,
        day: NaiveDate,
        limit: i64,
        now: DateTime<Utc>,
        notice: &NoticeFor<'_>,
    ) -> StorageResult<usize>;
    /// Claims SMS due by `now` until `lease_until`, so another dispatcher skips them.
    async fn claim_sms(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StorageResult<Vec<PendingSms>>;
    /// `retry_at` `None` ends the row: sent, or failed for good when `sent` is false.
    async fn finish_sms(
        &self,
        id: Uuid,
        sent: bool,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StorageResult<()>;

    // The in-app inbox.
    async fn notifications_of(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> StorageResult<Vec<Notification>>;
    async fn mark_notification_read(
        &self,
        account_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

pub(super) const APPLICATION_COLUMNS: &str = "id, number, account_id, business_type, applicant_name, applicant_id_number, applicant_sex, phone, district_code, street_code, address_detail, community_code, service_point_id, employer, condition, status, review_note, submitted_at, reviewed_at, created_at, updated_at";
pub(super) const REGISTRATION_COLUMNS: &str = "id, account_id, person_name, id_number, district_code, street_code, address_detail, community_code, moved_in_on, housing_type, registered_on, created_at";
pub(super) const MATERIAL_COLUMNS: &str =
    "id, application_id, object_key, kind, size_bytes, file_name, sha256, created_at";
pub(super) const APPOINTMENT_COLUMNS: &str =
    "id, application_id, service_point_id, day, session, status, created_at";
/// Statuses that count toward the five people of an account.
const HELD: &str = "status <> 'cancelled'";

pub(super) static INSERT_APPLICATION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO applications (id, number, account_id, business_type, applicant_name, applicant_id_number, applicant_sex, phone, \
         district_code, street_code, address_detail, community_code, service_point_id, employer, condition, status, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'draft', $16, $16 \
         WHERE EXISTS (SELECT 1 FROM applications WHERE account_id = $3 AND applicant_id_number = $6 AND {HELD}) \
            OR (SELECT COUNT(DISTINCT applicant_id_number) FROM applications WHERE account_id = $3 AND {HELD}) < $17 \
         RETURNING {APPLICATION_COLUMNS}"
    )
});
pub(super) static UPDATE_APPLICATION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE applications SET business_type = $3, applicant_name = $4, applicant_id_number = $5, applicant_sex = $6, phone = $7, \
         district_code = $8, street_code = $9, address_detail = $10, community_code = $11, service_point_id = $12, employer = $13, \
         condition = $14, updated_at = $15 \
         WHERE id = $1 AND account_id = $2 AND status IN ('draft', 'returned') \
           AND (EXISTS (SELECT 1 FROM applications o WHERE o.account_id = $2 AND o.applicant_id_number = $5 AND o.{HELD}) \
            OR (SELECT COUNT(DISTINCT o.applicant_id_number) FROM applications o WHERE o.account_id = $2 AND o.{HELD} AND o.id <> $1) < $16) \
         RETURNING {APPLICATION_COLUMNS}"
    )
});

#[derive(sqlx::FromRow)]
pub(super) struct ApplicationRow {
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

impl TryFrom<ApplicationRow> for Application {
    type Error = StorageError;
    fn try_from(r: ApplicationRow) -> StorageResult<Self> {
        Ok(Application {
            id: r.id,
            number: r.number,
            account_id: r.account_id,
            fields: ApplicationFields {
                business_type: BusinessType::parse(&r.business_type)
                    .ok_or(StorageError::Corrupt("application business type"))?,
                applicant_name: r.applicant_name,
                applicant_id_number: r.applicant_id_number,
                applicant_sex: Sex::parse(&r.applicant_sex)
                    .ok_or(StorageError::Corrupt("applicant sex"))?,
                phone: r.phone,
                district_code: r.district_code,
                street_code: r.street_code,
                address_detail: r.address_detail,
                community_code: r.community_code,
                service_point_id: r.service_point_id,
                employer: r.employer,
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
pub(super) struct RegistrationRow {
    id: Uuid,
    account_id: Uuid,
    person_name: String,
    id_number: String,
    district_code: String,
    street_code: String,
    address_detail: String,
    community_code: String,
    moved_in_on: NaiveDate,
    housing_type: String,
    registered_on: NaiveDate,
    created_at: DateTime<Utc>,
}

impl From<RegistrationRow> for ResidenceRegistration {
    fn from(r: RegistrationRow) -> Self {
        ResidenceRegistration {
            id: r.id,
            fields: NewRegistration {
                account_id: r.account_id,
                person_name: r.person_name,
                id_number: r.id_number,
                district_code: r.district_code,
                street_code: r.street_code,
                address_detail: r.address_detail,
                community_code: r.community_code,
                moved_in_on: r.moved_in_on,
                housing_type: r.housing_type,
                registered_on: r.registered_on,
            },
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MaterialRow {
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

#[derive(sqlx::FromRow)]
pub(super) struct AppointmentRow {
    id: Uuid,
    pub application_id: Uuid,
    service_point_id: Uuid,
    day: NaiveDate,
    session: String,
    status: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<AppointmentRow> for Appointment {
    type Error = StorageError;
    fn try_from(r: AppointmentRow) -> StorageResult<Self> {
        Ok(Appointment {
            id: r.id,
            application_id: r.application_id,
            service_point_id: r.service_point_id,
            day: r.day,
            session: Session::parse(&r.session)
                .ok_or(StorageError::Corrupt("appointment session"))?,
            status: AppointmentStatus::parse(&r.status)
                .ok_or(StorageError::Corrupt("appointment status"))?,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CalendarDayRow {
    day: NaiveDate,
    kind: String,
    name: String,
}

impl TryFrom<CalendarDayRow> for CalendarDay {
    type Error = StorageError;
    fn try_from(r: CalendarDayRow) -> StorageResult<Self> {
        Ok(CalendarDay {
            date: r.day,
            kind: DayKind::parse(&r.kind).ok_or(StorageError::Corrupt("calendar day kind"))?,
            name: r.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SlotRow {
    day: NaiveDate,
    session: String,
    capacity: i32,
    booked: i32,
}

impl TryFrom<SlotRow> for SlotUsage {
    type Error = StorageError;
    fn try_from(r: SlotRow) -> StorageResult<Self> {
        Ok(SlotUsage {
            day: r.day,
            session: Session::parse(&r.session).ok_or(StorageError::Corrupt("slot session"))?,
            capacity: r.capacity,
            booked: r.booked,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: Uuid,
    kind: String,
    title: String,
    body: String,
    application_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRow> for Notification {
    fn from(r: NotificationRow) -> Self {
        Notification {
            id: r.id,
            kind: r.kind,
            title: r.title,
            body: r.body,
            application_id: r.application_id,
            created_at: r.created_at,
            read_at: r.read_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PendingSmsRow {
    id: Uuid,
    sms_phone: Option<String>,
    body: String,
    sms_attempts: i32,
}

impl From<PendingSmsRow> for PendingSms {
    fn from(r: PendingSmsRow) -> Self {
        PendingSms {
            id: r.id,
            phone: r.sms_phone.unwrap_or_default(),
            body: r.body,
            attempts: r.sms_attempts,
        }
    }
}

/// The slot (service point, day, session) an appointment held.
#[derive(sqlx::FromRow)]
pub(super) struct HeldSlot {
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: String,
}

/// Expands to `impl CaseStore for $ty`. `$db` is the sqlx database, `$begin` the statement that
/// opens a write transaction, `$for_update` the row-lock suffix and `$skip_locked` the suffix
/// that lets several job runners share the work (both empty on SQLite, whose IMMEDIATE
/// transactions already run one writer at a time).
macro_rules! case_queries {
    ($ty:ty, $db:ty, $pool:ident, $begin:literal, $for_update:literal, $skip_locked:literal) => {
        #[async_trait::async_trait]
        impl CaseStore for $ty {
            async fn create_registration(
                &self,
                r: &NewRegistration,
            ) -> StorageResult<ResidenceRegistration> {
                let sql = format!(
                    "INSERT INTO residence_registrations ({cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {cols}",
                    cols = casework::REGISTRATION_COLUMNS
                );
                let row: casework::RegistrationRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(Uuid::new_v4())
                    .bind(r.account_id)
                    .bind(&r.person_name)
                    .bind(&r.id_number)
                    .bind(&r.district_code)
                    .bind(&r.street_code)
                    .bind(&r.address_detail)
                    .bind(&r.community_code)
                    .bind(r.moved_in_on)
                    .bind(&r.housing_type)
                    .bind(r.registered_on)
                    .bind(Utc::now())
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                Ok(row.into())
            }

            async fn registrations_of(
                &self,
                account_id: Uuid,
            ) -> StorageResult<Vec<ResidenceRegistration>> {
                let sql = format!(
                    "SELECT {} FROM residence_registrations WHERE account_id = $1 ORDER BY registered_on, created_at",
                    casework::REGISTRATION_COLUMNS
                );
                let rows: Vec<casework::RegistrationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(account_id)
                    .fetch_all(&self.$pool)
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn create_application(
                &self,
                account_id: Uuid,
                number: &str,
                f: &ApplicationFields,
                max_people: i64,
                now: DateTime<Utc>,
            ) -> StorageResult<Application> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                Self::lock_account(&mut tx, account_id).await?;
                let row: Option<casework::ApplicationRow> = Self::bind_fields(
                    sqlx::query_as(sqlx::AssertSqlSafe(casework::INSERT_APPLICATION.as_str()))
                        .bind(Uuid::new_v4())
                        .bind(number)
                        .bind(account_id),
                    f,
                )
                .bind(now)
                .bind(max_people)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                let row = row.ok_or(StorageError::Rejected("too_many_applicants"))?;
                tx.commit().await.map_err(classify)?;
                row.try_into()
            }

            async fn update_application(
                &self,
                account_id: Uuid,
                id: Uuid,
                f: &ApplicationFields,
                max_people: i64,
                now: DateTime<Utc>,
            ) -> StorageResult<Application> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                Self::lock_account(&mut tx, account_id).await?;
                let row: Option<casework::ApplicationRow> = Self::bind_fields(
                    sqlx::query_as(sqlx::AssertSqlSafe(casework::UPDATE_APPLICATION.as_str()))
                        .bind(id)
                        .bind(account_id),
                    f,
                )
                .bind(now)
                .bind(max_people)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                match row {
                    Some(row) => {
                        tx.commit().await.map_err(classify)?;
                        row.try_into()
                    }
                    None => {
                        drop(tx);
                        let current = self.application(id).await?;
                        if current.account_id != account_id {
                            Err(StorageError::NotFound)
                        } else if !current.status.is_editable() {
                            Err(StorageError::Rejected("not_editable"))
                        } else {
                            Err(StorageError::Rejected("too_many_applicants"))
                        }
                    }
                }
            }

            async fn application(&self, id: Uuid) -> StorageResult<Application> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE id = $1",
                    casework::APPLICATION_COLUMNS
                );
                let row: casework::ApplicationRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.try_into()
            }

            async fn applications_of(&self, account_id: Uuid) -> StorageResult<Vec<Application>> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE account_id = $1 ORDER BY created_at DESC",
                    casework::APPLICATION_COLUMNS
                );
                let rows: Vec<casework::ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(account_id)
                    .fetch_all(&self.$pool)
                    .await
                    .map_err(classify)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn applications_at(
                &self,
                service_point_id: Uuid,
                status: Option<Status>,
            ) -> StorageResult<Vec<Application>> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE service_point_id = $1 AND status <> 'draft' \
                     AND ($2 = '' OR status = $2) ORDER BY submitted_at, created_at",
                    casework::APPLICATION_COLUMNS
                );
                let rows: Vec<casework::ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(service_point_id)
                    .bind(status.map(Status::as_str).unwrap_or_default())
                    .fetch_all(&self.$pool)
                    .await
                    .map_err(classify)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn submit_application(
                &self,
                account_id: Uuid,
                id: Uuid,
                now: DateTime<Utc>,
            ) -> StorageResult<Application> {
                let sql = format!(
                    "UPDATE applications SET status = 'submitted', submitted_at = $3, updated_at = $3 \
                     WHERE id = $1 AND account_id = $2 AND status IN ('draft', 'returned') AND condition IS NOT NULL \
                       AND EXISTS (SELECT 1 FROM materials WHERE application_id = $1) RETURNING {}",
                    casework::APPLICATION_COLUMNS
                );
                let row: Option<casework::ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(account_id)
                    .bind(now)
                    .fetch_optional(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.ok_or(StorageError::Rejected("not_submittable"))?.try_into()
            }

            async fn admit_walk_in(&self, id: Uuid, now: DateTime<Utc>) -> StorageResult<Application> {
                let sql = format!(
                    "UPDATE applications SET status = 'checked_in', submitted_at = $2, reviewed_at = $2, updated_at = $2 \
                     WHERE id = $1 AND status = 'draft' RETURNING {}",
                    casework::APPLICATION_COLUMNS
                );
                let row: Option<casework::ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(now)
                    .fetch_optional(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.ok_or(StorageError::Rejected("not_submittable"))?.try_into()
            }

            async fn cancel_application(
                &self,
                account_id: Uuid,
                id: Uuid,
                now: DateTime<Utc>,
            ) -> StorageResult<Application> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let sql = format!(
                    "UPDATE applications SET status = 'cancelled', updated_at = $3 WHERE id = $1 AND account_id = $2 \
                     AND status IN ('draft', 'submitted', 'booked', 'passed', 'returned') RETURNING {}",
                    casework::APPLICATION_COLUMNS
                );
                let row: Option<casework::ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(account_id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                let row = row.ok_or(StorageError::Rejected("not_cancellable"))?;
                Self::release_place(&mut tx, id, "cancelled", now).await?;
                tx.commit().await.map_err(classify)?;
                row.try_into()
            }

            async fn review_application(
                &self,
                id: Uuid,
                decision: Decision,
                note: Option<&str>,
                now: DateTime<Utc>,
                notice: &NewNotification,
            ) -> StorageResult<Application> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let (to, from) = match decision {
                    Decision::Pass => ("passed", "status = 'booked'"),
                    Decision::Return => ("returned", "status IN ('submitted', 'booked')"),
                };
                let sql = format!(
                    "UPDATE applications SET status = $2, review_note = $3, reviewed_at = $4, updated_at = $4 \
                     WHERE id = $1 AND {from} RETURNING {}",
                    casework::APPLICATION_COLUMNS
                );
                let row: Option<casework::ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(to)
                    .bind(note)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                let row = row.ok_or(StorageError::Rejected("not_reviewable"))?;
                if decision == Decision::Return {
                    Self::release_place(&mut tx, id, "released", now).await?;
                }
                Self::insert_notification(&mut tx, notice, now).await?;
                tx.commit().await.map_err(classify)?;
                row.try_into()
            }

            async fn add_material(&self, m: &Material, max: i64) -> StorageResult<Material> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                sqlx::query(concat!("SELECT id FROM applications WHERE id = $1", $for_update))
                    .bind(m.application_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                let sql = format!(
                    "INSERT INTO materials ({cols}) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                     WHERE (SELECT COUNT(*) FROM materials WHERE application_id = $2) < $9 \
                       AND EXISTS (SELECT 1 FROM applications WHERE id = $2 AND status IN ('draft', 'returned')) \
                     RETURNING {cols}",
                    cols = casework::MATERIAL_COLUMNS
                );
                let row: Option<casework::MaterialRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(m.id)
                    .bind(m.application_id)
                    .bind(&m.object_key)
                    .bind(m.kind.as_str())
                    .bind(m.size_bytes)
                    .bind(&m.file_name)
                    .bind(&m.sha256)
                    .bind(m.created_at)
                    .bind(max)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                let row = row.ok_or(StorageError::Rejected("materials_not_accepted"))?;
                tx.commit().await.map_err(classify)?;
                row.try_into()
            }

            async fn materials_of(&self, application_id: Uuid) -> StorageResult<Vec<Material>> {
                let sql = format!(
                    "SELECT {} FROM materials WHERE application_id = $1 ORDER BY created_at",
                    casework::MATERIAL_COLUMNS
                );
                let rows: Vec<casework::MaterialRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(application_id)
                    .fetch_all(&self.$pool)
                    .await
                    .map_err(classify)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn material(&self, application_id: Uuid, id: Uuid) -> StorageResult<Material> {
                let sql = format!(
                    "SELECT {} FROM materials WHERE id = $1 AND application_id = $2",
                    casework::MATERIAL_COLUMNS
                );
                let row: casework::MaterialRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(application_id)
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.try_into()
            }

            async fn delete_material(&self, application_id: Uuid, id: Uuid) -> StorageResult<Material> {
                let sql = format!(
                    "DELETE FROM materials WHERE id = $1 AND application_id = $2 \
                     AND EXISTS (SELECT 1 FROM applications WHERE id = $2 AND status IN ('draft', 'returned')) RETURNING {}",
                    casework::MATERIAL_COLUMNS
                );
                let row: Option<casework::MaterialRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .bind(application_id)
                    .fetch_optional(&self.$pool)
                    .await
                    .map_err(classify)?;
                match row {
                    Some(row) => row.try_into(),
                    None => {
                        // Tell a missing file from a locked application.
                        self.material(application_id, id).await?;
                        Err(StorageError::Rejected("not_editable"))
                    }
                }
            }

            async fn calendar(&self) -> StorageResult<(Vec<i32>, Vec<CalendarDay>)> {
                let years: Vec<i32> = sqlx::query_scalar("SELECT year FROM calendar_years ORDER BY year")
                    .fetch_all(&self.$pool)
                    .await
                    .map_err(classify)?;
                let rows: Vec<casework::CalendarDayRow> =
                    sqlx::query_as("SELECT day, kind, name FROM calendar_days ORDER BY day")
                        .fetch_all(&self.$pool)
                        .await
                        .map_err(classify)?;
                let days = rows.into_iter().map(TryInto::try_into).collect::<StorageResult<_>>()?;
                Ok((years, days))
            }

            async fn replace_calendar_year(&self, year: i32, days: &[CalendarDay]) -> StorageResult<()> {
                let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(StorageError::Rejected("year"))?;
                let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or(StorageError::Rejected("year"))?;
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                sqlx::query("DELETE FROM calendar_days WHERE day >= $1 AND day <= $2")
                    .bind(first)
                    .bind(last)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                for d in days {
                    sqlx::query("INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3)")
                        .bind(d.date)
                        .bind(d.kind.as_str())
                        .bind(&d.name)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                sqlx::query(
                    "INSERT INTO calendar_years (year, updated_at) VALUES ($1, $2) \
                     ON CONFLICT (year) DO UPDATE SET updated_at = excluded.updated_at",
                )
                .bind(year)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                tx.commit().await.map_err(classify)
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
                    shared::SERVICE_POINT_COLUMNS
                );
                let row: shared::ServicePointRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(service_point_id)
                    .bind(weekdays)
                    .bind(sessions)
                    .bind(capacity_morning)
                    .bind(capacity_afternoon)
                    .bind(opening.opens_on(chrono::Weekday::Sat))
                    .bind(Utc::now())
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.try_into()
            }

            async fn set_slot_capacity(
                &self,
                service_point_id: Uuid,
                day: NaiveDate,
                session: Session,
                capacity: Option<i32>,
            ) -> StorageResult<()> {
                sqlx::query(
                    "INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES ($1, $2, $3, $4, 0) \
                     ON CONFLICT (service_point_id, day, session) DO UPDATE SET capacity = excluded.capacity",
                )
                .bind(service_point_id)
                .bind(day)
                .bind(session.as_str())
                .bind(capacity)
                .execute(&self.$pool)
                .await
                .map_err(classify)
                .map(|_| ())
            }

            async fn slots(
                &self,
                service_point_id: Uuid,
                from: NaiveDate,
                to: NaiveDate,
            ) -> StorageResult<Vec<SlotUsage>> {
                let rows: Vec<casework::SlotRow> = sqlx::query_as(
                    "SELECT s.day, s.session, \
                     COALESCE(s.capacity, CASE WHEN s.session = 'morning' THEN p.capacity_morning ELSE p.capacity_afternoon END) AS capacity, \
                     s.booked FROM slots s JOIN service_points p ON p.id = s.service_point_id \
                     WHERE s.service_point_id = $1 AND s.day >= $2 AND s.day <= $3 ORDER BY s.day, s.session",
                )
                .bind(service_point_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.$pool)
                .await
                .map_err(classify)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn book(&self, b: &Booking) -> StorageResult<Appointment> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                // Locks the application first, so two bookings for it run one after the other.
                let status: Option<String> = sqlx::query_scalar(
                    "UPDATE applications SET updated_at = $3 WHERE id = $1 AND account_id = $2 \
                     AND status IN ('submitted', 'booked', 'passed') RETURNING status",
                )
                .bind(b.application_id)
                .bind(b.account_id)
                .bind(b.now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                if status.is_none() {
                    return Err(StorageError::Rejected("not_bookable"));
                }
                Self::release_place(&mut tx, b.application_id, "cancelled", b.now).await?;
                sqlx::query(
                    "INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES ($1, $2, $3, NULL, 0) \
                     ON CONFLICT (service_point_id, day, session) DO NOTHING",
                )
                .bind(b.service_point_id)
                .bind(b.day)
                .bind(b.session.as_str())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                let taken = sqlx::query(
                    "UPDATE slots SET booked = booked + 1 WHERE service_point_id = $1 AND day = $2 AND session = $3 \
                     AND booked < COALESCE(capacity, (SELECT CASE WHEN $3 = 'morning' THEN capacity_morning ELSE capacity_afternoon END \
                                                      FROM service_points WHERE id = $1))",
                )
                .bind(b.service_point_id)
                .bind(b.day)
                .bind(b.session.as_str())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                if taken.rows_affected() == 0 {
                    // Dropping the transaction rolls back: the old place stays taken.
                    return Err(StorageError::Rejected("slot_full"));
                }
                let sql = format!(
                    "INSERT INTO appointments (id, application_id, service_point_id, day, session, status, reminded, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'booked', $6, $7, $7) RETURNING {}",
                    casework::APPOINTMENT_COLUMNS
                );
                let row: casework::AppointmentRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(Uuid::new_v4())
                    .bind(b.application_id)
                    .bind(b.service_point_id)
                    .bind(b.day)
                    .bind(b.session.as_str())
                    .bind(false)
                    .bind(b.now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                sqlx::query(
                    "UPDATE applications SET status = 'booked' WHERE id = $1 AND status = 'submitted'",
                )
                .bind(b.application_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                Self::insert_notification(&mut tx, &b.notice, b.now).await?;
                tx.commit().await.map_err(classify)?;
                row.try_into()
            }

            async fn cancel_appointment(
                &self,
                account_id: Uuid,
                application_id: Uuid,
                now: DateTime<Utc>,
                notice: &NewNotification,
            ) -> StorageResult<Appointment> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let status: Option<String> = sqlx::query_scalar(
                    "UPDATE applications SET updated_at = $3, status = CASE WHEN status = 'booked' THEN 'submitted' ELSE status END \
                     WHERE id = $1 AND account_id = $2 AND status IN ('booked', 'passed') RETURNING status",
                )
                .bind(application_id)
                .bind(account_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                if status.is_none() {
                    return Err(StorageError::Rejected("no_appointment"));
                }
                let sql = format!(
                    "SELECT {} FROM appointments WHERE application_id = $1 AND status = 'booked'",
                    casework::APPOINTMENT_COLUMNS
                );
                let row: Option<casework::AppointmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(application_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                let row = row.ok_or(StorageError::Rejected("no_appointment"))?;
                Self::release_place(&mut tx, application_id, "cancelled", now).await?;
                Self::insert_notification(&mut tx, notice, now).await?;
                tx.commit().await.map_err(classify)?;
                let mut appointment: Appointment = row.try_into()?;
                appointment.status = AppointmentStatus::Cancelled;
                Ok(appointment)
            }

            async fn appointment(&self, id: Uuid) -> StorageResult<Appointment> {
                let sql = format!("SELECT {} FROM appointments WHERE id = $1", casework::APPOINTMENT_COLUMNS);
                let row: casework::AppointmentRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_one(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.try_into()
            }

            async fn appointments_on(
                &self,
                service_point_id: Uuid,
                day: NaiveDate,
            ) -> StorageResult<Vec<Appointment>> {
                let sql = format!(
                    "SELECT {} FROM appointments WHERE service_point_id = $1 AND day = $2 \
                     AND status IN ('booked', 'checked_in', 'no_show') ORDER BY session, created_at",
                    casework::APPOINTMENT_COLUMNS
                );
                let rows: Vec<casework::AppointmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(service_point_id)
                    .bind(day)
                    .fetch_all(&self.$pool)
                    .await
                    .map_err(classify)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn check_in(&self, appointment_id: Uuid, now: DateTime<Utc>) -> StorageResult<Appointment> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let sql = format!(
                    "UPDATE appointments SET status = 'checked_in', updated_at = $2 WHERE id = $1 AND status = 'booked' RETURNING {}",
                    casework::APPOINTMENT_COLUMNS
                );
                let row: Option<casework::AppointmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(appointment_id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                let row = row.ok_or(StorageError::Rejected("not_checkable"))?;
                let moved = sqlx::query(
                    "UPDATE applications SET status = 'checked_in', updated_at = $2 WHERE id = $1 AND status IN ('booked', 'passed')",
                )
                .bind(row.application_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                if moved.rows_affected() == 0 {
                    return Err(StorageError::Rejected("not_checkable"));
                }
                tx.commit().await.map_err(classify)?;
                row.try_into()
            }

            async fn current_appointment(
                &self,
                application_id: Uuid,
            ) -> StorageResult<Option<Appointment>> {
                let sql = format!(
                    "SELECT {} FROM appointments WHERE application_id = $1 AND status IN ('booked', 'checked_in', 'no_show') \
                     ORDER BY created_at DESC LIMIT 1",
                    casework::APPOINTMENT_COLUMNS
                );
                let row: Option<casework::AppointmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(application_id)
                    .fetch_optional(&self.$pool)
                    .await
                    .map_err(classify)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn mark_no_shows(
                &self,
                today: NaiveDate,
                limit: i64,
                now: DateTime<Utc>,
                notice: &casework::NoticeFor<'_>,
            ) -> StorageResult<usize> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let due = Self::due_appointments(
                    &mut tx,
                    concat!(
                        "SELECT id FROM appointments WHERE status = 'booked' AND day < $1 ORDER BY day LIMIT $2",
                        $skip_locked
                    ),
                    today,
                    limit,
                )
                .await?;
                for d in &due {
                    sqlx::query("UPDATE appointments SET status = 'no_show', updated_at = $2 WHERE id = $1 AND status = 'booked'")
                        .bind(d.appointment.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    sqlx::query(
                        "UPDATE applications SET status = 'no_show', updated_at = $2 WHERE id = $1 AND status IN ('booked', 'passed')",
                    )
                    .bind(d.application.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::insert_notification(&mut tx, &notice(d), now).await?;
                }
                tx.commit().await.map_err(classify)?;
                Ok(due.len())
            }

            async fn queue_reminders(
                &self,
                day: NaiveDate,
                limit: i64,
                now: DateTime<Utc>,
                notice: &casework::NoticeFor<'_>,
            ) -> StorageResult<usize> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let due = Self::due_appointments(
                    &mut tx,
                    concat!(
                        "SELECT id FROM appointments WHERE status = 'booked' AND day = $1 AND NOT reminded ORDER BY created_at LIMIT $2",
                        $skip_locked
                    ),
                    day,
                    limit,
                )
                .await?;
                for d in &due {
                    sqlx::query("UPDATE appointments SET reminded = $2 WHERE id = $1")
                        .bind(d.appointment.id)
                        .bind(true)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    Self::insert_notification(&mut tx, &notice(d), now).await?;
                }
                tx.commit().await.map_err(classify)?;
                Ok(due.len())
            }

            async fn claim_sms(
                &self,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                limit: i64,
            ) -> StorageResult<Vec<PendingSms>> {
                let mut tx = self.$pool.begin_with($begin).await.map_err(classify)?;
                let rows: Vec<casework::PendingSmsRow> = sqlx::query_as(concat!(
                    "UPDATE notifications SET sms_next_at = $2, sms_attempts = sms_attempts + 1 WHERE id IN (",
                    "SELECT id FROM notifications WHERE sms_state = 'pending' AND sms_next_at <= $1 ORDER BY sms_next_at LIMIT $3",
                    $skip_locked,
                    ") RETURNING id, sms_phone, body, sms_attempts"
                ))
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
                tx.commit().await.map_err(classify)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn finish_sms(
                &self,
                id: Uuid,
                sent: bool,
                now: DateTime<Utc>,
                retry_at: Option<DateTime<Utc>>,
            ) -> StorageResult<()> {
                let state = match (sent, retry_at) {
                    (true, _) => "sent",
                    (false, Some(_)) => "pending",
                    (false, None) => "failed",
                };
                let done = sqlx::query(
                    "UPDATE notifications SET sms_state = $2, sms_sent_at = $3, sms_next_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(state)
                .bind(sent.then_some(now))
                .bind(retry_at)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
                shared::found(done.rows_affected())
            }

            async fn notifications_of(
                &self,
                account_id: Uuid,
                limit: i64,
            ) -> StorageResult<Vec<Notification>> {
                let rows: Vec<casework::NotificationRow> = sqlx::query_as(
                    "SELECT id, kind, title, body, application_id, created_at, read_at FROM notifications \
                     WHERE account_id = $1 ORDER BY created_at DESC LIMIT $2",
                )
                .bind(account_id)
                .bind(limit)
                .fetch_all(&self.$pool)
                .await
                .map_err(classify)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn mark_notification_read(
                &self,
                account_id: Uuid,
                id: Uuid,
                now: DateTime<Utc>,
            ) -> StorageResult<()> {
                let done = sqlx::query(
                    "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND account_id = $2",
                )
                .bind(id)
                .bind(account_id)
                .bind(now)
                .execute(&self.$pool)
                .await
                .map_err(classify)?;
                shared::found(done.rows_affected())
            }
        }

        impl $ty {
            /// Serialises changes to one account's applications (the five-people rule).
            async fn lock_account(
                tx: &mut sqlx::Transaction<'static, $db>,
                account_id: Uuid,
            ) -> StorageResult<()> {
                sqlx::query(concat!("SELECT id FROM accounts WHERE id = $1", $for_update))
                    .bind(account_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(classify)
                    .map(|_| ())
            }

            /// Binds the twelve fields of steps 1 and 2, in column order, after the statement's
            /// leading values ($4..$15 of the insert, $3..$14 of the update).
            fn bind_fields<'q, O>(
                q: sqlx::query::QueryAs<'q, $db, O, <$db as sqlx::Database>::Arguments>,
                f: &'q ApplicationFields,
            ) -> sqlx::query::QueryAs<'q, $db, O, <$db as sqlx::Database>::Arguments> {
                q.bind(f.business_type.as_str())
                    .bind(&f.applicant_name)
                    .bind(&f.applicant_id_number)
                    .bind(f.applicant_sex.as_str())
                    .bind(&f.phone)
                    .bind(&f.district_code)
                    .bind(&f.street_code)
                    .bind(&f.address_detail)
                    .bind(&f.community_code)
                    .bind(f.service_point_id)
                    .bind(&f.employer)
                    .bind(&f.condition)
            }

            /// Gives back the place the application holds, if any, marking its appointment
            /// `status` (`cancelled` or `released`).
            async fn release_place(
                tx: &mut sqlx::Transaction<'static, $db>,
                application_id: Uuid,
                status: &str,
                now: DateTime<Utc>,
            ) -> StorageResult<()> {
                let held: Option<casework::HeldSlot> = sqlx::query_as(
                    "UPDATE appointments SET status = $2, updated_at = $3 WHERE application_id = $1 AND status = 'booked' \
                     RETURNING service_point_id, day, session",
                )
                .bind(application_id)
                .bind(status)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await
                .map_err(classify)?;
                if let Some(h) = held {
                    sqlx::query(
                        "UPDATE slots SET booked = booked - 1 WHERE service_point_id = $1 AND day = $2 AND session = $3 AND booked > 0",
                    )
                    .bind(h.service_point_id)
                    .bind(h.day)
                    .bind(h.session)
                    .execute(&mut **tx)
                    .await
                    .map_err(classify)?;
                }
                Ok(())
            }

            async fn insert_notification(
                tx: &mut sqlx::Transaction<'static, $db>,
                n: &NewNotification,
                now: DateTime<Utc>,
            ) -> StorageResult<()> {
                sqlx::query(
                    "INSERT INTO notifications (id, account_id, kind, title, body, application_id, created_at, sms_phone, sms_state, sms_next_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(Uuid::new_v4())
                .bind(n.account_id)
                .bind(n.kind)
                .bind(&n.title)
                .bind(&n.body)
                .bind(n.application_id)
                .bind(now)
                .bind(&n.sms_phone)
                .bind(if n.sms_phone.is_some() { "pending" } else { "none" })
                .bind(n.sms_phone.as_ref().map(|_| now))
                .execute(&mut **tx)
                .await
                .map_err(classify)
                .map(|_| ())
            }

            /// The appointments `pick` selects (ids, locked), with their applications.
            async fn due_appointments(
                tx: &mut sqlx::Transaction<'static, $db>,
                pick: &'static str,
                day: NaiveDate,
                limit: i64,
            ) -> StorageResult<Vec<casework::DueAppointment>> {
                let ids: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(pick))
                    .bind(day)
                    .bind(limit)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(classify)?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let sql = format!(
                        "SELECT {} FROM appointments WHERE id = $1",
                        casework::APPOINTMENT_COLUMNS
                    );
                    let appointment: casework::AppointmentRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(classify)?;
                    let appointment: Appointment = appointment.try_into()?;
                    let sql = format!(
                        "SELECT {} FROM applications WHERE id = $1",
                        casework::APPLICATION_COLUMNS
                    );
                    let application: casework::ApplicationRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(appointment.application_id)
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(classify)?;
                    out.push(casework::DueAppointment {
                        appointment,
                        application: application.try_into()?,
                    });
                }
                Ok(out)
            }
        }
    };
}

pub(super) use case_queries;
