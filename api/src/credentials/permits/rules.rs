//! The yearly endorsement (签注, the Wenzhou article §4) as plain date rules.
//!
//! A permit is valid until the next anniversary of its first issue. The endorsement window is
//! the month before that date; endorsing moves validity one year on. Past the date the permit
//! is suspended (中止使用); a late endorsement within 2 years of the suspension restores it to
//! the next anniversary; after that the holder applies again.

use chrono::{Months, NaiveDate};

/// How long before the due date the endorsement window opens.
pub const WINDOW: Months = Months::new(1);
/// How long after suspension a late endorsement still restores the permit.
pub const RESTORE_LIMIT: Months = Months::new(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Valid,
    /// Inside the month before the due date.
    EndorsementDue,
    /// Past the due date; `since` is that date.
    Suspended {
        since: NaiveDate,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too early: the window opens on this date.
    NotDue { opens_on: NaiveDate },
    /// Suspended for more than two years: apply again (再次申领).
    ReapplyRequired,
}

/// The `n`th anniversary of `first` (29 February falls on 28 February in common years).
pub fn anniversary(first: NaiveDate, n: u32) -> NaiveDate {
    first
        .checked_add_months(Months::new(12 * n))
        .unwrap_or(NaiveDate::MAX)
}

/// The first anniversary of `first` strictly after `day`.
pub fn anniversary_after(first: NaiveDate, day: NaiveDate) -> NaiveDate {
    (1..=200)
        .map(|n| anniversary(first, n))
        .find(|a| *a > day)
        .unwrap_or(NaiveDate::MAX)
}

pub fn window_opens(valid_until: NaiveDate) -> NaiveDate {
    valid_until
        .checked_sub_months(WINDOW)
        .unwrap_or(valid_until)
}

pub fn state(valid_until: NaiveDate, today: NaiveDate) -> State {
    if today > valid_until {
        State::Suspended { since: valid_until }
    } else if today >= window_opens(valid_until) {
        State::EndorsementDue
    } else {
        State::Valid
    }
}

/// The new end of validity if the holder endorses `today`.
pub fn endorse(
    first_issued: NaiveDate,
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, Refusal> {
    match state(valid_until, today) {
        State::Valid => Err(Refusal::NotDue {
            opens_on: window_opens(valid_until),
        }),
        State::EndorsementDue => Ok(anniversary_after(first_issued, valid_until)),
        State::Suspended { since } => {
            let limit = since.checked_add_months(RESTORE_LIMIT).unwrap_or(since);
            if today > limit {
                Err(Refusal::ReapplyRequired)
            } else {
                Ok(anniversary_after(first_issued, today))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_window_is_the_month_before_the_anniversary() {
        let first = d(2026, 3, 15);
        let until = anniversary(first, 1);
        assert_eq!(until, d(2027, 3, 15));
        assert_eq!(
            endorse(first, until, d(2027, 2, 14)),
            Err(Refusal::NotDue {
                opens_on: d(2027, 2, 15)
            })
        );
        assert_eq!(endorse(first, until, d(2027, 2, 15)), Ok(d(2028, 3, 15)));
        assert_eq!(endorse(first, until, d(2027, 3, 15)), Ok(d(2028, 3, 15)));
        assert_eq!(state(until, d(2027, 3, 15)), State::EndorsementDue);
        assert_eq!(
            state(until, d(2027, 3, 16)),
            State::Suspended { since: until }
        );
    }

    #[test]
    fn a_late_endorsement_restores_within_two_years_only() {
        let first = d(2026, 3, 15);
        let until = d(2027, 3, 15);
        // Suspended since 2027-03-15; endorsed 2027-08-01: valid to the next anniversary.
        assert_eq!(endorse(first, until, d(2027, 8, 1)), Ok(d(2028, 3, 15)));
        assert_eq!(endorse(first, until, d(2029, 3, 15)), Ok(d(2030, 3, 15)));
        assert_eq!(
            endorse(first, until, d(2029, 3, 16)),
            Err(Refusal::ReapplyRequired)
        );
    }

    #[test]
    fn a_leap_day_permit_has_anniversaries_on_28_february() {
        let first = d(2028, 2, 29);
        assert_eq!(anniversary(first, 1), d(2029, 2, 28));
        assert_eq!(anniversary(first, 4), d(2032, 2, 29));
        assert_eq!(anniversary_after(first, d(2029, 2, 28)), d(2030, 2, 28));
    }
}
