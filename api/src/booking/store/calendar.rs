//! The working-day calendar's storage: the State Council holidays and make-up working days,
//! and the copy each instance keeps of them.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};

use super::super::calendar::{CalendarDay, DayKind, WorkingCalendar};
use crate::platform::storage::{Database, StorageError, StorageResult, Tx, classify, run};

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

/// The working-day calendar (State Council holidays and make-up working days).
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// The working-day calendar, as this instance keeps it while it is current.
    async fn calendar(&self) -> StorageResult<Arc<WorkingCalendar>>;
    /// Replaces every listed day of `year` and marks the year known.
    async fn replace_calendar_year(&self, year: i32, days: &[CalendarDay]) -> StorageResult<()>;
}

/// The calendar as one instance last read it. The database's revision (the sum of the years'
/// revisions, which only grows: each load of a year adds one) says whether it is still the
/// calendar: another instance's load shows at the next read, so no instance books on a stale
/// holiday, and a read costs one aggregate over a row per year instead of the whole table.
#[derive(Default)]
pub struct CalendarCache(std::sync::RwLock<Option<(i64, Arc<WorkingCalendar>)>>);

impl CalendarCache {
    fn get(&self, revision: i64) -> Option<Arc<WorkingCalendar>> {
        let held = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        held.as_ref()
            .filter(|(r, _)| *r == revision)
            .map(|(_, calendar)| calendar.clone())
    }
    fn put(&self, revision: i64, calendar: &Arc<WorkingCalendar>) {
        let mut held = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Never replace a newer calendar with an older read that finished later.
        if held.as_ref().is_none_or(|(r, _)| *r <= revision) {
            *held = Some((revision, calendar.clone()));
        }
    }
}

#[async_trait]
impl CalendarStore for Database {
    async fn calendar(&self) -> StorageResult<Arc<WorkingCalendar>> {
        let revision: i64 = run!(self, |e| sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM calendar_years"
        )
        .fetch_one(e)
        .await)
        .map_err(classify)?;
        if let Some(calendar) = self.calendar.get(revision) {
            return Ok(calendar);
        }
        let calendar = Arc::new(self.calendar_at_rest().await?);
        // The rows and the revision were read apart: a load in between makes the pair look
        // older than the rows, which only costs a fresh read next time.
        self.calendar.put(revision, &calendar);
        Ok(calendar)
    }

    async fn replace_calendar_year(&self, year: i32, days: &[CalendarDay]) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        replace_calendar_year_in(&mut tx, year, days).await?;
        tx.commit().await
    }
}

impl Database {
    /// The whole calendar, read from its tables.
    async fn calendar_at_rest(&self) -> StorageResult<WorkingCalendar> {
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
            .collect::<StorageResult<Vec<CalendarDay>>>()?;
        Ok(WorkingCalendar::new(years, days))
    }
}

/// How many calendar years are loaded, read inside the caller's transaction.
pub(crate) async fn calendar_year_count_in(tx: &mut Tx) -> StorageResult<i64> {
    run!(tx, |e| sqlx::query_scalar(
        "SELECT COUNT(*) FROM calendar_years"
    )
    .fetch_one(e)
    .await)
    .map_err(classify)
}

/// Replaces one year of the working-day calendar inside the caller's transaction.
pub(crate) async fn replace_calendar_year_in(
    tx: &mut Tx,
    year: i32,
    days: &[CalendarDay],
) -> StorageResult<()> {
    // The handler admits 2000 to 2100 only; a year chrono cannot hold is not a calendar.
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(StorageError::Corrupt("calendar year out of range"));
    };
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
         ON CONFLICT (year) DO UPDATE SET updated_at = excluded.updated_at, \
         revision = calendar_years.revision + 1",
    )
    .bind(year)
    .bind(Utc::now())
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)?;
    Ok(())
}
