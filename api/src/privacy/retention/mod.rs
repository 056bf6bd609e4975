//! Retention (PIPL art. 19, 47): what permitd keeps about people, and for how long. The policy
//! and its rules are in `model`; one round of the job that applies it is `service::apply`,
//! run by `platform::jobs` on every instance.

pub mod model;
pub mod service;
pub mod store;
