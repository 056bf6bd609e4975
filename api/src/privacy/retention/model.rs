//! The retention policy (configurable, `[retention]`) and when each kind of data is due.
//!
//! - Proof files go `proof_files_days` after their application ended: issued, cancelled or a
//!   no-show (its `ended_at`), or returned and left: a returned application not resubmitted
//!   within `returned_abandoned_days` of its return counts as abandoned from then on.
//! - A draft (never submitted) and its files go `draft_days` after it was started: the jobs
//!   cancel it then (telling the applicant), and this policy deletes it in the same round.
//! - Notifications go `notifications_days` after they were created; the SMS body of one (the
//!   phone, the template's parameters, the provider's error words) `sms_bodies_days` after it
//!   was sent or given up, while the in-app notice stays until its own time.
//! - Sessions and ceremonies live in the ephemeral store and are dropped when they expire.
//!
//! Never deleted: the audit log (append-only) and an issued permit with the application it
//! names; only the application's proof files go.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::casework::applications::model::{DRAFT_LIFETIME_DAYS, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days proof files are kept after their application ended.
    pub proof_files_days: u32,
    /// Days a draft is kept, with its files, from when it was started.
    pub draft_days: u32,
    /// Days a returned application may wait to be resubmitted before it counts as abandoned
    /// (ended).
    pub returned_abandoned_days: u32,
    /// Days a notification is kept.
    pub notifications_days: u32,
    /// Days the SMS body of a notification is kept after it was sent or given up.
    pub sms_bodies_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            proof_files_days: 90,
            draft_days: DRAFT_LIFETIME_DAYS as u32,
            returned_abandoned_days: DRAFT_LIFETIME_DAYS as u32,
            notifications_days: 365,
            sms_bodies_days: 30,
        }
    }
}

/// The longest any setting may be (a century): longer is surely a typo.
pub const MAX_DAYS: u32 = 36_500;

impl RetentionPolicy {
    /// Every period is between one day and [`MAX_DAYS`]; the error names the setting.
    pub fn check(&self) -> Result<(), String> {
        for (name, days) in [
            ("proof_files_days", self.proof_files_days),
            ("draft_days", self.draft_days),
            ("returned_abandoned_days", self.returned_abandoned_days),
            ("notifications_days", self.notifications_days),
            ("sms_bodies_days", self.sms_bodies_days),
        ] {
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(format!(
                    "retention.{name} must be between 1 and {MAX_DAYS} days, not {days}"
                ));
            }
        }
        Ok(())
    }

    /// The moments before which each kind of data is due, as of `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        let days = |d: u32| now - Duration::days(i64::from(d));
        Cutoffs {
            ended: days(self.proof_files_days),
            returned: days(self.returned_abandoned_days + self.proof_files_days),
            drafts: days(self.draft_days),
            notifications: days(self.notifications_days),
            sms_bodies: days(self.sms_bodies_days),
        }
    }

    /// When an application's proof files become due, if it is on its way to an end. The store's
    /// queries select exactly the applications for which this is before `now`.
    pub fn proof_files_due_at(&self, a: &ApplicationDates) -> Option<DateTime<Utc>> {
        let after = |at: DateTime<Utc>, d: u32| at + Duration::days(i64::from(d));
        let as_draft = (a.status == Status::Cancelled && a.submitted_at.is_none())
            .then(|| after(a.created_at, self.draft_days));
        let as_ended = match a.status {
            s if s.has_ended() => a.ended_at.map(|at| after(at, self.proof_files_days)),
            Status::Returned => a
                .reviewed_at
                .map(|at| after(at, self.returned_abandoned_days + self.proof_files_days)),
            _ => None,
        };
        [as_draft, as_ended].into_iter().flatten().min()
    }

    /// When a never-submitted application itself is deleted (once its files are gone).
    pub fn draft_due_at(&self, a: &ApplicationDates) -> Option<DateTime<Utc>> {
        (a.status == Status::Cancelled && a.submitted_at.is_none())
            .then(|| a.created_at + Duration::days(i64::from(self.draft_days)))
    }
}

/// Data dated before these moments is due (strictly before: on the day itself it stays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// Applications that ended before this lose their proof files.
    pub ended: DateTime<Utc>,
    /// Applications returned before this and never resubmitted lose their proof files.
    pub returned: DateTime<Utc>,
    /// Drafts started before this go, with their files.
    pub drafts: DateTime<Utc>,
    /// Notifications created before this go.
    pub notifications: DateTime<Utc>,
    /// SMS sent or given up before this lose their body.
    pub sms_bodies: DateTime<Utc>,
}

/// The dates of an application that decide its retention: no personal field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplicationDates {
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// What one round removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Proof files deleted from object storage, with their rows.
    pub proof_files: usize,
    /// Proof files whose deletion failed: their rows stay, retried next round.
    pub proof_files_failed: usize,
    /// Never-submitted applications deleted.
    pub drafts: usize,
    pub notifications: usize,
    /// Notifications whose SMS body was erased.
    pub sms_bodies: usize,
    /// Expired entries the in-process ephemeral store dropped (Redis drops its own).
    pub ephemeral: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::days(day)
    }

    fn dates(status: Status) -> ApplicationDates {
        ApplicationDates {
            status,
            created_at: at(0),
            submitted_at: Some(at(1)),
            reviewed_at: None,
            ended_at: None,
        }
    }

    #[test]
    fn the_defaults_are_the_issues() {
        let p = RetentionPolicy::default();
        assert_eq!(
            (
                p.proof_files_days,
                p.draft_days,
                p.notifications_days,
                p.sms_bodies_days
            ),
            (90, 30, 365, 30)
        );
        assert_eq!(p.draft_days as i64, DRAFT_LIFETIME_DAYS);
        assert!(p.check().is_ok());
    }

    #[test]
    fn a_period_out_of_range_is_refused_by_name() {
        let zero = RetentionPolicy {
            sms_bodies_days: 0,
            ..RetentionPolicy::default()
        };
        assert!(
            zero.check()
                .unwrap_err()
                .contains("retention.sms_bodies_days")
        );
        let huge = RetentionPolicy {
            proof_files_days: MAX_DAYS + 1,
            ..RetentionPolicy::default()
        };
        assert!(huge.check().unwrap_err().contains("proof_files_days"));
    }

    #[test]
    fn files_of_an_ended_application_go_90_days_after_its_end() {
        let p = RetentionPolicy::default();
        for status in [Status::Issued, Status::Cancelled, Status::NoShow] {
            let a = ApplicationDates {
                ended_at: Some(at(10)),
                ..dates(status)
            };
            let due = p.proof_files_due_at(&a).unwrap();
            assert_eq!(due, at(100), "{status:?}");
            // The cutoff a day before selects nothing, the moment after selects it.
            assert!(a.ended_at.unwrap() >= p.cutoffs(at(99)).ended);
            assert!(a.ended_at.unwrap() < p.cutoffs(at(100) + Duration::seconds(1)).ended);
        }
    }

    #[test]
    fn files_of_an_application_in_progress_stay() {
        let p = RetentionPolicy::default();
        for status in [
            Status::Draft,
            Status::Submitted,
            Status::Booked,
            Status::Passed,
            Status::CheckedIn,
        ] {
            let a = ApplicationDates {
                reviewed_at: Some(at(2)),
                ..dates(status)
            };
            assert_eq!(p.proof_files_due_at(&a), None, "{status:?}");
            assert_eq!(p.draft_due_at(&a), None, "{status:?}");
        }
    }

    #[test]
    fn a_returned_application_left_alone_ends_30_days_after_the_return() {
        let p = RetentionPolicy::default();
        let a = ApplicationDates {
            reviewed_at: Some(at(5)),
            ..dates(Status::Returned)
        };
        assert_eq!(p.proof_files_due_at(&a), Some(at(5 + 30 + 90)));
        assert!(a.reviewed_at.unwrap() >= p.cutoffs(at(124)).returned);
        assert!(a.reviewed_at.unwrap() < p.cutoffs(at(126)).returned);
        assert_eq!(p.draft_due_at(&a), None, "the application itself stays");
    }

    #[test]
    fn a_draft_goes_with_its_files_30_days_after_it_was_started() {
        let p = RetentionPolicy::default();
        let expired = ApplicationDates {
            submitted_at: None,
            ended_at: Some(at(30)),
            ..dates(Status::Cancelled)
        };
        assert_eq!(p.proof_files_due_at(&expired), Some(at(30)));
        assert_eq!(p.draft_due_at(&expired), Some(at(30)));
        // Withdrawn on its second day: still 30 days from the start, not 90 from the end.
        let withdrawn = ApplicationDates {
            ended_at: Some(at(1)),
            ..expired
        };
        assert_eq!(p.proof_files_due_at(&withdrawn), Some(at(30)));
        // A submitted application that was cancelled is no draft: 90 days after its end.
        let cancelled = ApplicationDates {
            ended_at: Some(at(3)),
            ..dates(Status::Cancelled)
        };
        assert_eq!(p.proof_files_due_at(&cancelled), Some(at(93)));
        assert_eq!(p.draft_due_at(&cancelled), None);
    }

    #[test]
    fn notifications_and_sms_bodies_have_their_own_cutoffs() {
        let c = RetentionPolicy::default().cutoffs(at(400));
        assert_eq!(c.notifications, at(400 - 365));
        assert_eq!(c.sms_bodies, at(400 - 30));
        assert_eq!(c.drafts, at(400 - 30));
    }
}
