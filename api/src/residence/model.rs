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
    /// Continuous residence counts from this date (the Zhejiang manual §4.3).
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

/// The person an operation is about: the account holder unless another person is named.
pub struct Person {
    pub name: String,
    pub id_number: IdNumber,
}

/// Whom a form names: nobody (the account holder), or another person by name and ID number.
#[derive(Debug, PartialEq, Eq)]
pub enum NamedPerson<'a> {
    Holder,
    Other {
        name: &'a str,
        id_number: &'a str,
    },
    /// Only one of the two: the form is incomplete.
    Incomplete,
}

/// Blank fields count as absent.
pub fn named_person<'a>(name: Option<&'a str>, id_number: Option<&'a str>) -> NamedPerson<'a> {
    match (
        name.filter(|n| !n.trim().is_empty()),
        id_number.filter(|i| !i.trim().is_empty()),
    ) {
        (None, None) => NamedPerson::Holder,
        (Some(name), Some(id_number)) => NamedPerson::Other { name, id_number },
        _ => NamedPerson::Incomplete,
    }
}

/// A residence address chosen level by level: district → street → detail down to the room,
/// and the community (社区/村委会) under a street of the same district.
#[derive(Debug, Clone)]
pub struct ResidenceAddress {
    pub district_code: String,
    pub street_code: String,
    pub address_detail: String,
    pub community_code: String,
}

/// The level of an address a region code was chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPart {
    District,
    Street,
    Community,
}

/// The detail below the street, down to the room: 2 to 100 characters once trimmed.
pub fn address_detail_fits(detail: &str) -> bool {
    (2..=100).contains(&detail.trim().chars().count())
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

    #[test]
    fn blank_fields_name_nobody_and_one_field_alone_is_incomplete() {
        assert_eq!(named_person(None, None), NamedPerson::Holder);
        assert_eq!(named_person(Some(" "), Some("")), NamedPerson::Holder);
        assert_eq!(named_person(Some("张三"), None), NamedPerson::Incomplete);
        assert_eq!(named_person(Some(" "), Some("1")), NamedPerson::Incomplete);
        assert_eq!(
            named_person(Some("张三"), Some("1")),
            NamedPerson::Other {
                name: "张三",
                id_number: "1"
            }
        );
    }

    #[test]
    fn an_address_detail_has_two_to_a_hundred_characters() {
        assert!(!address_detail_fits(" 1 "));
        assert!(address_detail_fits("1号"));
        assert!(address_detail_fits(&"号".repeat(100)));
        assert!(!address_detail_fits(&"号".repeat(101)));
    }
}
