//! Booking (选择预约办理日期, seed 000 §3.2.3): pre-review takes 2 working days, so the bookable
//! days are the 7 opening days of the service point after those; each session of each day has
//! a capacity, and the database refuses the place past it (see `storage::casework`).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::booking::calendar::{
    BookingWindow, CalendarDay, Opening, PointDay, STATE_COUNCIL_CSV, Session, WorkingCalendar,
    parse_csv,
};
use crate::booking::store::{Booking, SlotUsage};
use crate::casework::applications::model::{Application, AppointmentStatus, Status};
use crate::casework::applications::{
    AppointmentInfo, ServicePointBrief, appointment_info, brief, load_own,
};
use crate::directory::ServicePoint;
use crate::identity::rate_limits::BOOKINGS_PER_ACCOUNT;
use crate::identity::sessions::SessionAuth;
use crate::notifications::notice;
use crate::platform::error::ApiError;
use crate::platform::idempotency;
use crate::platform::state::AppState;
use crate::platform::storage::{Storage, StorageError};
use crate::platform::web::ApiTags;
use crate::residence::local_date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SessionName {
    /// 上午
    Morning,
    /// 下午
    Afternoon,
}

impl From<SessionName> for Session {
    fn from(s: SessionName) -> Self {
        match s {
            SessionName::Morning => Session::Morning,
            SessionName::Afternoon => Session::Afternoon,
        }
    }
}

/// The colours of the booking calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum DayState {
    /// 节假日或休息日 (red): the service point is closed.
    Holiday,
    /// 满 (full): no place left.
    Full,
    /// 无法预约 (grey): pre-review days, past days, a session the point does not hold.
    Unavailable,
    /// 可以预约 (blue).
    Available,
}

#[derive(Debug, Clone, Object)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub state: DayState,
    /// The holiday's name when the State Council calendar lists one.
    pub holiday_name: Option<String>,
    /// Places left in the session, for days in the window.
    pub remaining: Option<i32>,
    /// The application's own appointment is on this day and session.
    pub mine: bool,
}

#[derive(Debug, Clone, Object)]
pub struct BookingCalendar {
    pub application_id: Uuid,
    pub service_point: ServicePointBrief,
    pub session: SessionName,
    /// The 2 working days pre-review takes.
    pub review_days: Vec<NaiveDate>,
    /// The bookable days, in order.
    pub bookable_days: Vec<NaiveDate>,
    pub days: Vec<CalendarEntry>,
}

#[derive(Debug, Clone, Object)]
pub struct BookingRequest {
    pub date: NaiveDate,
    /// Morning by default (seed 000: 两个工作日后的任一工作日上午办理).
    pub session: Option<SessionName>,
    /// When given, it must be the application's service point.
    pub service_point_id: Option<Uuid>,
}

/// The working-day calendar as stored (administrators edit it).
pub async fn working_calendar(storage: &dyn Storage) -> Result<WorkingCalendar, StorageError> {
    let (years, days) = storage.calendar().await?;
    Ok(WorkingCalendar::new(years, days))
}

/// Loads the State Council calendar the first time permitd starts on a database.
pub async fn seed_calendar_once(storage: &dyn Storage) -> Result<(), StorageError> {
    let (years, _) = storage.calendar().await?;
    if !years.is_empty() {
        return Ok(());
    }
    let days = parse_csv(STATE_COUNCIL_CSV).map_err(|_| StorageError::Corrupt("calendar seed"))?;
    let mut by_year: std::collections::BTreeMap<i32, Vec<CalendarDay>> = Default::default();
    for d in days {
        by_year.entry(d.date.year()).or_default().push(d);
    }
    for (year, days) in by_year {
        storage.replace_calendar_year(year, &days).await?;
    }
    Ok(())
}

pub fn opening_of(point: &ServicePoint) -> Result<Opening, StorageError> {
    let weekdays: Vec<u8> = point
        .open_weekdays
        .iter()
        .filter_map(|d| u8::try_from(*d).ok())
        .collect();
    let sessions: Vec<Session> = point
        .sessions
        .iter()
        .filter_map(|s| Session::parse(s))
        .collect();
    Opening::new(&weekdays, &sessions).map_err(|_| StorageError::Corrupt("service point opening"))
}

pub fn default_capacity(point: &ServicePoint, session: Session) -> i32 {
    match session {
        Session::Morning => point.capacity_morning,
        Session::Afternoon => point.capacity_afternoon,
    }
}

/// What the calendar shows for each day from `from` to the window's end. Plain data in, plain
/// data out, so the rule is tested without HTTP.
#[allow(clippy::too_many_arguments)]
pub fn day_states(
    calendar: &WorkingCalendar,
    opening: &Opening,
    window: &BookingWindow,
    session: Session,
    usage: &HashMap<NaiveDate, SlotUsage>,
    default_capacity: i32,
    today: NaiveDate,
    from: NaiveDate,
    mine: Option<NaiveDate>,
) -> Vec<CalendarEntry> {
    let Some(last) = window.last() else {
        return Vec::new();
    };
    from.iter_days()
        .take_while(|d| *d <= last)
        .map(|date| {
            let holiday_name = calendar.day(date).and_then(|d| {
                (d.kind == crate::booking::calendar::DayKind::Holiday).then(|| d.name.clone())
            });
            let (state, remaining) = match calendar.point_day(opening, date) {
                PointDay::Holiday { .. } | PointDay::RestDay => (DayState::Holiday, None),
                PointDay::Open if !window.contains(date) || date <= today => {
                    (DayState::Unavailable, None)
                }
                PointDay::Open if !opening.has_session(session) => (DayState::Unavailable, None),
                PointDay::Open => {
                    let (capacity, booked) = usage
                        .get(&date)
                        .map(|u| (u.capacity, u.booked))
                        .unwrap_or((default_capacity, 0));
                    let remaining = (capacity - booked).max(0);
                    if capacity == 0 {
                        (DayState::Unavailable, Some(0))
                    } else if remaining == 0 {
                        (DayState::Full, Some(0))
                    } else {
                        (DayState::Available, Some(remaining))
                    }
                }
            };
            CalendarEntry {
                date,
                state,
                holiday_name,
                remaining,
                mine: mine == Some(date),
            }
        })
        .collect()
}

/// The window an application's submission opens at its service point.
pub async fn window_for(
    state: &AppState,
    application: &Application,
) -> Result<(ServicePoint, Opening, WorkingCalendar, BookingWindow), ApiError> {
    if !application.status.is_bookable() {
        return Err(ApiError::rejected("not_bookable"));
    }
    let submitted = application
        .submitted_at
        .ok_or_else(|| ApiError::rejected("not_bookable"))?;
    let point = state
        .storage
        .service_point(application.fields.service_point_id)
        .await?;
    let opening = opening_of(&point)?;
    let calendar = working_calendar(&*state.storage).await?;
    let window = calendar.booking_window(&opening, local_date(submitted));
    Ok((point, opening, calendar, window))
}

pub struct AppointmentsApi;

#[OpenApi(tag = "ApiTags::Applications")]
impl AppointmentsApi {
    /// The booking calendar of a submitted application: each day's state and places left.
    #[oai(path = "/applications/:id/calendar", method = "get")]
    async fn calendar(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        session: Query<Option<SessionName>>,
    ) -> Result<Json<BookingCalendar>, ApiError> {
        let application = load_own(&state, &auth, id.0).await?;
        let (point, opening, calendar, window) = window_for(&state, &application).await?;
        let session_name = session.0.unwrap_or(SessionName::Morning);
        let session: Session = session_name.into();
        let (Some(first), Some(last)) = (window.review_days.first().copied(), window.last()) else {
            return Err(ApiError::rejected("not_bookable"));
        };
        let usage: HashMap<NaiveDate, SlotUsage> = state
            .storage
            .slots(point.id, first, last)
            .await?
            .into_iter()
            .filter(|u| u.session == session)
            .map(|u| (u.day, u))
            .collect();
        let mine = state
            .storage
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
            local_date(state.clock.now()),
            first,
            mine,
        );
        Ok(Json(BookingCalendar {
            application_id: application.id,
            service_point: ServicePointBrief::from(&point),
            session: session_name,
            review_days: window.review_days.clone(),
            bookable_days: window.bookable.clone(),
            days,
        }))
    }

    /// Book a day, or move the booking; an `Idempotency-Key` makes a repeat harmless. A move
    /// to a full day leaves the old booking as it was.
    #[oai(path = "/applications/:id/appointment", method = "put")]
    async fn book(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: Json<BookingRequest>,
    ) -> Result<Json<AppointmentInfo>, ApiError> {
        let state = &*state;
        let request = format!(
            "book:{}:{}:{:?}:{:?}",
            id.0, body.0.date, body.0.session, body.0.service_point_id
        );
        let out = idempotency::once(state, auth.0.account_id, key.0.as_deref(), &request, || {
            book(state, &auth, id.0, body.0.clone())
        })
        .await?;
        Ok(Json(out))
    }

    /// Cancel the booking; the application can be booked again within its window.
    #[oai(path = "/applications/:id/appointment", method = "delete")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<AppointmentInfo>, ApiError> {
        let application = load_own(&state, &auth, id.0).await?;
        BOOKINGS_PER_ACCOUNT
            .hit(&*state.ephemeral, &auth.0.account_id.to_string())
            .await?;
        let point = brief(&state, application.fields.service_point_id).await?;
        let current = state
            .storage
            .current_appointment(application.id)
            .await?
            .ok_or_else(|| ApiError::rejected("no_appointment"))?;
        let n = notice::cancelled(&application, &current, &point.name);
        let cancelled = state
            .storage
            .cancel_appointment(auth.0.account_id, application.id, state.clock.now(), &n)
            .await?;
        let application = state.storage.application(application.id).await?;
        Ok(Json(appointment_info(&application, &cancelled, point)))
    }
}

async fn book(
    state: &AppState,
    auth: &SessionAuth,
    id: Uuid,
    req: BookingRequest,
) -> Result<AppointmentInfo, ApiError> {
    let application = load_own(state, auth, id).await?;
    BOOKINGS_PER_ACCOUNT
        .hit(&*state.ephemeral, &auth.0.account_id.to_string())
        .await?;
    if req
        .service_point_id
        .is_some_and(|p| p != application.fields.service_point_id)
    {
        return Err(ApiError::unprocessable(
            "wrong_service_point",
            "service_point_id",
            "只能预约申请所选的受理点",
        ));
    }
    let (point, opening, calendar, window) = window_for(state, &application).await?;
    let session: Session = req.session.unwrap_or(SessionName::Morning).into();
    let today = local_date(state.clock.now());
    match calendar.point_day(&opening, req.date) {
        PointDay::Holiday { .. } | PointDay::RestDay => {
            return Err(ApiError::unprocessable(
                "day_closed",
                "date",
                "节假日或休息日不能预约",
            ));
        }
        PointDay::Open if !window.contains(req.date) || req.date <= today => {
            return Err(ApiError::unprocessable(
                "day_outside_window",
                "date",
                "只能预约初审两个工作日之后的7个工作日",
            ));
        }
        PointDay::Open => {}
    }
    if !opening.has_session(session) {
        return Err(ApiError::unprocessable(
            "session_closed",
            "session",
            "该受理点此时段不办理业务",
        ));
    }
    let current = state.storage.current_appointment(application.id).await?;
    let point_brief = ServicePointBrief::from(&point);
    if let Some(c) = current.as_ref().filter(|c| {
        c.day == req.date && c.session == session && c.status == AppointmentStatus::Booked
    }) {
        // Already there: booking the same place again changes nothing.
        return Ok(appointment_info(&application, c, point_brief));
    }
    let notice = notice::booked(&application, req.date, session, &point_brief);
    let appointment = state
        .storage
        .book(&Booking {
            account_id: auth.0.account_id,
            application_id: application.id,
            service_point_id: point.id,
            day: req.date,
            session,
            now: state.clock.now(),
            notice,
        })
        .await?;
    let mut application = application;
    if application.status == Status::Submitted {
        application.status = Status::Booked;
    }
    Ok(appointment_info(&application, &appointment, point_brief))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn states(
        opening: &Opening,
        submitted: NaiveDate,
        usage: &HashMap<NaiveDate, SlotUsage>,
    ) -> Vec<(NaiveDate, DayState, Option<i32>)> {
        let calendar = WorkingCalendar::state_council();
        let window = calendar.booking_window(opening, submitted);
        let from = submitted.succ_opt().unwrap();
        day_states(
            &calendar,
            opening,
            &window,
            Session::Morning,
            usage,
            30,
            submitted,
            from,
            None,
        )
        .into_iter()
        .map(|e| (e.date, e.state, e.remaining))
        .collect()
    }

    #[test]
    fn the_spring_festival_shows_red_review_days_grey_and_the_window_blue() {
        // Submitted Thursday 2026-02-12: review on 02-13 and the make-up Saturday 02-14.
        let s = states(&Opening::weekdays_only(), d(2, 12), &HashMap::new());
        let state_of = |day: NaiveDate| s.iter().find(|x| x.0 == day).map(|x| x.1);
        assert_eq!(state_of(d(2, 13)), Some(DayState::Unavailable));
        assert_eq!(state_of(d(2, 14)), Some(DayState::Unavailable));
        for day in 15..=23 {
            assert_eq!(state_of(d(2, day)), Some(DayState::Holiday), "02-{day}");
        }
        let blue: Vec<NaiveDate> = s
            .iter()
            .filter(|x| x.1 == DayState::Available)
            .map(|x| x.0)
            .collect();
        assert_eq!(
            blue,
            vec![
                d(2, 24),
                d(2, 25),
                d(2, 26),
                d(2, 27),
                d(2, 28),
                d(3, 2),
                d(3, 3)
            ]
        );
        assert_eq!(
            state_of(d(3, 1)),
            Some(DayState::Holiday),
            "an ordinary Sunday"
        );
    }

    #[test]
    fn full_and_closed_sessions_and_remaining_places() {
        let submitted = d(11, 23);
        let calendar = WorkingCalendar::state_council();
        let window = calendar.booking_window(&Opening::weekdays_only(), submitted);
        let (full, closed, some) = (window.bookable[0], window.bookable[1], window.bookable[2]);
        let usage: HashMap<NaiveDate, SlotUsage> = [(full, 5, 5), (closed, 0, 0), (some, 30, 28)]
            .into_iter()
            .map(|(day, capacity, booked)| {
                (
                    day,
                    SlotUsage {
                        day,
                        session: Session::Morning,
                        capacity,
                        booked,
                    },
                )
            })
            .collect();
        let s = states(&Opening::weekdays_only(), submitted, &usage);
        let of = |day: NaiveDate| s.iter().find(|x| x.0 == day).map(|x| (x.1, x.2));
        assert_eq!(of(full), Some((DayState::Full, Some(0))));
        assert_eq!(of(closed), Some((DayState::Unavailable, Some(0))));
        assert_eq!(of(some), Some((DayState::Available, Some(2))));
        assert_eq!(
            of(window.bookable[3]),
            Some((DayState::Available, Some(30)))
        );
        // A point without a morning session: nothing is bookable in the morning.
        let afternoons = Opening::new(&[1, 2, 3, 4, 5], &[Session::Afternoon]).unwrap();
        assert!(
            states(&afternoons, submitted, &HashMap::new())
                .iter()
                .all(|x| x.1 != DayState::Available)
        );
    }

    #[test]
    fn a_saturday_point_offers_saturdays_outside_holidays() {
        let saturdays = Opening::new(&[1, 2, 3, 4, 5, 6], &Session::ALL).unwrap();
        // Submitted Monday 2026-11-23: review 11-24, 11-25; window from Thursday 11-26.
        let s = states(&saturdays, d(11, 23), &HashMap::new());
        let blue: Vec<NaiveDate> = s
            .iter()
            .filter(|x| x.1 == DayState::Available)
            .map(|x| x.0)
            .collect();
        assert_eq!(
            blue,
            vec![
                d(11, 26),
                d(11, 27),
                d(11, 28),
                d(11, 30),
                d(12, 1),
                d(12, 2),
                d(12, 3)
            ]
        );
        // Across a year with no data: Monday to Friday, plus the point's Saturdays.
        let calendar = WorkingCalendar::state_council();
        let w = calendar.booking_window(&saturdays, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert!(
            w.bookable
                .iter()
                .all(|day| day.weekday() != chrono::Weekday::Sun)
        );
        assert!(
            w.bookable
                .iter()
                .any(|day| day.weekday() == chrono::Weekday::Sat)
        );
    }
}
