//! The status list as the database keeps it (issue 16): a bit array in fixed-size pages, set
//! in the transaction that revokes, with a version that every change moves on; indexes drawn at
//! random over the list's capacity, which grows as it fills.

pub mod model;
pub(crate) mod store;
