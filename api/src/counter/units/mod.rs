//! Unit accounts (单位代办, the Shenzhen guide §3.2): employers and schools get an account at a counter,
//! file applications and endorsements for their people, and see only those. A person can
//! later claim their permit into their own real-name verified account (credentials'
//! `ClaimApi`).

pub mod http;

/// A unit files for its employees or students: far more than a family's five people.
pub const MAX_PEOPLE_PER_UNIT: i64 = 5_000;
