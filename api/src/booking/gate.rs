//! The admission gate: once the database has refused a session as full, later bookings of it
//! are answered "full" from the ephemeral store (Redis in production, shared by every
//! instance) without a transaction on the hot slot row.
//!
//! The gate only ever refuses; the database stays the truth. A booking that passes still takes
//! its place with the conditional UPDATE, so a stale or missing gate can never overbook. The
//! mark is set only by a refusal of the database, cleared when a place of the session comes
//! back (cancellation, move away, an administrator's capacity change) and lives
//! [`FULL_MARK_TTL`] at most, which bounds how long a place given back by a path that does not
//! clear it (a withdrawal, a mark racing a cancellation) stays hidden. A missing key (Redis
//! restarted or flushed) or an unreachable Redis sends the booking to the database.

use std::time::Duration;

use chrono::NaiveDate;
use uuid::Uuid;

use super::calendar::Session;
use super::model::{Booking, default_capacity};
use super::service::{BookingError, place_once};
use crate::casework::applications::model::Appointment;
use crate::directory::ServicePoint;
use crate::platform::ephemeral::Ephemeral;
use crate::platform::storage::{Storage, retry_once};

/// How long a "full" mark holds without a new refusal of the database.
pub const FULL_MARK_TTL: Duration = Duration::from_secs(2);

/// One session of one day at a point, with the point's default places for that session: an
/// administrator changing the default changes the key, so no mark outlives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateKey {
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: Session,
    pub default_capacity: i32,
}

impl GateKey {
    fn key(&self) -> String {
        format!(
            "slot-full:{}:{}:{}:{}",
            self.service_point_id,
            self.day,
            self.session.as_str(),
            self.default_capacity
        )
    }
}

/// True when the session was recently refused as full by the database. Any error of the store
/// counts as "not known full": the database decides.
pub async fn known_full(gate: &dyn Ephemeral, k: &GateKey) -> bool {
    matches!(gate.get(&k.key()).await, Ok(Some(_)))
}

/// Records the database's refusal; a failure to record is harmless (the next booking asks the
/// database).
pub async fn mark_full(gate: &dyn Ephemeral, k: &GateKey) {
    if let Err(e) = gate.put(&k.key(), "1", FULL_MARK_TTL).await {
        tracing::warn!(error = %e, "booking gate: cannot mark a session full");
    }
}

/// A place of the session came back: bookings go to the database again.
pub async fn reopen(gate: &dyn Ephemeral, k: &GateKey) {
    if let Err(e) = gate.delete(&k.key()).await {
        tracing::warn!(error = %e, "booking gate: cannot reopen a session");
    }
}

/// [`super::service::place`] behind the admission gate ([`gate`]): a session the database recently refused as
/// full is answered [`BookingError::SlotFull`] without a transaction; a refusal of the database
/// marks it, a move reopens the session it left. `point` is the booking's service point (its
/// default places are part of the gate's key).
pub async fn place_gated(
    storage: &dyn Storage,
    admission: &dyn Ephemeral,
    point: &ServicePoint,
    b: &Booking,
) -> Result<Appointment, BookingError> {
    let wanted = GateKey {
        service_point_id: b.service_point_id,
        day: b.day,
        session: b.session,
        default_capacity: default_capacity(point, b.session),
    };
    if known_full(admission, &wanted).await {
        return Err(BookingError::SlotFull);
    }
    match retry_once(|| place_once(storage, b)).await {
        Ok((appointment, left)) => {
            if let Some(old) = left.filter(|old| old.service_point_id == b.service_point_id) {
                reopen(
                    admission,
                    &GateKey {
                        service_point_id: old.service_point_id,
                        day: old.day,
                        session: old.session,
                        default_capacity: default_capacity(point, old.session),
                    },
                )
                .await;
            }
            Ok(appointment)
        }
        Err(BookingError::SlotFull) => {
            mark_full(admission, &wanted).await;
            Err(BookingError::SlotFull)
        }
        Err(e) => Err(e),
    }
}
