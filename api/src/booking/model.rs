//! Booking as the domain sees it (选择预约办理日期, the Zhejiang manual §3.2.3): pre-review takes 2
//! working days, so the bookable days are the 7 opening days of the service point after those;
//! each session of each day has a capacity. Plain types and rules, no I/O.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

use super::calendar::{
    BookingWindow, CalendarDay, DayKind, Opening, PointDay, Session, WorkingCalendar,
};
use crate::casework::applications::model::{Application, Appointment};
use crate::directory::ServicePoint;
use crate::notifications::model::NewNotification;

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

/// The colours of the booking calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// One day of the booking calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayView {
    pub date: NaiveDate,
    pub state: DayState,
    /// The holiday's name when the State Council calendar lists one.
    pub holiday_name: Option<String>,
    /// Places left in the session, for days in the window.
    pub remaining: Option<i32>,
    /// The application's own appointment is on this day and session.
    pub mine: bool,
}

/// What a resident asks for: a day, a session, and (to guard against a stale screen) the
/// service point they believe they are booking at.
#[derive(Debug, Clone)]
pub struct BookingChoice {
    pub date: NaiveDate,
    pub session: Session,
    pub service_point_id: Option<Uuid>,
}

/// Why a day cannot be booked, before any place is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRefusal {
    /// 节假日或休息日.
    Closed,
    /// Before the end of pre-review, past, or after the 7 bookable days.
    OutsideWindow,
    /// The point does not hold that session.
    SessionClosed,
}

/// Whether `choice` may be booked at a point with `opening`, on `calendar`, in `window`.
pub fn check_day(
    calendar: &WorkingCalendar,
    opening: &Opening,
    window: &BookingWindow,
    choice: &BookingChoice,
    today: NaiveDate,
) -> Result<(), DayRefusal> {
    match calendar.point_day(opening, choice.date) {
        PointDay::Holiday { .. } | PointDay::RestDay => Err(DayRefusal::Closed),
        PointDay::Open if !window.contains(choice.date) || choice.date <= today => {
            Err(DayRefusal::OutsideWindow)
        }
        PointDay::Open if !opening.has_session(choice.session) => Err(DayRefusal::SessionClosed),
        PointDay::Open => Ok(()),
    }
}

/// A service point's stored opening days or sessions do not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the service point's opening days or sessions cannot be read")]
pub struct CorruptOpening;

pub fn opening_of(point: &ServicePoint) -> Result<Opening, CorruptOpening> {
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
    Opening::new(&weekdays, &sessions).map_err(|_| CorruptOpening)
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
) -> Vec<DayView> {
    let Some(last) = window.last() else {
        return Vec::new();
    };
    from.iter_days()
        .take_while(|d| *d <= last)
        .map(|date| {
            let holiday_name = calendar
                .day(date)
                .and_then(|d| (d.kind == DayKind::Holiday).then(|| d.name.clone()));
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
            DayView {
                date,
                state,
                holiday_name,
                remaining,
                mine: mine == Some(date),
            }
        })
        .collect()
}

/// Why an administrator's calendar year is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarYearRefusal {
    /// Only 2000 to 2100.
    YearOutOfRange,
    /// A day of another year than `year`, or one listed twice.
    DayNotInYear { day: NaiveDate, year: i32 },
    /// A holiday name over 50 characters.
    NameTooLong,
}

/// A calendar year as an administrator loads it: every day in that year once, short names.
/// The first refused day, in the order given, is the answer.
pub fn check_calendar_year(year: i32, days: &[CalendarDay]) -> Result<(), CalendarYearRefusal> {
    if !(2000..=2100).contains(&year) {
        return Err(CalendarYearRefusal::YearOutOfRange);
    }
    let mut seen = HashSet::new();
    for d in days {
        if d.date.year() != year || !seen.insert(d.date) {
            return Err(CalendarYearRefusal::DayNotInYear { day: d.date, year });
        }
        if d.name.chars().count() > 50 {
            return Err(CalendarYearRefusal::NameTooLong);
        }
    }
    Ok(())
}

/// Places in one session: 0 (closed) to 10 000.
pub fn capacity_fits(places: i32) -> bool {
    (0..=10_000).contains(&places)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calendar_year_lists_its_own_days_once_with_short_names() {
        let day = |date: NaiveDate, name: &str| CalendarDay {
            date,
            kind: DayKind::Holiday,
            name: name.to_string(),
        };
        assert_eq!(
            check_calendar_year(1999, &[]),
            Err(CalendarYearRefusal::YearOutOfRange)
        );
        assert_eq!(
            check_calendar_year(2101, &[]),
            Err(CalendarYearRefusal::YearOutOfRange)
        );
        assert_eq!(check_calendar_year(2026, &[day(d(1, 1), "元旦")]), Ok(()));
        assert_eq!(
            check_calendar_year(2027, &[day(d(1, 1), "元旦")]),
            Err(CalendarYearRefusal::DayNotInYear {
                day: d(1, 1),
                year: 2027
            })
        );
        assert_eq!(
            check_calendar_year(2026, &[day(d(1, 1), "元旦"), day(d(1, 1), "元旦")]),
            Err(CalendarYearRefusal::DayNotInYear {
                day: d(1, 1),
                year: 2026
            })
        );
        assert_eq!(
            check_calendar_year(2026, &[day(d(1, 1), &"节".repeat(51))]),
            Err(CalendarYearRefusal::NameTooLong)
        );
        assert_eq!(
            check_calendar_year(2026, &[day(d(1, 1), &"节".repeat(50))]),
            Ok(())
        );
    }

    #[test]
    fn a_session_holds_zero_to_ten_thousand_places() {
        assert!(capacity_fits(0));
        assert!(capacity_fits(10_000));
        assert!(!capacity_fits(-1));
        assert!(!capacity_fits(10_001));
    }

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
