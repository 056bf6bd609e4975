//! What residents carry: signed electronic permits, the signing keys, the signed trust and
//! status lists, online verification and the printed documents.

pub mod documents;
pub mod http;
pub mod keys;
pub mod permits;
pub mod service;
pub mod signing;
pub mod status_list;
pub mod store;
pub mod trust;
