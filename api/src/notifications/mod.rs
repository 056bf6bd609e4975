//! Notifications: the in-app inbox and the SMS outbox. A notice is written in the same
//! transaction as the change it reports; `dispatch_sms` later sends what is pending through the
//! configured `SmsSender` (the development sink by default), retrying with backoff.

use chrono::{DateTime, Duration, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use crate::identity::sessions::SessionAuth;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::ApiTags;

pub mod model;
pub mod service;
pub mod sms;

/// The texts of every notice (Chinese, the product's language; SMS bodies stay short).
pub mod notice {
    use chrono::NaiveDate;

    use super::model::NewNotification;
    use crate::booking::calendar::Session;

    use crate::casework::applications::model::{Application, Appointment, Decision};

    fn day(d: NaiveDate) -> String {
        d.format("%Y年%m月%d日").to_string()
    }

    fn to(a: &Application, kind: &'static str, title: &str, body: String) -> NewNotification {
        NewNotification {
            account_id: a.account_id,
            kind,
            title: title.to_string(),
            body,
            application_id: Some(a.id),
            sms_phone: Some(a.fields.phone.as_str().to_string()),
        }
    }

    pub fn booked(
        a: &Application,
        date: NaiveDate,
        session: Session,
        point: &crate::directory::ServicePoint,
    ) -> NewNotification {
        to(
            a,
            "booking_confirmed",
            "预约成功",
            format!(
                "【居住证】{}，您已预约{}{}到{}（{}）办理居住证业务，申请编号{}。我们将在48小时内完成初审并短信通知您。",
                a.fields.applicant_name,
                day(date),
                session.label_zh(),
                point.name,
                point.address,
                a.number
            ),
        )
    }

    pub fn cancelled(a: &Application, ap: &Appointment, point_name: &str) -> NewNotification {
        to(
            a,
            "booking_cancelled",
            "预约已取消",
            format!(
                "【居住证】{}，您{}{}在{}的预约已取消，申请编号{}。",
                a.fields.applicant_name,
                day(ap.day),
                ap.session.label_zh(),
                point_name,
                a.number
            ),
        )
    }

    pub fn reviewed(a: &Application, decision: Decision, note: Option<&str>) -> NewNotification {
        match decision {
            Decision::Pass => to(
                a,
                "review_passed",
                "初审通过",
                format!(
                    "【居住证】{}，您的居住证申请（编号{}）已通过初审，请按预约时间携带身份证和证明材料原件到受理点办理。",
                    a.fields.applicant_name, a.number
                ),
            ),
            Decision::Return => to(
                a,
                "review_returned",
                "初审退回",
                format!(
                    "【居住证】{}，您的居住证申请（编号{}）初审退回：{}。请修改后重新申报并预约。",
                    a.fields.applicant_name,
                    a.number,
                    note.unwrap_or("请补充材料")
                ),
            ),
        }
    }

    pub fn reminder(a: &Application, ap: &Appointment, point_name: &str) -> NewNotification {
        to(
            a,
            "reminder",
            "明日办理提醒",
            format!(
                "【居住证】{}，提醒您明天（{}）{}到{}办理居住证业务，申请编号{}。",
                a.fields.applicant_name,
                day(ap.day),
                ap.session.label_zh(),
                point_name,
                a.number
            ),
        )
    }

    pub fn endorsement_due(p: &crate::credentials::permits::model::Permit) -> NewNotification {
        NewNotification {
            account_id: p.account_id,
            kind: "endorsement_due",
            title: "签注提醒".into(),
            body: format!(
                "【居住证】{}，您的居住证{}将于{}到期，请在到期前一个月内办理签注，逾期将中止使用。",
                p.holder_name,
                p.number,
                day(p.valid_until)
            ),
            application_id: p.application_id,
            sms_phone: None,
        }
    }

    pub fn no_show(a: &Application, ap: &Appointment) -> NewNotification {
        to(
            a,
            "no_show",
            "逾期未到",
            format!(
                "【居住证】{}，您预约的{}未到受理点办理，申请编号{}已逾期。如仍需办理，请重新申报。",
                a.fields.applicant_name,
                day(ap.day),
                a.number
            ),
        )
    }
}

#[derive(Debug, Clone, Object)]
pub struct NotificationView {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub application_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone, Object)]
pub struct Inbox {
    pub unread: u32,
    pub items: Vec<NotificationView>,
}

#[derive(Debug, ApiResponse)]
pub enum Marked {
    #[oai(status = 204)]
    Done,
}

pub struct NotificationsApi;

#[OpenApi(tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// My notifications, newest first (the last 100).
    #[oai(path = "/notifications", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Inbox>, ApiError> {
        let items = state
            .storage
            .notifications_of(auth.0.account_id, 100)
            .await?;
        let unread = items.iter().filter(|n| n.read_at.is_none()).count() as u32;
        Ok(Json(Inbox {
            unread,
            items: items
                .into_iter()
                .map(|n| NotificationView {
                    id: n.id,
                    kind: n.kind,
                    title: n.title,
                    body: n.body,
                    application_id: n.application_id,
                    created_at: n.created_at,
                    read: n.read_at.is_some(),
                })
                .collect(),
        }))
    }

    /// Mark one as read.
    #[oai(path = "/notifications/:id/read", method = "post")]
    async fn read(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Marked, ApiError> {
        state
            .storage
            .mark_notification_read(auth.0.account_id, id.0, state.clock.now())
            .await?;
        Ok(Marked::Done)
    }
}

/// Attempts before an SMS is given up.
const MAX_ATTEMPTS: i32 = 5;
/// How long a claimed SMS is left to one dispatcher.
const LEASE_SECS: i64 = 120;

/// Sends the SMS that are due; returns how many went out.
pub async fn dispatch_sms(state: &AppState, now: DateTime<Utc>) -> Result<usize, StorageError> {
    let batch = state
        .storage
        .claim_sms(now, now + Duration::seconds(LEASE_SECS), 50)
        .await?;
    let mut sent = 0;
    for sms in batch {
        match state.sms.send(&sms.phone, &sms.body).await {
            Ok(()) => {
                state.storage.finish_sms(sms.id, true, now, None).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(notification = %sms.id, attempts = sms.attempts, error = %e, "SMS not sent");
                let retry = (sms.attempts < MAX_ATTEMPTS)
                    .then(|| now + Duration::minutes(1i64 << sms.attempts.clamp(0, 10)));
                state.storage.finish_sms(sms.id, false, now, retry).await?;
            }
        }
    }
    Ok(sent)
}
pub mod store;
