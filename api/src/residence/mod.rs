//! Residence registration (居住登记) and the eligibility check (查询办证资格), docs/product.md §4.2.
//! Continuous residence counts from the registration date, so a registration is dated the day
//! it is declared; the eligibility answer comes from the jurisdiction's policy.

pub mod eligibility;
pub mod http;
pub mod model;
pub mod service;
pub mod store;

pub use model::Person;
