//! Booking's use cases: the calendar a resident picks from, booking and moving a place,
//! cancelling it, checking in at the counter, and the jobs that follow the day. Each owns its
//! transaction and answers with a [`BookingError`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

use super::calendar::{
    BookingWindow, CalendarDay, CalendarError, Opening, STATE_COUNCIL_CSV, Session,
    WorkingCalendar, parse_csv,
};
pub use super::gate::place_gated;
use super::gate::{self, GateKey};
use super::model::{
    Booking, BookingChoice, CalendarYearRefusal, CorruptOpening, DayRefusal, DayView,
    DueAppointment, NoticeFor, SlotUsage, capacity_fits, check_calendar_year, check_day,
    day_states, default_capacity, opening_of,
};
use super::store::{self, SlotKey};
use crate::casework;
use crate::casework::applications::model::{
    Application, Appointment, AppointmentStatus, Transition,
};
use crate::directory::ServicePoint;
use crate::notifications;
use crate::notifications::notice;
use crate::platform::clock::local_date;
use crate::platform::ephemeral::Ephemeral;
use crate::platform::storage::{
    Storage, StorageError, StorageResult, Transient, Tx, claim_marker, retry_once,
};

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The application is not there, or another account's.
    #[error("application not found")]
    NotFound,
    /// Not submitted yet, or past the stage where a day can be chosen.
    #[error("the application cannot be booked now")]
    NotBookable,
    #[error("only the application's own service point can be booked")]
    WrongServicePoint,
    #[error("the service point is closed that day")]
    DayClosed,
    #[error("the day is outside the booking window")]
    DayOutsideWindow,
    #[error("the service point does not hold that session")]
    SessionClosed,
    /// No place left; the old booking, if any, is kept.
    #[error("the session is full")]
    SlotFull,
    #[error("the application has no appointment")]
    NoAppointment,
    #[error("the appointment cannot be checked in")]
    NotCheckable,
    /// An administrator's calendar year is refused.
    #[error("calendar year refused: {0:?}")]
    CalendarYear(CalendarYearRefusal),
    /// Places outside 0 to 10 000 for the given session setting.
    #[error("capacity out of range for {0:?}")]
    InvalidCapacity(CapacityOf),
    /// Opening days or sessions that make no opening.
    #[error("invalid opening: {0}")]
    InvalidOpening(CalendarError),
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for BookingError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => BookingError::NotFound,
            other => BookingError::Storage(other),
        }
    }
}

impl Transient for BookingError {
    fn is_transient(&self) -> bool {
        matches!(self, BookingError::Storage(e) if e.is_transient())
    }
}

impl From<casework::service::CaseworkError> for BookingError {
    fn from(e: casework::service::CaseworkError) -> Self {
        match e {
            casework::service::CaseworkError::Storage(e) => BookingError::Storage(e),
            _ => BookingError::NotFound,
        }
    }
}

impl From<CorruptOpening> for BookingError {
    fn from(_: CorruptOpening) -> Self {
        BookingError::Storage(StorageError::Corrupt("service point opening"))
    }
}

type Result<T> = std::result::Result<T, BookingError>;

/// Which capacity an administrator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityOf {
    /// The point's default for mornings.
    Morning,
    /// The point's default for afternoons.
    Afternoon,
    /// One session of one day.
    Slot,
}

fn check_capacity(places: i32, of: CapacityOf) -> Result<()> {
    if !capacity_fits(places) {
        return Err(BookingError::InvalidCapacity(of));
    }
    Ok(())
}

/// An application with its appointment and where it is.
pub struct Booked {
    pub application: Application,
    pub appointment: Appointment,
    pub point: ServicePoint,
}

/// What the booking calendar shows for one session.
pub struct Calendar {
    pub application: Application,
    pub point: ServicePoint,
    pub session: Session,
    /// The 2 working days pre-review takes.
    pub review_days: Vec<NaiveDate>,
    /// The bookable days, in order.
    pub bookable_days: Vec<NaiveDate>,
    pub days: Vec<DayView>,
}

/// The working-day calendar as stored (administrators edit it), kept per instance while it
/// is current (`booking::store::CalendarCache`).
pub async fn working_calendar(storage: &dyn Storage) -> StorageResult<Arc<WorkingCalendar>> {
    storage.calendar().await
}

/// Loads or replaces one year of the working-day calendar (administrators).
pub async fn replace_calendar_year(
    storage: &dyn Storage,
    year: i32,
    days: &[CalendarDay],
) -> Result<()> {
    check_calendar_year(year, days).map_err(BookingError::CalendarYear)?;
    Ok(storage.replace_calendar_year(year, days).await?)
}

/// Sets a service point's opening days, sessions and default capacity (administrators).
pub async fn set_opening(
    storage: &dyn Storage,
    service_point_id: Uuid,
    weekdays: &[u8],
    sessions: &[Session],
    capacity_morning: i32,
    capacity_afternoon: i32,
) -> Result<ServicePoint> {
    check_capacity(capacity_morning, CapacityOf::Morning)?;
    check_capacity(capacity_afternoon, CapacityOf::Afternoon)?;
    let opening = Opening::new(weekdays, sessions).map_err(BookingError::InvalidOpening)?;
    Ok(storage
        .set_opening(
            service_point_id,
            &opening,
            capacity_morning,
            capacity_afternoon,
        )
        .await?)
}

/// Sets the places of one session of one day (administrators); `None` returns to the point's
/// default, 0 closes it.
pub async fn set_slot_capacity(
    storage: &dyn Storage,
    admission: &dyn Ephemeral,
    service_point_id: Uuid,
    day: NaiveDate,
    session: Session,
    capacity: Option<i32>,
) -> Result<()> {
    if let Some(c) = capacity {
        check_capacity(c, CapacityOf::Slot)?;
    }
    let point = storage.service_point(service_point_id).await?;
    storage
        .set_slot_capacity(service_point_id, day, session, capacity)
        .await?;
    // More places (or fewer: the database refuses past them either way).
    gate::reopen(
        admission,
        &GateKey {
            service_point_id,
            day,
            session,
            default_capacity: default_capacity(&point, session),
        },
    )
    .await;
    Ok(())
}

/// Loads the State Council calendar the first time permitd starts on a database: every year
/// and the seed marker in one transaction (see `claim_marker`), so a start killed half-way
/// leaves no partial calendar and the next start loads it again. A database whose calendar was
/// loaded before the marker existed keeps its years (later edits stand).
pub async fn seed_calendar_once(storage: &dyn Storage) -> StorageResult<bool> {
    let days = parse_csv(STATE_COUNCIL_CSV).map_err(|_| StorageError::Corrupt("calendar seed"))?;
    let mut by_year: BTreeMap<i32, Vec<CalendarDay>> = BTreeMap::new();
    for d in days {
        by_year.entry(d.date.year()).or_default().push(d);
    }
    let mut tx = storage.begin().await?;
    if !claim_marker(&mut tx, CALENDAR_MARKER).await? {
        return Ok(false);
    }
    if store::calendar_year_count_in(&mut tx).await? > 0 {
        tx.commit().await?;
        return Ok(false);
    }
    for (year, days) in by_year {
        store::replace_calendar_year_in(&mut tx, year, &days).await?;
    }
    tx.commit().await?;
    Ok(true)
}

const CALENDAR_MARKER: &str = "calendar_seed_loaded";

/// The window an application's submission opens at its service point.
pub async fn window_for(
    storage: &dyn Storage,
    application: &Application,
) -> Result<(ServicePoint, Opening, Arc<WorkingCalendar>, BookingWindow)> {
    if !application.status.is_bookable() {
        return Err(BookingError::NotBookable);
    }
    let submitted = application.submitted_at.ok_or(BookingError::NotBookable)?;
    let point = storage
        .service_point(application.fields.service_point_id)
        .await?;
    let opening = opening_of(&point)?;
    let calendar = working_calendar(storage).await?;
    let window = calendar.booking_window(&opening, local_date(submitted));
    Ok((point, opening, calendar, window))
}

/// The booking calendar of the caller's submitted application.
pub async fn calendar(
    storage: &dyn Storage,
    account_id: Uuid,
    application_id: Uuid,
    session: Session,
    now: DateTime<Utc>,
) -> Result<Calendar> {
    let application =
        casework::service::own_application(storage, account_id, application_id).await?;
    let (point, opening, calendar, window) = window_for(storage, &application).await?;
    let (Some(first), Some(last)) = (window.review_days.first().copied(), window.last()) else {
        return Err(BookingError::NotBookable);
    };
    let usage: HashMap<NaiveDate, SlotUsage> = storage
        .slots(point.id, first, last)
        .await?
        .into_iter()
        .filter(|u| u.session == session)
        .map(|u| (u.day, u))
        .collect();
    let mine = storage
        .current_appointment(application.id)
        .await?
        .filter(|a| a.session == session)
        .map(|a| a.day);
    let days = day_states(
        &calendar,
        &opening,
        &window,
        session,
        &usage,
        default_capacity(&point, session),
        local_date(now),
        first,
        mine,
    );
    Ok(Calendar {
        application,
        point,
        session,
        review_days: window.review_days.clone(),
        bookable_days: window.bookable.clone(),
        days,
    })
}

/// Books a day for an application the caller owns (`casework::service::own_application`), or
/// moves its booking there. Booking the place it already holds changes nothing.
pub async fn book(
    storage: &dyn Storage,
    admission: &dyn Ephemeral,
    mut application: Application,
    choice: &BookingChoice,
    now: DateTime<Utc>,
) -> Result<Booked> {
    let account_id = application.account_id;
    if choice
        .service_point_id
        .is_some_and(|p| p != application.fields.service_point_id)
    {
        return Err(BookingError::WrongServicePoint);
    }
    let (point, opening, calendar, window) = window_for(storage, &application).await?;
    check_day(&calendar, &opening, &window, choice, local_date(now)).map_err(|r| match r {
        DayRefusal::Closed => BookingError::DayClosed,
        DayRefusal::OutsideWindow => BookingError::DayOutsideWindow,
        DayRefusal::SessionClosed => BookingError::SessionClosed,
    })?;
    let current = storage.current_appointment(application.id).await?;
    if let Some(c) = current.filter(|c| {
        c.day == choice.date && c.session == choice.session && c.status == AppointmentStatus::Booked
    }) {
        return Ok(Booked {
            application,
            appointment: c,
            point,
        });
    }
    let appointment = place_gated(
        storage,
        admission,
        &point,
        &Booking {
            account_id,
            application_id: application.id,
            service_point_id: point.id,
            day: choice.date,
            session: choice.session,
            now,
            notice: notice::booked(&application, choice.date, choice.session, &point),
        },
    )
    .await?;
    if let Some(next) = Transition::Book.next(application.status) {
        application.status = next;
    }
    Ok(Booked {
        application,
        appointment,
        point,
    })
}

/// Takes the place in one transaction: the application moves (and so is locked, so two
/// bookings of it run one after the other), its old place is given back, the new one taken,
/// the applicant told. A full session rolls everything back: the old place stays taken. The
/// old and the new session are locked in one order ([`store::lock_slots`]); should PostgreSQL
/// still give the transaction up, it runs once more ([`retry_once`]).
pub async fn place(storage: &dyn Storage, b: &Booking) -> Result<Appointment> {
    Ok(retry_once(|| place_once(storage, b)).await?.0)
}

pub(super) async fn place_once(
    storage: &dyn Storage,
    b: &Booking,
) -> Result<(Appointment, Option<SlotKey>)> {
    let mut tx = storage.begin().await?;
    let moved = casework::service::move_within(
        &mut tx,
        Transition::Book,
        b.application_id,
        Some(b.account_id),
        b.now,
    )
    .await?;
    if !moved {
        return Err(BookingError::NotBookable);
    }
    let held = store::vacate(
        &mut tx,
        b.application_id,
        AppointmentStatus::Cancelled,
        b.now,
    )
    .await?;
    let wanted = SlotKey {
        day: b.day,
        session: b.session,
        service_point_id: b.service_point_id,
    };
    let old = held.as_ref().map(SlotKey::from);
    store::lock_slots(
        &mut tx,
        &[Some(wanted), old]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
    )
    .await?;
    if let Some(old) = old {
        store::give_back(&mut tx, old).await?;
    }
    if !store::take_place(&mut tx, b.service_point_id, b.day, b.session).await? {
        return Err(BookingError::SlotFull);
    }
    let appointment = store::insert_appointment(&mut tx, b).await?;
    notifications::service::queue(&mut tx, &b.notice, b.now).await?;
    tx.commit().await?;
    Ok((appointment, old))
}

/// The applicant gives the place back; the application, one the caller owns, can be booked
/// again in its window.
pub async fn cancel(
    storage: &dyn Storage,
    admission: &dyn Ephemeral,
    application: Application,
    now: DateTime<Utc>,
) -> Result<Booked> {
    let account_id = application.account_id;
    let point = storage
        .service_point(application.fields.service_point_id)
        .await?;
    let mut tx = storage.begin().await?;
    let moved = casework::service::move_within(
        &mut tx,
        Transition::CancelAppointment,
        application.id,
        Some(account_id),
        now,
    )
    .await?;
    if !moved {
        return Err(BookingError::NoAppointment);
    }
    let cancelled = release_place(&mut tx, application.id, AppointmentStatus::Cancelled, now)
        .await?
        .ok_or(BookingError::NoAppointment)?;
    let n = notice::cancelled(&application, &cancelled, &point.name);
    notifications::service::queue(&mut tx, &n, now).await?;
    tx.commit().await?;
    gate::reopen(
        admission,
        &GateKey {
            service_point_id: cancelled.service_point_id,
            day: cancelled.day,
            session: cancelled.session,
            default_capacity: default_capacity(&point, cancelled.session),
        },
    )
    .await;
    let application = storage.application(application.id).await?;
    Ok(Booked {
        application,
        appointment: cancelled,
        point,
    })
}

/// 已受理: the booked appointment and its application are checked in, together. The
/// application is locked before the appointment, in the order a move takes them, so a check-in
/// and the applicant moving the same appointment run one after the other instead of
/// deadlocking.
pub async fn check_in(
    storage: &dyn Storage,
    appointment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Appointment> {
    let seen = storage
        .appointment(appointment_id)
        .await
        .map_err(|e| match e {
            StorageError::NotFound => BookingError::NotCheckable,
            other => BookingError::Storage(other),
        })?;
    retry_once(|| check_in_once(storage, &seen, now)).await
}

async fn check_in_once(
    storage: &dyn Storage,
    seen: &Appointment,
    now: DateTime<Utc>,
) -> Result<Appointment> {
    let mut tx = storage.begin().await?;
    let moved = casework::service::move_within(
        &mut tx,
        Transition::CheckIn,
        seen.application_id,
        None,
        now,
    )
    .await?;
    if !moved {
        return Err(BookingError::NotCheckable);
    }
    // Moved or cancelled since it was read: the rollback undoes the application's move.
    let checked = store::close_appointment(&mut tx, seen.id, AppointmentStatus::CheckedIn, now)
        .await?
        .ok_or(BookingError::NotCheckable)?;
    tx.commit().await?;
    Ok(checked)
}

/// Gives back the place an application holds, inside a transaction another use case owns
/// (the application withdrawn or returned at pre-review). The appointment that held it, if any.
pub async fn release_place(
    tx: &mut Tx,
    application_id: Uuid,
    status: AppointmentStatus,
    now: DateTime<Utc>,
) -> StorageResult<Option<Appointment>> {
    store::release_place(tx, application_id, status, now).await
}

/// Booked appointments of days before `today` become no-shows, and their applicants are told.
/// Each application is locked before its appointment, the order a move, a cancellation and a
/// check-in take, so the job and an applicant moving the same appointment run one after the
/// other instead of deadlocking; an appointment that moved in between is left alone.
pub async fn mark_no_shows(
    storage: &dyn Storage,
    today: NaiveDate,
    limit: i64,
    now: DateTime<Utc>,
    notice: &NoticeFor<'_>,
) -> StorageResult<usize> {
    let mut tx = storage.begin().await?;
    let mut marked = 0;
    for application_id in store::lock_missed_applications(&mut tx, today, limit).await? {
        let Some(appointment) = store::close_missed(&mut tx, application_id, today, now).await?
        else {
            continue;
        };
        let moved = casework::service::move_within(
            &mut tx,
            Transition::MissAppointment,
            application_id,
            None,
            now,
        )
        .await?;
        marked += 1;
        if !moved {
            continue;
        }
        let application = casework::service::application_within(&mut tx, application_id).await?;
        let due = DueAppointment {
            appointment,
            application,
        };
        notifications::service::queue(&mut tx, &notice(&due), now).await?;
    }
    tx.commit().await?;
    Ok(marked)
}

/// One reminder for each booked appointment on `day`.
pub async fn queue_reminders(
    storage: &dyn Storage,
    day: NaiveDate,
    limit: i64,
    now: DateTime<Utc>,
    notice: &NoticeFor<'_>,
) -> StorageResult<usize> {
    let mut tx = storage.begin().await?;
    let appointments = store::unreminded_appointments(&mut tx, day, limit).await?;
    let count = appointments.len();
    for appointment in appointments {
        store::mark_reminded(&mut tx, appointment.id).await?;
        let application =
            casework::service::application_within(&mut tx, appointment.application_id).await?;
        let due = DueAppointment {
            appointment,
            application,
        };
        notifications::service::queue(&mut tx, &notice(&due), now).await?;
    }
    tx.commit().await?;
    Ok(count)
}
