//! Residence registration (居住登记) as stored.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::identity::accounts::IdNumber;

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

#[derive(Debug, Clone)]
pub struct ResidenceRegistration {
    pub id: Uuid,
    pub fields: NewRegistration,
    pub created_at: DateTime<Utc>,
}
