//! Counter work for clerks (docs/product.md §4.3): the pre-review queue of their service points, and
//! the review decision that notifies the applicant. A clerk sees only the service points they
//! are assigned to; anything else is a 404.

pub mod http;
pub mod model;
pub mod service;
pub mod units;
