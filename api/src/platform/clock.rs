//! The time, injectable: production reads the system clock; tests shift the clock past an
//! anniversary instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock moved by an offset: tests set it to an appointment day or past an
/// anniversary, and it keeps running from there, so events stay in order. Development and demo
/// mode expose it at `PUT /api/v1/dev/clock` for the browser tests.
#[derive(Default)]
pub struct ShiftedClock(Mutex<Duration>);

impl ShiftedClock {
    pub fn shift_to(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at - Utc::now();
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// China Standard Time has no daylight saving: a fixed +08:00 gives the local date.
pub fn local_date(now: DateTime<Utc>) -> NaiveDate {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    now.with_timezone(&offset).date_naive()
}
