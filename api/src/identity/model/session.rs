//! How long a session's proofs last: a step-up is fresh for a short window, and a staff
//! session ends when idle or when it is simply too old. Plain rules on instants, no I/O.

use chrono::{DateTime, Duration, Utc};

/// The session limits the configuration sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// How long a step-up counts, in seconds; 0 means it never does (expired at once).
    pub step_up_fresh_secs: u64,
    /// How long a clerk's or administrator's session may sit unused, in seconds.
    pub staff_idle_secs: u64,
    /// How long a clerk's or administrator's session lasts in all, in seconds.
    pub staff_session_secs: u64,
}

/// Whether `now` is less than `secs` seconds after `start`; a limit too large to add never ends.
fn within(start: DateTime<Utc>, now: DateTime<Utc>, secs: u64) -> bool {
    i64::try_from(secs)
        .ok()
        .and_then(Duration::try_seconds)
        .and_then(|d| start.checked_add_signed(d))
        .is_none_or(|end| now < end)
}

/// Whether a step-up made at `at` still counts at `now`: strictly inside the window, so a
/// window of 0 never counts.
pub fn step_up_fresh(at: Option<DateTime<Utc>>, now: DateTime<Utc>, window_secs: u64) -> bool {
    at.is_some_and(|at| at <= now && within(at, now, window_secs))
}

/// Whether a staff session started at `created_at` and last used at `last_used_at` is still
/// alive at `now` (a limit of 0 ends the session at its next use).
pub fn staff_session_alive(
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    now: DateTime<Utc>,
    limits: SessionLimits,
) -> bool {
    within(created_at, now, limits.staff_session_secs)
        && within(last_used_at, now, limits.staff_idle_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SessionLimits = SessionLimits {
        step_up_fresh_secs: 300,
        staff_idle_secs: 900,
        staff_session_secs: 36_000,
    };

    #[test]
    fn a_step_up_counts_inside_its_window_only() {
        let t0 = Utc::now();
        assert!(!step_up_fresh(None, t0, 300), "no step-up, nothing fresh");
        assert!(step_up_fresh(Some(t0), t0, 300));
        assert!(step_up_fresh(Some(t0), t0 + Duration::seconds(299), 300));
        assert!(!step_up_fresh(Some(t0), t0 + Duration::seconds(300), 300));
        assert!(
            !step_up_fresh(Some(t0), t0, 0),
            "a window of 0 is expired at once"
        );
        assert!(
            !step_up_fresh(Some(t0 + Duration::seconds(10)), t0, 300),
            "a step-up from the future does not count"
        );
    }

    #[test]
    fn a_staff_session_ends_idle_or_old() {
        let t0 = Utc::now();
        let m = Duration::minutes;
        assert!(staff_session_alive(t0, t0, t0 + m(14), LIMITS));
        assert!(
            !staff_session_alive(t0, t0, t0 + m(15), LIMITS),
            "15 minutes idle"
        );
        // Used every 10 minutes, it lives until its 10 hours are up.
        assert!(staff_session_alive(t0, t0 + m(590), t0 + m(599), LIMITS));
        assert!(!staff_session_alive(t0, t0 + m(595), t0 + m(600), LIMITS));
        let none = SessionLimits {
            staff_idle_secs: 0,
            ..LIMITS
        };
        assert!(
            !staff_session_alive(t0, t0, t0, none),
            "idle 0 ends it at once"
        );
        assert!(staff_session_alive(t0, t0, t0, LIMITS));
        let huge = SessionLimits {
            staff_idle_secs: u64::MAX,
            staff_session_secs: u64::MAX,
            ..LIMITS
        };
        assert!(staff_session_alive(t0, t0, t0 + m(60 * 24 * 365), huge));
    }
}
