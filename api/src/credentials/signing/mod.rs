//! What every instance agrees on to sign: the issuer keys' activation schedule and the
//! published versions of the signed lists, kept in the database.

pub(crate) mod store;

pub use store::{ListKind, PublishedList, SigningStore};
