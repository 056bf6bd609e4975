//! When residents come: the working-day calendar, service points' opening days and capacity,
//! and appointments.

pub mod appointments;
pub mod calendar;
pub mod schedule;
pub mod store;
