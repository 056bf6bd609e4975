//! Who people are: accounts (residents and staff), sessions, passkeys, SMS codes, the captcha
//! and the rate limits that protect them.

pub mod auth;
pub mod http;
pub mod model;
pub mod password;
pub mod rate_limits;
pub mod service;
pub mod store;
