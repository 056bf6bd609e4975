//! When residents come: the working-day calendar, service points' opening days and capacity,
//! and appointments.

pub mod calendar;
pub mod gate;
pub mod http;
pub mod model;
pub mod service;
pub mod store;
