//! Storage of the working-day calendar, capacity and appointments.
//!
//! A place is taken only by `UPDATE slots SET booked = booked + 1 WHERE booked < capacity`, so
//! no session is ever overbooked, whatever the number of instances; background jobs take rows
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

mod calendar;

pub use calendar::{CalendarCache, CalendarStore};
pub(crate) use calendar::{calendar_year_count_in, replace_calendar_year_in};

use super::calendar::Session;
use super::model::{Booking, SlotUsage};
use crate::casework::applications::model::{Appointment, AppointmentStatus};
use crate::platform::page::Cursor;
use crate::platform::storage::{Database, StorageError, StorageResult, Tx, classify, one_by, run};

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

/// Appointments as they are read. What changes them is a use case of `booking::service`, which
/// owns the transaction and calls the fragments below.
#[async_trait]
pub trait AppointmentStore: Send + Sync {
    async fn appointment(&self, id: Uuid) -> StorageResult<Appointment>;
    /// A service point's appointments of one day that hold a place or were attended.
    /// A service point's appointments of a day, morning first, then by booking time (equal
    /// times by id), after the appointment `after` (its session from its row), `limit` at most.
    async fn appointments_on(
        &self,
        service_point_id: Uuid,
        day: NaiveDate,
        after: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<Appointment>>;
    /// The application's appointment that still holds a place or was attended.
    async fn current_appointment(&self, application_id: Uuid)
    -> StorageResult<Option<Appointment>>;
}

#[async_trait]
impl AppointmentStore for Database {
    async fn appointment(&self, id: Uuid) -> StorageResult<Appointment> {
        let sql = format!(
            "SELECT {} FROM appointments WHERE id = $1",
            APPOINTMENT_COLUMNS
        );
        let row: AppointmentRow = one_by(self, sql, id).await?;
        row.try_into()
    }

    async fn appointments_on(
        &self,
        service_point_id: Uuid,
        day: NaiveDate,
        after: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<Appointment>> {
        const SESSION_RANK: &str = "CASE session WHEN 'morning' THEN 0 ELSE 1 END";
        let after_sql = if after.is_some() {
            format!(
                "AND ({SESSION_RANK}, created_at, id) > \
                 ((SELECT {SESSION_RANK} FROM appointments WHERE id = $5), $4, $5) "
            )
        } else {
            "AND $4 IS NULL AND $5 IS NULL ".to_string()
        };
        let sql = format!(
            "SELECT {} FROM appointments WHERE service_point_id = $1 AND day = $2 \
             AND status IN ('booked', 'checked_in', 'no_show') {after_sql}\
             ORDER BY {SESSION_RANK}, created_at, id LIMIT $3",
            APPOINTMENT_COLUMNS
        );
        let rows: Vec<AppointmentRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(service_point_id)
            .bind(day)
            .bind(limit)
            .bind(after.map(|c| c.at))
            .bind(after.map(|c| c.id))
            .fetch_all(e)
            .await)
        .map_err(classify)?;
        rows.into_iter().map(TryInto::try_into).collect()
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
}

/// Takes one place in the session, if one is left: the only way a place is taken, so no
/// session is overbooked however many instances race. `false` when the session is full.
pub(crate) async fn take_place(
    tx: &mut Tx,
    service_point_id: Uuid,
    day: NaiveDate,
    session: Session,
) -> StorageResult<bool> {
    run!(tx, |e| sqlx::query(
        "INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES ($1, $2, $3, NULL, 0) \
         ON CONFLICT (service_point_id, day, session) DO NOTHING",
    )
    .bind(service_point_id)
    .bind(day)
    .bind(session.as_str())
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)?;
    let taken = run!(tx, |e| sqlx::query(
        "UPDATE slots SET booked = booked + 1 WHERE service_point_id = $1 AND day = $2 AND session = $3 \
         AND booked < COALESCE(capacity, (SELECT CASE WHEN $3 = 'morning' THEN capacity_morning ELSE capacity_afternoon END \
                                          FROM service_points WHERE id = $1))",
    )
    .bind(service_point_id)
    .bind(day)
    .bind(session.as_str())
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)?;
    Ok(taken == 1)
}

/// Records the booked appointment whose place [`take_place`] took.
pub(crate) async fn insert_appointment(tx: &mut Tx, b: &Booking) -> StorageResult<Appointment> {
    let sql = format!(
        "INSERT INTO appointments (id, application_id, service_point_id, day, session, status, reminded, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'booked', $6, $7, $7) RETURNING {APPOINTMENT_COLUMNS}"
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
    row.try_into()
}

/// One session of one day at a service point: the key of a `slots` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SlotKey {
    pub day: NaiveDate,
    pub session: Session,
    pub service_point_id: Uuid,
}

impl From<&Appointment> for SlotKey {
    fn from(a: &Appointment) -> Self {
        SlotKey {
            day: a.day,
            session: a.session,
            service_point_id: a.service_point_id,
        }
    }
}

/// Locks the sessions' rows, creating those not there yet, always in one order (day, session,
/// point ascending): a transaction that changes two sessions (a move) then never waits for one
/// that holds its second session while holding its first, the deadlock of two opposite moves
/// on PostgreSQL. SQLite needs no row locks, its write transactions run one at a time.
pub(crate) async fn lock_slots(tx: &mut Tx, keys: &[SlotKey]) -> StorageResult<()> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    // Inserting first: a row being inserted is waited for by a second inserter, and neither
    // holds a slot lock yet.
    for k in &keys {
        run!(tx, |e| sqlx::query(
            "INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES ($1, $2, $3, NULL, 0) \
             ON CONFLICT (service_point_id, day, session) DO NOTHING",
        )
        .bind(k.service_point_id)
        .bind(k.day)
        .bind(k.session.as_str())
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
    }
    let for_update = tx.dialect().for_update;
    if for_update.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT booked FROM slots WHERE service_point_id = $1 AND day = $2 AND session = $3{for_update}"
    );
    for k in &keys {
        let _: i32 = run!(tx, |e| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(k.service_point_id)
            .bind(k.day)
            .bind(k.session.as_str())
            .fetch_one(e)
            .await)
        .map_err(classify)?;
    }
    Ok(())
}

/// Marks the application's booked appointment `status` (cancelled or released) without giving
/// its place back yet; the caller locks that session ([`lock_slots`]) and calls [`give_back`].
pub(crate) async fn vacate(
    tx: &mut Tx,
    application_id: Uuid,
    status: AppointmentStatus,
    now: DateTime<Utc>,
) -> StorageResult<Option<Appointment>> {
    let sql = format!(
        "UPDATE appointments SET status = $2, updated_at = $3 WHERE application_id = $1 AND status = 'booked' \
         RETURNING {APPOINTMENT_COLUMNS}"
    );
    let held: Option<AppointmentRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(application_id)
        .bind(status.as_str())
        .bind(now)
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    held.map(TryInto::try_into).transpose()
}

/// Gives one place of the session back.
pub(crate) async fn give_back(tx: &mut Tx, k: SlotKey) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "UPDATE slots SET booked = booked - 1 WHERE service_point_id = $1 AND day = $2 AND session = $3 AND booked > 0",
    )
    .bind(k.service_point_id)
    .bind(k.day)
    .bind(k.session.as_str())
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// Gives back the place the application holds, if any, marking its appointment `status`
/// (cancelled or released). Returns the appointment that held it. One session only, so no
/// lock order to keep.
pub(crate) async fn release_place(
    tx: &mut Tx,
    application_id: Uuid,
    status: AppointmentStatus,
    now: DateTime<Utc>,
) -> StorageResult<Option<Appointment>> {
    let Some(held) = vacate(tx, application_id, status, now).await? else {
        return Ok(None);
    };
    give_back(tx, SlotKey::from(&held)).await?;
    Ok(Some(held))
}

/// Moves a booked appointment to `to` (checked in, no-show); `None` when it is not booked.
pub(crate) async fn close_appointment(
    tx: &mut Tx,
    appointment_id: Uuid,
    to: AppointmentStatus,
    now: DateTime<Utc>,
) -> StorageResult<Option<Appointment>> {
    let sql = format!(
        "UPDATE appointments SET status = $3, updated_at = $2 WHERE id = $1 AND status = 'booked' \
         RETURNING {APPOINTMENT_COLUMNS}"
    );
    let row: Option<AppointmentRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(appointment_id)
        .bind(now)
        .bind(to.as_str())
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    row.map(TryInto::try_into).transpose()
}

pub(crate) async fn mark_reminded(tx: &mut Tx, appointment_id: Uuid) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "UPDATE appointments SET reminded = $2 WHERE id = $1"
    )
    .bind(appointment_id)
    .bind(true)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// The booked appointments on `day` not yet reminded, locked (`SKIP LOCKED` on PostgreSQL, so
/// several instances share the work). A reminder only flags the appointment and never waits
/// for its application, so it cannot close a lock cycle with a move.
pub(crate) async fn unreminded_appointments(
    tx: &mut Tx,
    day: NaiveDate,
    limit: i64,
) -> StorageResult<Vec<Appointment>> {
    let sql = format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id IN \
         (SELECT id FROM appointments WHERE status = 'booked' AND day = $1 AND NOT reminded \
          ORDER BY created_at LIMIT $2{}) ORDER BY day, created_at",
        tx.dialect().skip_locked
    );
    let rows: Vec<AppointmentRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(day)
        .bind(limit)
        .fetch_all(e)
        .await)
    .map_err(classify)?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// The applications whose booked appointment lies before `today`, up to `limit`, each locked
/// (and on PostgreSQL those another runner or a move holds skipped). Only the application rows
/// are locked here, before any appointment, in the order a move and a check-in take them
/// (application, then slot and appointment), so the no-show job never waits for a row while
/// holding one a move wants. The appointments may have moved since this read: the caller
/// closes them with [`close_missed`], which checks again under the application's lock.
pub(crate) async fn lock_missed_applications(
    tx: &mut Tx,
    today: NaiveDate,
    limit: i64,
) -> StorageResult<Vec<Uuid>> {
    let sql = format!(
        "SELECT a.id FROM applications a JOIN appointments p ON p.application_id = a.id \
         WHERE p.status = 'booked' AND p.day < $1 ORDER BY p.day, a.id LIMIT $2{}",
        tx.dialect().skip_locked_of("a")
    );
    let rows: Vec<(Uuid,)> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(today)
        .bind(limit)
        .fetch_all(e)
        .await)
    .map_err(classify)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Marks the application's booked appointment of a day before `today` a no-show; `None` when
/// it has none (moved, cancelled or checked in since it was picked).
pub(crate) async fn close_missed(
    tx: &mut Tx,
    application_id: Uuid,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> StorageResult<Option<Appointment>> {
    let sql = format!(
        "UPDATE appointments SET status = $4, updated_at = $3 \
         WHERE application_id = $1 AND status = 'booked' AND day < $2 RETURNING {APPOINTMENT_COLUMNS}"
    );
    let row: Option<AppointmentRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(application_id)
        .bind(today)
        .bind(now)
        .bind(AppointmentStatus::NoShow.as_str())
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    row.map(TryInto::try_into).transpose()
}
