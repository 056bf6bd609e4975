//! permitd: the residence-permit platform server (居住证服务平台).
//!
//! One module per resource; handlers are thin and call plain domain functions. See the README
//! for the architecture in a page.

pub mod accounts;
pub mod app;
pub mod applications;
pub mod appointments;
pub mod audit;
pub mod calendar;
pub mod captcha;
pub mod clock;
pub mod config;
pub mod counter;
pub mod demo;
pub mod directory;
pub mod documents;
pub mod eligibility;
pub mod ephemeral;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod keys;
pub mod materials;
pub mod metrics;
pub mod notifications;
pub mod passkeys;
pub mod permits;
pub mod pwa;
pub mod rate_limits;
pub mod residence;
pub mod schedule;
pub mod sessions;
pub mod sms;
pub mod staff;
pub mod state;
pub mod storage;
pub mod trust;
pub mod units;
pub mod web;
