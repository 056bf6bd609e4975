//! Storage of the working-day calendar, capacity and appointments.
//!
//! A place is taken only by `UPDATE slots SET booked = booked + 1 WHERE booked < capacity`, so
//! no session is ever overbooked, whatever the number of instances; background jobs take rows
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::calendar::{CalendarDay, DayKind, Session};
use crate::casework::applications::model::{
    Application, Appointment, AppointmentStatus, Transition,
};
use crate::casework::store::move_application;
use crate::casework::store::{APPLICATION_COLUMNS, ApplicationRow};
use crate::notifications::model::NewNotification;
use crate::notifications::store::insert_notification;
use crate::platform::storage::Tx;
use crate::platform::storage::{Database, StorageError, StorageResult, classify, run};

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

pub(crate) const APPOINTMENT_COLUMNS: &str =
    "id, application_id, service_point_id, day, session, status, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AppointmentRow {
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
pub(crate) struct CalendarDayRow {
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
pub(crate) struct SlotRow {
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

/// The slot (service point, day, session) an appointment held.
#[derive(sqlx::FromRow)]
pub(crate) struct HeldSlot {
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: String,
}

/// The working-day calendar (State Council holidays and make-up working days).
#[async_trait]
pub trait CalendarStore: Send + Sync {
    // The working-day calendar.
    async fn calendar(&self) -> StorageResult<(Vec<i32>, Vec<CalendarDay>)>;
    /// Replaces every listed day of `year` and marks the year known.
    async fn replace_calendar_year(&self, year: i32, days: &[CalendarDay]) -> StorageResult<()>;
}

#[async_trait]
impl CalendarStore for Database {
    async fn calendar(&self) -> StorageResult<(Vec<i32>, Vec<CalendarDay>)> {
        let years: Vec<i32> = run!(self, |e| sqlx::query_scalar(
            "SELECT year FROM calendar_years ORDER BY year"
        )
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        let rows: Vec<CalendarDayRow> = run!(self, |e| sqlx::query_as(
            "SELECT day, kind, name FROM calendar_days ORDER BY day"
        )
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        let days = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<StorageResult<_>>()?;
        Ok((years, days))
    }

    async fn replace_calendar_year(&self, year: i32, days: &[CalendarDay]) -> StorageResult<()> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(StorageError::Rejected("year"))?;
        let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or(StorageError::Rejected("year"))?;
        let mut tx = self.begin().await?;
        run!(tx, |e| sqlx::query(
            "DELETE FROM calendar_days WHERE day >= $1 AND day <= $2"
        )
        .bind(first)
        .bind(last)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        for d in days {
            run!(tx, |e| sqlx::query(
                "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3)"
            )
            .bind(d.date)
            .bind(d.kind.as_str())
            .bind(&d.name)
            .execute(e)
            .await
            .map(|r| r.rows_affected()))
            .map_err(classify)?;
        }
        run!(tx, |e| sqlx::query(
            "INSERT INTO calendar_years (year, updated_at) VALUES ($1, $2) \
             ON CONFLICT (year) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(year)
        .bind(Utc::now())
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        tx.commit().await
    }
}

/// Places per session of a service point's day.
#[async_trait]
pub trait CapacityStore: Send + Sync {
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
}

#[async_trait]
impl CapacityStore for Database {
    async fn set_slot_capacity(
        &self,
        service_point_id: Uuid,
        day: NaiveDate,
        session: Session,
        capacity: Option<i32>,
    ) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (service_point_id, day, session) DO UPDATE SET capacity = excluded.capacity",
        )
        .bind(service_point_id)
        .bind(day)
        .bind(session.as_str())
        .bind(capacity)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }

    async fn slots(
        &self,
        service_point_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StorageResult<Vec<SlotUsage>> {
        let rows: Vec<SlotRow> = run!(self, |e| sqlx::query_as(
            "SELECT s.day, s.session, \
             COALESCE(s.capacity, CASE WHEN s.session = 'morning' THEN p.capacity_morning ELSE p.capacity_afternoon END) AS capacity, \
             s.booked FROM slots s JOIN service_points p ON p.id = s.service_point_id \
             WHERE s.service_point_id = $1 AND s.day >= $2 AND s.day <= $3 ORDER BY s.day, s.session",
        )
        .bind(service_point_id)
        .bind(from)
        .bind(to)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

/// Appointments: booking, cancelling, checking in, and the jobs that follow the day.
#[async_trait]
pub trait AppointmentStore: Send + Sync {
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
}

#[async_trait]
impl AppointmentStore for Database {
    async fn book(&self, b: &Booking) -> StorageResult<Appointment> {
        let mut tx = self.begin().await?;
        // Locks the application first, so two bookings for it run one after the other.
        // Moves (and so locks) the application first, so two bookings for it run one after the
        // other; a full session rolls the move back.
        if !move_application(
            &mut tx,
            Transition::Book,
            b.application_id,
            Some(b.account_id),
            b.now,
        )
        .await?
        {
            return Err(StorageError::Rejected("not_bookable"));
        }
        release_place(&mut tx, b.application_id, "cancelled", b.now).await?;
        run!(tx, |e| sqlx::query(
            "INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES ($1, $2, $3, NULL, 0) \
             ON CONFLICT (service_point_id, day, session) DO NOTHING",
        )
        .bind(b.service_point_id)
        .bind(b.day)
        .bind(b.session.as_str())
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        let taken = run!(tx, |e| sqlx::query(
            "UPDATE slots SET booked = booked + 1 WHERE service_point_id = $1 AND day = $2 AND session = $3 \
             AND booked < COALESCE(capacity, (SELECT CASE WHEN $3 = 'morning' THEN capacity_morning ELSE capacity_afternoon END \
                                              FROM service_points WHERE id = $1))",
        )
        .bind(b.service_point_id)
        .bind(b.day)
        .bind(b.session.as_str())
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        if taken == 0 {
            // Dropping the transaction rolls back: the old place stays taken.
            return Err(StorageError::Rejected("slot_full"));
        }
        let sql = format!(
            "INSERT INTO appointments (id, application_id, service_point_id, day, session, status, reminded, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'booked', $6, $7, $7) RETURNING {}",
            APPOINTMENT_COLUMNS
        );
        let row: AppointmentRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(Uuid::new_v4())
            .bind(b.application_id)
            .bind(b.service_point_id)
            .bind(b.day)
            .bind(b.session.as_str())
            .bind(false)
            .bind(b.now)
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        insert_notification(&mut tx, &b.notice, b.now).await?;
        tx.commit().await?;
        row.try_into()
    }

    async fn cancel_appointment(
        &self,
        account_id: Uuid,
        application_id: Uuid,
        now: DateTime<Utc>,
        notice: &NewNotification,
    ) -> StorageResult<Appointment> {
        let mut tx = self.begin().await?;
        let moved = move_application(
            &mut tx,
            Transition::CancelAppointment,
            application_id,
            Some(account_id),
            now,
        )
        .await?;
        if !moved {
            return Err(StorageError::Rejected("no_appointment"));
        }
        let sql = format!(
            "SELECT {} FROM appointments WHERE application_id = $1 AND status = 'booked'",
            APPOINTMENT_COLUMNS
        );
        let row: Option<AppointmentRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(application_id)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        let row = row.ok_or(StorageError::Rejected("no_appointment"))?;
        release_place(&mut tx, application_id, "cancelled", now).await?;
        insert_notification(&mut tx, notice, now).await?;
        tx.commit().await?;
        let mut appointment: Appointment = row.try_into()?;
        appointment.status = AppointmentStatus::Cancelled;
        Ok(appointment)
    }

    async fn appointment(&self, id: Uuid) -> StorageResult<Appointment> {
        let sql = format!(
            "SELECT {} FROM appointments WHERE id = $1",
            APPOINTMENT_COLUMNS
        );
        let row: AppointmentRow = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(e)
            .await)
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
            APPOINTMENT_COLUMNS
        );
        let rows: Vec<AppointmentRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(service_point_id)
            .bind(day)
            .fetch_all(e)
            .await)
        .map_err(classify)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn check_in(
        &self,
        appointment_id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<Appointment> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "UPDATE appointments SET status = 'checked_in', updated_at = $2 WHERE id = $1 AND status = 'booked' RETURNING {}",
            APPOINTMENT_COLUMNS
        );
        let row: Option<AppointmentRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(appointment_id)
            .bind(now)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        let row = row.ok_or(StorageError::Rejected("not_checkable"))?;
        if !move_application(&mut tx, Transition::CheckIn, row.application_id, None, now).await? {
            return Err(StorageError::Rejected("not_checkable"));
        }
        tx.commit().await?;
        row.try_into()
    }

    async fn current_appointment(
        &self,
        application_id: Uuid,
    ) -> StorageResult<Option<Appointment>> {
        let sql = format!(
            "SELECT {} FROM appointments WHERE application_id = $1 AND status IN ('booked', 'checked_in', 'no_show') \
             ORDER BY created_at DESC LIMIT 1",
            APPOINTMENT_COLUMNS
        );
        let row: Option<AppointmentRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(application_id)
            .fetch_optional(e)
            .await)
        .map_err(classify)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn mark_no_shows(
        &self,
        today: NaiveDate,
        limit: i64,
        now: DateTime<Utc>,
        notice: &NoticeFor<'_>,
    ) -> StorageResult<usize> {
        let mut tx = self.begin().await?;
        let pick = format!(
            "{}{}",
            "SELECT id FROM appointments WHERE status = 'booked' AND day < $1 ORDER BY day LIMIT $2",
            tx.dialect().skip_locked
        );
        let due = due_appointments(&mut tx, &pick, today, limit).await?;
        for d in &due {
            run!(tx, |e| sqlx::query("UPDATE appointments SET status = 'no_show', updated_at = $2 WHERE id = $1 AND status = 'booked'")
                .bind(d.appointment.id)
                .bind(now)
                .execute(e)
                .await
                .map(|r| r.rows_affected()))
                .map_err(classify)?;
            move_application(
                &mut tx,
                Transition::MissAppointment,
                d.application.id,
                None,
                now,
            )
            .await?;
            insert_notification(&mut tx, &notice(d), now).await?;
        }
        tx.commit().await?;
        Ok(due.len())
    }

    async fn queue_reminders(
        &self,
        day: NaiveDate,
        limit: i64,
        now: DateTime<Utc>,
        notice: &NoticeFor<'_>,
    ) -> StorageResult<usize> {
        let mut tx = self.begin().await?;
        let pick = format!(
            "{}{}",
            "SELECT id FROM appointments WHERE status = 'booked' AND day = $1 AND NOT reminded ORDER BY created_at LIMIT $2",
            tx.dialect().skip_locked
        );
        let due = due_appointments(&mut tx, &pick, day, limit).await?;
        for d in &due {
            run!(tx, |e| sqlx::query(
                "UPDATE appointments SET reminded = $2 WHERE id = $1"
            )
            .bind(d.appointment.id)
            .bind(true)
            .execute(e)
            .await
            .map(|r| r.rows_affected()))
            .map_err(classify)?;
            insert_notification(&mut tx, &notice(d), now).await?;
        }
        tx.commit().await?;
        Ok(due.len())
    }
}

/// Gives back the place the application holds, if any, marking its appointment
/// `status` (`cancelled` or `released`).
pub(crate) async fn release_place(
    tx: &mut Tx,
    application_id: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let held: Option<HeldSlot> = run!(tx, |e| sqlx::query_as(
        "UPDATE appointments SET status = $2, updated_at = $3 WHERE application_id = $1 AND status = 'booked' \
         RETURNING service_point_id, day, session",
    )
    .bind(application_id)
    .bind(status)
    .bind(now)
    .fetch_optional(e)
    .await)
    .map_err(classify)?;
    if let Some(h) = held {
        run!(tx, |e| sqlx::query(
            "UPDATE slots SET booked = booked - 1 WHERE service_point_id = $1 AND day = $2 AND session = $3 AND booked > 0",
        )
        .bind(h.service_point_id)
        .bind(h.day)
        .bind(h.session)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
    }
    Ok(())
}

/// The appointments `pick` selects (ids, locked), with their applications.
pub(crate) async fn due_appointments(
    tx: &mut Tx,
    pick: &str,
    day: NaiveDate,
    limit: i64,
) -> StorageResult<Vec<DueAppointment>> {
    let ids: Vec<Uuid> = run!(tx, |e| sqlx::query_scalar(sqlx::AssertSqlSafe(
        pick.to_string()
    ))
    .bind(day)
    .bind(limit)
    .fetch_all(e)
    .await)
    .map_err(classify)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let sql = format!(
            "SELECT {} FROM appointments WHERE id = $1",
            APPOINTMENT_COLUMNS
        );
        let appointment: AppointmentRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        let appointment: Appointment = appointment.try_into()?;
        let sql = format!(
            "SELECT {} FROM applications WHERE id = $1",
            APPLICATION_COLUMNS
        );
        let application: ApplicationRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(appointment.application_id)
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        out.push(DueAppointment {
            appointment,
            application: application.try_into()?,
        });
    }
    Ok(out)
}
