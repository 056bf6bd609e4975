//! The working-day calendar: the State Council's holidays and make-up working days (调休), a
//! service point's own opening days, and the booking window that follows pre-review.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};

/// The State Council holiday calendar shipped with the server (2024 to 2026).
pub const STATE_COUNCIL_CSV: &str = include_str!("../../seed/cn-calendar-2024-2026.csv");

/// The years [`STATE_COUNCIL_CSV`] covers completely.
const STATE_COUNCIL_YEARS: [i32; 3] = [2024, 2025, 2026];

/// Pre-review takes this many national working days after submission (the Zhejiang manual §3.2.3).
pub const REVIEW_WORKING_DAYS: usize = 2;
/// The number of open days offered for booking after pre-review.
pub const BOOKABLE_DAYS: usize = 7;
/// How far ahead either search looks before giving up; far beyond any real holiday run.
const SEARCH_LIMIT_DAYS: usize = 400;

const CSV_HEADER: &str = "date,kind,name";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the calendar must start with the header line `date,kind,name`")]
    MissingHeader,
    #[error("line {line}: missing field `{field}`")]
    MissingField { line: usize, field: &'static str },
    #[error("line {line}: `{value}` is not a date in the form YYYY-MM-DD")]
    BadDate { line: usize, value: String },
    #[error("line {line}: unknown kind `{value}` (expected holiday or workday)")]
    UnknownKind { line: usize, value: String },
    #[error("line {line}: {date} is already listed on line {first_line}")]
    DuplicateDate {
        line: usize,
        date: NaiveDate,
        first_line: usize,
    },
    #[error("an opening needs at least one weekday")]
    NoWeekdays,
    #[error("weekday `{0}` is not 1 (Monday) to 7 (Sunday)")]
    BadWeekday(String),
    #[error("weekday {0} is listed twice")]
    DuplicateWeekday(u8),
    #[error("an opening needs at least one session")]
    NoSessions,
    #[error("unknown session `{0}` (expected morning or afternoon)")]
    UnknownSession(String),
    #[error("session {} is listed twice", .0.as_str())]
    DuplicateSession(Session),
}

/// What the State Council calendar says about a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (including weekend days inside a holiday run).
    Holiday,
    /// A make-up working day (调休) on a weekend.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One listed date of the calendar.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// Parses the calendar CSV (`date,kind,name`). Blank lines are skipped and CRLF is accepted;
/// the name is everything after the second comma, so it may itself contain commas.
pub fn parse_csv(text: &str) -> Result<Vec<CalendarDay>, CalendarError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    // A BOM is what spreadsheet programs put in front of exported CSV; tolerate it.
    match lines.next() {
        Some((_, header)) if header.trim_start_matches('\u{feff}') == CSV_HEADER => {}
        _ => return Err(CalendarError::MissingHeader),
    }
    let mut first_seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut days = Vec::new();
    for (line, text) in lines {
        if text.is_empty() {
            continue;
        }
        let mut fields = text.splitn(3, ',');
        let date_text = fields.next().map(str::trim).unwrap_or_default();
        if date_text.is_empty() {
            return Err(CalendarError::MissingField {
                line,
                field: "date",
            });
        }
        let kind_text = fields
            .next()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(CalendarError::MissingField {
                line,
                field: "kind",
            })?;
        let name = fields
            .next()
            .ok_or(CalendarError::MissingField {
                line,
                field: "name",
            })?
            .trim()
            .to_string();
        let date = parse_date(date_text).ok_or_else(|| CalendarError::BadDate {
            line,
            value: date_text.to_string(),
        })?;
        let kind = DayKind::parse(kind_text).ok_or_else(|| CalendarError::UnknownKind {
            line,
            value: kind_text.to_string(),
        })?;
        if let Some(&first_line) = first_seen.get(&date) {
            return Err(CalendarError::DuplicateDate {
                line,
                date,
                first_line,
            });
        }
        first_seen.insert(date, line);
        days.push(CalendarDay { date, kind, name });
    }
    Ok(days)
}

/// Strict `YYYY-MM-DD`: chrono alone would also take `2024-1-1`, which is likely a typo.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A half-day session at a service point.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Session {
    Morning,
    Afternoon,
}

impl Session {
    pub const ALL: [Session; 2] = [Session::Morning, Session::Afternoon];

    pub fn as_str(self) -> &'static str {
        match self {
            Session::Morning => "morning",
            Session::Afternoon => "afternoon",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "morning" => Some(Session::Morning),
            "afternoon" => Some(Session::Afternoon),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Session::Morning => "上午",
            Session::Afternoon => "下午",
        }
    }
}

/// A service point's own opening days and sessions (the Zhejiang manual §4.1: some open on Saturdays).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// Indexed Monday first.
    weekdays: [bool; 7],
    /// Sorted and non-empty.
    sessions: Vec<Session>,
}

impl Opening {
    /// Monday to Friday, morning and afternoon: the default for a service point.
    pub fn weekdays_only() -> Opening {
        Opening {
            weekdays: [true, true, true, true, true, false, false],
            sessions: Session::ALL.to_vec(),
        }
    }

    /// `weekdays` are ISO numbers, 1 = Monday to 7 = Sunday.
    pub fn new(weekdays: &[u8], sessions: &[Session]) -> Result<Opening, CalendarError> {
        if weekdays.is_empty() {
            return Err(CalendarError::NoWeekdays);
        }
        let mut days = [false; 7];
        for &w in weekdays {
            if !(1..=7).contains(&w) {
                return Err(CalendarError::BadWeekday(w.to_string()));
            }
            let slot = &mut days[usize::from(w - 1)];
            if *slot {
                return Err(CalendarError::DuplicateWeekday(w));
            }
            *slot = true;
        }
        if sessions.is_empty() {
            return Err(CalendarError::NoSessions);
        }
        let mut sorted = sessions.to_vec();
        sorted.sort();
        if let Some(pair) = sorted.windows(2).find(|p| p[0] == p[1]) {
            return Err(CalendarError::DuplicateSession(pair[0]));
        }
        Ok(Opening {
            weekdays: days,
            sessions: sorted,
        })
    }

    /// ISO weekday numbers (1 = Monday), ascending.
    pub fn weekdays(&self) -> Vec<u8> {
        (1u8..=7)
            .filter(|&w| self.weekdays[usize::from(w - 1)])
            .collect()
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    pub fn opens_on(&self, weekday: Weekday) -> bool {
        self.weekdays[weekday.num_days_from_monday() as usize]
    }

    pub fn has_session(&self, session: Session) -> bool {
        self.sessions.contains(&session)
    }

    /// Compact storage form, e.g. `("123456", "morning,afternoon")`.
    pub fn to_db(&self) -> (String, String) {
        let weekdays = self
            .weekdays()
            .iter()
            .map(|w| char::from(b'0' + w))
            .collect();
        let sessions = self
            .sessions
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        (weekdays, sessions)
    }

    /// The inverse of [`Opening::to_db`], validated like [`Opening::new`].
    pub fn from_db(weekdays: &str, sessions: &str) -> Result<Opening, CalendarError> {
        let days = weekdays
            .trim()
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d @ 1..=7) => Ok(d as u8),
                _ => Err(CalendarError::BadWeekday(c.to_string())),
            })
            .collect::<Result<Vec<u8>, _>>()?;
        let sessions = sessions
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Session::parse(s).ok_or_else(|| CalendarError::UnknownSession(s.to_string())))
            .collect::<Result<Vec<Session>, _>>()?;
        Opening::new(&days, &sessions)
    }
}

/// How a date looks at one service point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointDay {
    Open,
    /// A public holiday: every point is closed.
    Holiday {
        name: String,
    },
    /// Not one of the point's opening days.
    RestDay,
}

/// The days after a submission: pre-review, then the days the applicant may book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingWindow {
    /// National working days spent on pre-review, ascending.
    pub review_days: Vec<NaiveDate>,
    /// Days the point is open after pre-review, ascending; normally [`BOOKABLE_DAYS`] of them.
    pub bookable: Vec<NaiveDate>,
}

impl BookingWindow {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.bookable.contains(&date)
    }

    pub fn first(&self) -> Option<NaiveDate> {
        self.bookable.first().copied()
    }

    pub fn last(&self) -> Option<NaiveDate> {
        self.bookable.last().copied()
    }
}

/// The national calendar: listed holidays and make-up working days over a set of known years.
#[derive(Clone, Debug, Default)]
pub struct WorkingCalendar {
    known_years: BTreeSet<i32>,
    days: BTreeMap<NaiveDate, CalendarDay>,
}

impl WorkingCalendar {
    /// `known_years` are the years whose holidays have been published and loaded; a listed day
    /// counts even outside them. A later duplicate date replaces an earlier one.
    pub fn new(
        known_years: impl IntoIterator<Item = i32>,
        days: impl IntoIterator<Item = CalendarDay>,
    ) -> WorkingCalendar {
        WorkingCalendar {
            known_years: known_years.into_iter().collect(),
            days: days.into_iter().map(|d| (d.date, d)).collect(),
        }
    }

    /// The embedded State Council calendar for 2024 to 2026.
    pub fn state_council() -> WorkingCalendar {
        // The CSV is compiled in and a unit test parses it, so this cannot fail at run time.
        let days = parse_csv(STATE_COUNCIL_CSV).expect("embedded calendar CSV is valid");
        WorkingCalendar::new(STATE_COUNCIL_YEARS, days)
    }

    pub fn is_known_year(&self, year: i32) -> bool {
        self.known_years.contains(&year)
    }

    /// Ascending.
    pub fn known_years(&self) -> Vec<i32> {
        self.known_years.iter().copied().collect()
    }

    pub fn day(&self, date: NaiveDate) -> Option<&CalendarDay> {
        self.days.get(&date)
    }

    /// All listed days, by date.
    pub fn days(&self) -> impl Iterator<Item = &CalendarDay> {
        self.days.values()
    }

    /// The national rule: a listed holiday is not a working day, a listed make-up day is,
    /// anything else is a working day from Monday to Friday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.day(date).map(|d| d.kind) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => date.weekday().num_days_from_monday() < 5,
        }
    }

    /// A holiday closes every point (even one open on Saturdays); a make-up working day opens
    /// every point; otherwise the point's own weekdays decide.
    pub fn point_day(&self, opening: &Opening, date: NaiveDate) -> PointDay {
        match self.day(date) {
            Some(CalendarDay {
                kind: DayKind::Holiday,
                name,
                ..
            }) => PointDay::Holiday { name: name.clone() },
            Some(CalendarDay {
                kind: DayKind::Workday,
                ..
            }) => PointDay::Open,
            None if opening.opens_on(date.weekday()) => PointDay::Open,
            None => PointDay::RestDay,
        }
    }

    /// Review days are the first [`REVIEW_WORKING_DAYS`] national working days strictly after
    /// `submitted_on`; bookable days are the first [`BOOKABLE_DAYS`] days strictly after the
    /// last review day on which the point is open. Each search stops after a bounded number of
    /// days and returns what it found, so a window may come back short (never in practice).
    pub fn booking_window(&self, opening: &Opening, submitted_on: NaiveDate) -> BookingWindow {
        let review_days: Vec<NaiveDate> = days_after(submitted_on)
            .filter(|&d| self.is_working_day(d))
            .take(REVIEW_WORKING_DAYS)
            .collect();
        // Booking cannot start before pre-review has its full time.
        let bookable = match review_days.last() {
            Some(&last) if review_days.len() == REVIEW_WORKING_DAYS => days_after(last)
                .filter(|&d| self.point_day(opening, d) == PointDay::Open)
                .take(BOOKABLE_DAYS)
                .collect(),
            _ => Vec::new(),
        };
        BookingWindow {
            review_days,
            bookable,
        }
    }
}

/// The days strictly after `date`, at most [`SEARCH_LIMIT_DAYS`] of them.
fn days_after(date: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    date.iter_days().skip(1).take(SEARCH_LIMIT_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ds(list: &[&str]) -> Vec<NaiveDate> {
        list.iter().map(|s| d(s)).collect()
    }

    fn saturday_point() -> Opening {
        Opening::new(&[1, 2, 3, 4, 5, 6], &[Session::Morning]).unwrap()
    }

    #[test]
    fn embedded_csv_parses_with_108_rows() {
        let days = parse_csv(STATE_COUNCIL_CSV).unwrap();
        assert_eq!(days.len(), 108);
        let cal = WorkingCalendar::state_council();
        assert_eq!(cal.days().count(), 108);
        assert_eq!(cal.known_years(), vec![2024, 2025, 2026]);
        let years: BTreeSet<i32> = days.iter().map(|d| d.date.year()).collect();
        assert_eq!(years.into_iter().collect::<Vec<_>>(), cal.known_years());
    }

    #[test]
    fn spring_festival_2026() {
        let cal = WorkingCalendar::state_council();
        assert_eq!(d("2026-02-14").weekday(), Weekday::Sat);
        assert_eq!(d("2026-02-28").weekday(), Weekday::Sat);
        assert!(cal.is_working_day(d("2026-02-14")));
        assert!(cal.is_working_day(d("2026-02-28")));
        for day in d("2026-02-15")
            .iter_days()
            .take_while(|&x| x <= d("2026-02-23"))
        {
            assert!(!cal.is_working_day(day), "{day} should be a holiday");
        }
        assert!(cal.is_working_day(d("2026-02-24")));
        assert_eq!(
            cal.day(d("2026-02-17")).map(|x| x.name.as_str()),
            Some("Spring Festival")
        );
        // An ordinary Saturday and Friday around it.
        assert!(!cal.is_working_day(d("2026-03-07")));
        assert!(cal.is_working_day(d("2026-03-06")));
    }

    #[test]
    fn window_from_2026_02_12_skips_the_festival() {
        let cal = WorkingCalendar::state_council();
        assert_eq!(d("2026-02-12").weekday(), Weekday::Thu);
        let w = cal.booking_window(&Opening::weekdays_only(), d("2026-02-12"));
        // Fri 13th and the make-up Sat 14th are the review days.
        assert_eq!(w.review_days, ds(&["2026-02-13", "2026-02-14"]));
        // 15th..23rd holiday; Tue 24th..Fri 27th; make-up Sat 28th; Sun 1 Mar rest; Mon 2, Tue 3.
        let expected = ds(&[
            "2026-02-24",
            "2026-02-25",
            "2026-02-26",
            "2026-02-27",
            "2026-02-28",
            "2026-03-02",
            "2026-03-03",
        ]);
        assert_eq!(w.bookable, expected);
        assert_eq!(w.first(), Some(d("2026-02-24")));
        assert_eq!(w.last(), Some(d("2026-03-03")));
        assert!(w.contains(d("2026-02-28")));
        assert!(!w.contains(d("2026-03-01")));
        assert!(!w.contains(d("2026-02-14")));
    }

    #[test]
    fn saturday_point_gets_ordinary_saturdays_but_not_holiday_ones() {
        let cal = WorkingCalendar::state_council();
        let sat = saturday_point();
        assert_eq!(d("2026-02-21").weekday(), Weekday::Sat);
        assert_eq!(
            cal.point_day(&sat, d("2026-02-21")),
            PointDay::Holiday {
                name: "Spring Festival".into()
            }
        );
        let w = cal.booking_window(&sat, d("2026-02-12"));
        assert!(!w.contains(d("2026-02-21")));
        assert_eq!(w.first(), Some(d("2026-02-24")));

        // Wed 4 Mar 2026: review Thu 5, Fri 6; Sat 7 is an ordinary Saturday.
        let w = cal.booking_window(&sat, d("2026-03-04"));
        assert_eq!(w.review_days, ds(&["2026-03-05", "2026-03-06"]));
        assert_eq!(
            w.bookable,
            ds(&[
                "2026-03-07",
                "2026-03-09",
                "2026-03-10",
                "2026-03-11",
                "2026-03-12",
                "2026-03-13",
                "2026-03-14",
            ])
        );
        let weekdays = cal.booking_window(&Opening::weekdays_only(), d("2026-03-04"));
        assert_eq!(
            weekdays.bookable,
            ds(&[
                "2026-03-09",
                "2026-03-10",
                "2026-03-11",
                "2026-03-12",
                "2026-03-13",
                "2026-03-16",
                "2026-03-17",
            ])
        );
        assert_eq!(
            cal.point_day(&Opening::weekdays_only(), d("2026-03-07")),
            PointDay::RestDay
        );
    }

    #[test]
    fn make_up_days_open_a_weekday_point() {
        let cal = WorkingCalendar::state_council();
        let mf = Opening::weekdays_only();
        assert_eq!(d("2026-01-04").weekday(), Weekday::Sun);
        assert_eq!(cal.point_day(&mf, d("2026-01-04")), PointDay::Open);
        assert_eq!(cal.point_day(&mf, d("2026-02-28")), PointDay::Open);
        // Fri 26 Dec 2025: review Mon 29, Tue 30; Wed 31; 1-3 Jan holiday; make-up Sun 4 Jan.
        let w = cal.booking_window(&mf, d("2025-12-26"));
        assert_eq!(w.review_days, ds(&["2025-12-29", "2025-12-30"]));
        assert_eq!(
            w.bookable,
            ds(&[
                "2025-12-31",
                "2026-01-04",
                "2026-01-05",
                "2026-01-06",
                "2026-01-07",
                "2026-01-08",
                "2026-01-09",
            ])
        );
        // A make-up day even opens a point that never opens on that weekday.
        let sundays_closed_mon_only = Opening::new(&[1], &[Session::Afternoon]).unwrap();
        assert_eq!(
            cal.point_day(&sundays_closed_mon_only, d("2026-01-04")),
            PointDay::Open
        );
    }

    #[test]
    fn review_counts_make_up_sunday() {
        let cal = WorkingCalendar::state_council();
        // Wed 31 Dec 2025: 1-3 Jan are holidays, Sun 4 Jan is a make-up day, then Mon 5.
        let w = cal.booking_window(&Opening::weekdays_only(), d("2025-12-31"));
        assert_eq!(w.review_days, ds(&["2026-01-04", "2026-01-05"]));
        assert_eq!(w.first(), Some(d("2026-01-06")));
    }

    #[test]
    fn years_without_data_fall_back_to_monday_to_friday() {
        let cal = WorkingCalendar::state_council();
        assert!(!cal.is_known_year(2027));
        assert!(!cal.is_known_year(2023));
        assert!(cal.is_known_year(2026));
        // 1 Jan 2027 is a Friday: with no data it is an ordinary working day.
        assert_eq!(d("2027-01-01").weekday(), Weekday::Fri);
        assert!(cal.is_working_day(d("2027-01-01")));
        assert!(!cal.is_working_day(d("2027-01-02")));
        assert_eq!(d("2023-10-02").weekday(), Weekday::Mon);
        assert!(cal.is_working_day(d("2023-10-02")));
        assert!(!cal.is_working_day(d("2023-10-01")));
        let w = cal.booking_window(&Opening::weekdays_only(), d("2026-12-30"));
        assert_eq!(w.review_days, ds(&["2026-12-31", "2027-01-01"]));
        assert_eq!(
            w.bookable,
            ds(&[
                "2027-01-04",
                "2027-01-05",
                "2027-01-06",
                "2027-01-07",
                "2027-01-08",
                "2027-01-11",
                "2027-01-12",
            ])
        );
        let empty = WorkingCalendar::default();
        assert!(empty.known_years().is_empty());
        assert!(empty.is_working_day(d("2026-02-17")));
    }

    #[test]
    fn custom_calendar_adds_a_year() {
        let cal = WorkingCalendar::new(
            [2027],
            [CalendarDay {
                date: d("2027-01-01"),
                kind: DayKind::Holiday,
                name: String::new(),
            }],
        );
        assert!(cal.is_known_year(2027));
        assert!(!cal.is_working_day(d("2027-01-01")));
        assert_eq!(
            cal.point_day(&Opening::weekdays_only(), d("2027-01-01")),
            PointDay::Holiday {
                name: String::new()
            }
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        assert_eq!(parse_csv(""), Err(CalendarError::MissingHeader));
        assert_eq!(
            parse_csv("2024-01-01,holiday,x\n"),
            Err(CalendarError::MissingHeader)
        );
        let h = "date,kind,name\n";
        assert_eq!(
            parse_csv(&format!("{h}2024-01-01,holiday,a\n2024-13-01,holiday,b\n")),
            Err(CalendarError::BadDate {
                line: 3,
                value: "2024-13-01".into()
            })
        );
        assert_eq!(
            parse_csv(&format!("{h}2024-1-1,holiday,a\n")),
            Err(CalendarError::BadDate {
                line: 2,
                value: "2024-1-1".into()
            })
        );
        assert_eq!(
            parse_csv(&format!("{h}2024-01-01,vacation,a\n")),
            Err(CalendarError::UnknownKind {
                line: 2,
                value: "vacation".into()
            })
        );
        assert_eq!(
            parse_csv(&format!(
                "{h}2024-01-01,holiday,a\n\n2024-01-01,workday,b\n"
            )),
            Err(CalendarError::DuplicateDate {
                line: 4,
                date: d("2024-01-01"),
                first_line: 2
            })
        );
        assert_eq!(
            parse_csv(&format!("{h}2024-01-01,holiday\n")),
            Err(CalendarError::MissingField {
                line: 2,
                field: "name"
            })
        );
        assert_eq!(
            parse_csv(&format!("{h}2024-01-01\n")),
            Err(CalendarError::MissingField {
                line: 2,
                field: "kind"
            })
        );
        assert_eq!(
            parse_csv(&format!("{h},holiday,a\n")),
            Err(CalendarError::MissingField {
                line: 2,
                field: "date"
            })
        );
        let err = parse_csv(&format!("{h}2024-01-01,vacation,a\n")).unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }

    #[test]
    fn csv_accepts_empty_names_crlf_and_bom() {
        let days = parse_csv(
            "\u{feff}date,kind,name\r\n2024-01-01,holiday,\r\n2024-02-04,workday,A, B\r\n",
        )
        .unwrap();
        assert_eq!(
            days,
            vec![
                CalendarDay {
                    date: d("2024-01-01"),
                    kind: DayKind::Holiday,
                    name: String::new()
                },
                CalendarDay {
                    date: d("2024-02-04"),
                    kind: DayKind::Workday,
                    name: "A, B".into()
                },
            ]
        );
        assert_eq!(parse_csv("date,kind,name"), Ok(vec![]));
    }

    #[test]
    fn kinds_and_sessions_round_trip() {
        for k in [DayKind::Holiday, DayKind::Workday] {
            assert_eq!(DayKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        for s in Session::ALL {
            assert_eq!(Session::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(Session::Morning.label_zh(), "上午");
        assert_eq!(Session::Afternoon.label_zh(), "下午");
        assert_eq!(Session::parse("Morning"), None);
        assert_eq!(DayKind::parse(""), None);
    }

    #[test]
    fn opening_validation() {
        assert_eq!(
            Opening::new(&[], &Session::ALL),
            Err(CalendarError::NoWeekdays)
        );
        assert_eq!(
            Opening::new(&[0], &Session::ALL),
            Err(CalendarError::BadWeekday("0".into()))
        );
        assert_eq!(
            Opening::new(&[8], &Session::ALL),
            Err(CalendarError::BadWeekday("8".into()))
        );
        assert_eq!(
            Opening::new(&[1, 3, 1], &Session::ALL),
            Err(CalendarError::DuplicateWeekday(1))
        );
        assert_eq!(Opening::new(&[1], &[]), Err(CalendarError::NoSessions));
        assert_eq!(
            Opening::new(&[1], &[Session::Morning, Session::Morning]),
            Err(CalendarError::DuplicateSession(Session::Morning))
        );
        let o = Opening::new(&[6, 1, 7], &[Session::Afternoon, Session::Morning]).unwrap();
        assert_eq!(o.weekdays(), vec![1, 6, 7]);
        assert_eq!(o.sessions(), &[Session::Morning, Session::Afternoon]);
        assert!(o.opens_on(Weekday::Sun));
        assert!(!o.opens_on(Weekday::Tue));
        let m = Opening::new(&[2], &[Session::Morning]).unwrap();
        assert!(m.has_session(Session::Morning));
        assert!(!m.has_session(Session::Afternoon));
        assert_eq!(
            Opening::weekdays_only(),
            Opening::new(&[1, 2, 3, 4, 5], &Session::ALL).unwrap()
        );
    }

    #[test]
    fn opening_db_round_trip() {
        let sat = Opening::new(&[1, 2, 3, 4, 5, 6], &Session::ALL).unwrap();
        let (w, s) = sat.to_db();
        assert_eq!((w.as_str(), s.as_str()), ("123456", "morning,afternoon"));
        assert_eq!(Opening::from_db(&w, &s), Ok(sat));
        let am = Opening::new(&[7], &[Session::Morning]).unwrap();
        let (w, s) = am.to_db();
        assert_eq!((w.as_str(), s.as_str()), ("7", "morning"));
        assert_eq!(Opening::from_db(&w, &s), Ok(am));
        assert_eq!(
            Opening::from_db("", "morning"),
            Err(CalendarError::NoWeekdays)
        );
        assert_eq!(
            Opening::from_db("128", "morning"),
            Err(CalendarError::BadWeekday("8".into()))
        );
        assert_eq!(
            Opening::from_db("1x", "morning"),
            Err(CalendarError::BadWeekday("x".into()))
        );
        assert_eq!(
            Opening::from_db("11", "morning"),
            Err(CalendarError::DuplicateWeekday(1))
        );
        assert_eq!(Opening::from_db("1", ""), Err(CalendarError::NoSessions));
        assert_eq!(
            Opening::from_db("1", "morning,evening"),
            Err(CalendarError::UnknownSession("evening".into()))
        );
    }

    #[test]
    fn window_search_is_bounded() {
        // A calendar where every day of a long stretch is a holiday still terminates.
        let start = d("2030-01-01");
        let days = start.iter_days().take(1000).map(|date| CalendarDay {
            date,
            kind: DayKind::Holiday,
            name: "x".into(),
        });
        let cal = WorkingCalendar::new([2030], days);
        let w = cal.booking_window(&Opening::weekdays_only(), start);
        assert!(w.review_days.is_empty());
        assert!(w.bookable.is_empty());
        assert_eq!(w.first(), None);
        // Near the end of chrono's range the iterator simply runs out.
        let w =
            WorkingCalendar::default().booking_window(&Opening::weekdays_only(), NaiveDate::MAX);
        assert!(w.review_days.is_empty());
    }
}
