//! Who people are: accounts (residents and staff), sessions, passkeys, SMS codes, the captcha
//! and the rate limits that protect them.

pub mod accounts;
pub mod captcha;
pub mod passkeys;
pub mod rate_limits;
pub mod service;
pub mod sessions;
pub mod sms;
pub mod staff;
pub mod store;
