//! What residents apply for: applications (预约受理) and their proof files.

pub mod applications;
pub mod materials;
pub mod service;
pub mod store;
