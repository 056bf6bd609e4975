//! What every context stands on: configuration, the HTTP edge and its errors, the database and
//! the ephemeral store, metrics, background jobs, the clock and the development helpers.

pub mod app;
pub mod audit;
pub mod backup;
pub mod check;
pub mod clock;
pub mod config;
pub mod data_keys;
pub mod demo;
pub mod ephemeral;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod page;
pub mod proxy;
pub mod pwa;
pub mod secret_files;
pub mod state;
pub mod storage;
pub mod text;
pub mod web;
