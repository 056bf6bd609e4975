//! Notifications: the in-app inbox and the SMS outbox. A notice is written in the same
//! transaction as the change it reports; `service::dispatch_sms` later sends what is pending through the
//! configured `SmsSender` (the development sink by default), retrying with backoff.

pub mod http;
pub mod model;
pub mod service;
pub mod sms;
pub mod store;

pub use model::notice;
