//! Residence registration (居住登记) as stored.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::identity::model::IdNumber;

#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub account_id: Uuid,
    pub person_name: String,
    pub id_number: IdNumber,
    pub district_code: String,
    pub street_code: String,
    pub address_detail: String,
    pub community_code: String,
    pub moved_in_on: NaiveDate,
    pub housing_type: String,
    /// Continuous residence counts from this date (seed 000 §4.3).
    pub registered_on: NaiveDate,
}

/// A move-in date can be neither in the future nor before the person was born.
pub fn moved_in_on_is_possible(
    moved_in_on: NaiveDate,
    birth_date: NaiveDate,
    today: NaiveDate,
) -> bool {
    moved_in_on <= today && moved_in_on >= birth_date
}

#[derive(Debug, Clone)]
pub struct ResidenceRegistration {
    pub id: Uuid,
    pub fields: NewRegistration,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_move_in_date_lies_between_birth_and_today() {
        let (birth, today) = (d(1990, 1, 1), d(2026, 12, 1));
        assert!(moved_in_on_is_possible(today, birth, today));
        assert!(moved_in_on_is_possible(birth, birth, today));
        assert!(!moved_in_on_is_possible(d(2026, 12, 2), birth, today));
        assert!(!moved_in_on_is_possible(d(1989, 12, 31), birth, today));
    }
}
