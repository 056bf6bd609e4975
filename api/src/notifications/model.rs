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
    /// The SMS template's parameters, in the template's order (`body` is the same message
    /// rendered); the kind picks the template.
    pub sms_params: Vec<(&'static str, String)>,
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

/// How many of the notices are not read yet.
pub fn unread(notices: &[Notification]) -> u32 {
    notices.iter().filter(|n| n.read_at.is_none()).count() as u32
}

/// A phone as staff lists show it: `138****5678`.
pub fn masked_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len());
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// An SMS claimed by one dispatcher; others skip it until the lease ends.
#[derive(Debug, Clone)]
pub struct PendingSms {
    pub id: Uuid,
    pub phone: String,
    pub kind: String,
    pub body: String,
    pub params: Vec<(String, String)>,
    pub attempts: i32,
}

/// An SMS given up for good (a refused template or number, or its attempts spent), as the
/// administrators' list shows it.
#[derive(Debug, Clone)]
pub struct FailedSms {
    pub id: Uuid,
    pub kind: String,
    pub phone: String,
    pub attempts: i32,
    /// The provider's error code (or ours: `timeout`, `unreachable`, ...).
    pub error_code: Option<String>,
    /// The provider's words about it.
    pub error_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// One outbox row's delivery, as recorded: `state` is `pending`, `sent` or `failed`.
#[derive(Debug, Clone)]
pub struct SmsDelivery {
    pub state: String,
    pub attempts: i32,
    pub message_id: Option<String>,
    /// The last refusal's code.
    pub error_code: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_at: Option<DateTime<Utc>>,
}

/// How an SMS attempt ended, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    /// The provider took it; its id for the message, when it gave one.
    Sent { message_id: Option<String> },
    /// Not taken, tried again at `retry_at`.
    Retry {
        retry_at: DateTime<Utc>,
        code: String,
    },
    /// Not taken and never tried again.
    Failed { code: String, detail: String },
}

/// Attempts before an SMS is given up.
pub const MAX_SMS_ATTEMPTS: i32 = 5;

/// When a refused SMS is tried again: 2, 4, 8 and 16 minutes after its 1st to 4th attempt;
/// `None` after the last attempt, when it is given up.
pub fn sms_retry_at(attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (attempts < MAX_SMS_ATTEMPTS)
        .then(|| now + chrono::Duration::minutes(1i64 << attempts.clamp(0, 10)))
}

/// The texts of every notice (Chinese, the product's language; SMS bodies stay short).
pub mod notice {
    use chrono::NaiveDate;

    use super::NewNotification;
    use crate::booking::calendar::Session;

    use crate::casework::applications::model::{Application, Appointment, Decision};

    fn day(d: NaiveDate) -> String {
        d.format("%Y年%m月%d日").to_string()
    }

    fn to(
        a: &Application,
        kind: &'static str,
        title: &str,
        body: String,
        sms_params: Vec<(&'static str, String)>,
    ) -> NewNotification {
        NewNotification {
            account_id: a.account_id,
            kind,
            title: title.to_string(),
            body,
            application_id: Some(a.id),
            sms_phone: Some(a.fields.phone.as_str().to_string()),
            sms_params,
        }
    }

    fn name(a: &Application) -> (&'static str, String) {
        ("name", a.fields.applicant_name.clone())
    }

    fn number(a: &Application) -> (&'static str, String) {
        ("number", a.number.clone())
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
            vec![
                name(a),
                ("date", day(date)),
                ("session", session.label_zh().to_string()),
                ("point", point.name.clone()),
                number(a),
            ],
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
            vec![
                name(a),
                ("date", day(ap.day)),
                ("session", ap.session.label_zh().to_string()),
                ("point", point_name.to_string()),
                number(a),
            ],
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
                vec![name(a), number(a)],
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
                vec![
                    name(a),
                    number(a),
                    ("reason", note.unwrap_or("请补充材料").to_string()),
                ],
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
            vec![
                name(a),
                ("date", day(ap.day)),
                ("session", ap.session.label_zh().to_string()),
                ("point", point_name.to_string()),
                number(a),
            ],
        )
    }

    /// To the holder's account, and by SMS to its phone when it has one.
    pub fn endorsement_due(
        p: &crate::credentials::permits::model::Permit,
        phone: Option<String>,
    ) -> NewNotification {
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
            sms_phone: phone,
            sms_params: vec![
                ("name", p.holder_name.clone()),
                ("permit", p.number.clone()),
                ("date", day(p.valid_until)),
            ],
        }
    }

    /// In the app only: the account owner is told, not the phone typed on the form.
    fn in_app(a: &Application, kind: &'static str, title: &str, body: String) -> NewNotification {
        NewNotification {
            sms_phone: None,
            ..to(a, kind, title, body, Vec::new())
        }
    }

    pub fn draft_expired(a: &Application, days: i64) -> NewNotification {
        in_app(
            a,
            "draft_expired",
            "申请草稿已过期",
            format!(
                "您为{}填写的居住证申请草稿（编号{}）{}天内没有提交，已自动取消，填写的信息和上传的材料已删除。如仍需办理，请重新填写申请。",
                a.fields.applicant_name, a.number, days
            ),
        )
    }

    pub fn released(a: &Application) -> NewNotification {
        in_app(
            a,
            "application_released",
            "申请已被窗口解除",
            format!(
                "您为{}提交的居住证申请（编号{}）已被取消：本人已持居民身份证到受理点窗口核验，申请解除了这个公民身份号码的占用。如有疑问，请到受理点窗口咨询。",
                a.fields.applicant_name, a.number
            ),
        )
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
            vec![name(a), ("date", day(ap.day)), number(a)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_counts_the_notices_without_a_read_time() {
        let notice = |read_at| Notification {
            id: Uuid::new_v4(),
            kind: "reviewed".into(),
            title: String::new(),
            body: String::new(),
            application_id: None,
            created_at: Utc::now(),
            read_at,
        };
        assert_eq!(unread(&[]), 0);
        assert_eq!(
            unread(&[notice(None), notice(Some(Utc::now())), notice(None)]),
            2
        );
    }

    #[test]
    fn a_phone_is_masked_but_for_its_first_three_and_last_four_digits() {
        assert_eq!(masked_phone("13812345678"), "138****5678");
        assert_eq!(masked_phone("123"), "***");
    }

    #[test]
    fn a_refused_sms_backs_off_then_is_given_up() {
        let now = Utc::now();
        let waits: Vec<i64> = (1..MAX_SMS_ATTEMPTS)
            .map(|a| (sms_retry_at(a, now).unwrap() - now).num_minutes())
            .collect();
        assert_eq!(waits, [2, 4, 8, 16]);
        assert_eq!(sms_retry_at(MAX_SMS_ATTEMPTS, now), None);
    }
}
