//! Notifications as stored: one row is both the in-app message and, when it carries a phone,
//! the SMS still to send (the transactional outbox).

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub account_id: Uuid,
    /// `booking_confirmed`, `review_passed`, `review_returned`, `reminder`, `no_show`, ...
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub application_id: Option<Uuid>,
    /// Where the SMS goes; `None` for in-app only.
    pub sms_phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub application_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// An SMS claimed by one dispatcher; others skip it until the lease ends.
#[derive(Debug, Clone)]
pub struct PendingSms {
    pub id: Uuid,
    pub phone: String,
    pub body: String,
    pub attempts: i32,
}
