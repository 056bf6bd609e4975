//! The counter's rules, as plain functions.

use chrono::{DateTime, Duration, Utc};

use crate::casework::applications::model::{Application, Status};

/// Pre-review is due within 48 hours of submission (docs/product.md §4.3).
pub const REVIEW_HOURS: i64 = 48;

/// When the application's pre-review is due, once it is submitted.
pub fn review_due_at(a: &Application) -> Option<DateTime<Utc>> {
    a.submitted_at.map(|s| s + Duration::hours(REVIEW_HOURS))
}

/// Pre-review is overdue when a booked application still waits for it past that time.
pub fn review_overdue(a: &Application, now: DateTime<Utc>) -> bool {
    a.status == Status::Booked && review_due_at(a).is_some_and(|d| d < now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casework::applications::model::{ApplicationFields, BusinessType};
    use crate::identity::model::Sex;
    use crate::identity::model::{IdNumber, PhoneNumber};
    use chrono::Duration;
    use uuid::Uuid;

    fn application(status: Status, submitted_hours_ago: i64, now: DateTime<Utc>) -> Application {
        Application {
            id: Uuid::nil(),
            number: "JZ2026112400001".into(),
            account_id: Uuid::nil(),
            fields: ApplicationFields {
                business_type: BusinessType::First,
                applicant_name: "王五".into(),
                applicant_id_number: IdNumber::parse("330102199001010012").unwrap(),
                applicant_sex: Sex::Male,
                phone: PhoneNumber::parse("13900000000").unwrap(),
                district_code: "330102".into(),
                street_code: "330102001".into(),
                address_detail: "四宜路1号".into(),
                community_code: "330102001001".into(),
                service_point_id: Uuid::nil(),
                employer: None,
                condition: Some("employment".into()),
            },
            status,
            review_note: None,
            submitted_at: Some(now - Duration::hours(submitted_hours_ago)),
            reviewed_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn pre_review_is_overdue_after_48_hours_while_awaiting_it() {
        let now = Utc::now();
        assert!(!review_overdue(&application(Status::Booked, 47, now), now));
        assert!(review_overdue(&application(Status::Booked, 49, now), now));
        assert!(!review_overdue(&application(Status::Passed, 49, now), now));
        let due = review_due_at(&application(Status::Booked, 10, now));
        assert_eq!(due, Some(now - Duration::hours(10) + Duration::hours(48)));
    }
}
