//! The privacy notice (its text and version are data here), the consent rule, the access log's
//! entries and labels, and what a holder's export holds. Plain types, no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

/// The version of the notice below. A new text gets a new version, and everyone who agreed
/// to an older one is asked again (the configuration may name another, for tests).
pub const NOTICE_VERSION: &str = "2026-12-03";

/// The day the notice below was published.
pub fn notice_published_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).expect("a valid date")
}

pub const NOTICE_TITLE: &str = "居住证服务平台个人信息保护告知书";
pub const NOTICE_TITLE_EN: &str =
    "How the residence-permit service handles your personal information";

/// One part of the notice, in Chinese and English.
#[derive(Debug, Clone, Copy)]
pub struct NoticeSection {
    pub heading: &'static str,
    pub heading_en: &'static str,
    pub body: &'static str,
    pub body_en: &'static str,
}

/// The notice, in plain words: what, why, how long, who, and the holder's rights.
pub const NOTICE_SECTIONS: [NoticeSection; 5] = [
    NoticeSection {
        heading: "我们收集哪些信息",
        heading_en: "What we collect",
        body: "您的姓名、公民身份号码、性别、手机号码、居住地址、工作单位，以及您上传的证明材料照片或文件。",
        body_en: "Your name, citizen ID number, sex, mobile phone number, the address where you live, \
your employer, and the photos or files of proof you upload.",
    },
    NoticeSection {
        heading: "为什么收集",
        heading_en: "Why",
        body: "只为办理居住登记和居住证：核对您的身份和居住情况，预约办理，签发和查验居住证，并用短信和站内消息告诉您办理进度。",
        body_en: "Only to register your residence and issue your residence permit: to check who you \
are and where you live, to book your visit, to issue and check the permit, and to tell you by text \
message and in the app how your application is going.",
    },
    NoticeSection {
        heading: "保存多久",
        heading_en: "How long we keep it",
        body: "证明材料在申请办结（签发、取消、退回未再申报或逾期未到）后保存90天；未提交的草稿保存30天；站内消息保存1年；\
短信内容保存30天；已签发的居住证记录和工作人员操作记录按法律规定的期限保存。到期后自动删除。",
        body_en: "Proof files: 90 days after your application ends (issued, cancelled, returned and \
not sent again, or missed). Drafts you never sent: 30 days. Messages in the app: 1 year. The text of \
text messages: 30 days. The record of an issued permit and the log of what staff did: as long as the \
law requires. After that, they are deleted by themselves.",
    },
    NoticeSection {
        heading: "谁能看到",
        heading_en: "Who sees it",
        body: "只有您选择的受理点（派出所）负责办理的工作人员能看到您的申请；他们每次查看都会被记录，您可以在“谁查看了我的信息”里看到。\
查验您居住证的人只能看到二维码上显示的内容。",
        body_en: "Only the clerks of the police station (service point) you chose, who handle your \
application. Each time they look, it is recorded, and you can see it under \"Who looked at my \
data\". Someone who checks your permit sees only what its QR code shows.",
    },
    NoticeSection {
        heading: "您的权利",
        heading_en: "Your rights",
        body: "您随时可以：下载我们保存的您的全部信息和材料；查看谁在什么时候查看了您的信息；注销账号，注销后除法律要求保存的内容（已签发的居住证记录、工作人员操作记录）外，其余信息和材料全部删除。",
        body_en: "At any time you can: download everything we keep about you, with your files; see who \
looked at your data and when; and close your account. When you close it, everything is deleted \
except what the law says we must keep (the record of an issued permit and the log of what staff did).",
    },
];

/// The notice versions an account agreed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub version: String,
    pub agreed_at: DateTime<Utc>,
}

/// Where an account stands against the current notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentState {
    pub current_version: String,
    /// The latest version agreed to, if any.
    pub agreed: Option<Consent>,
}

impl ConsentState {
    /// A new notice asks again: only an agreement to the current version counts.
    pub fn needs_consent(&self) -> bool {
        self.agreed
            .as_ref()
            .is_none_or(|c| c.version != self.current_version)
    }
}

/// The version agreed to must be the one shown now.
pub fn is_current(given: &str, current: &str) -> bool {
    given.trim() == current
}

/// Who looked: a staff member (never named) or a verifier (by the name they declared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    Staff,
    Verification,
}

/// The action code of an online verification.
pub const VERIFY_ACTION: &str = "verify_permit";

/// One read or action about the holder, as the holder is shown it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessEntry {
    pub at: DateTime<Utc>,
    pub kind: AccessKind,
    pub action: String,
    pub action_label: &'static str,
    pub action_label_en: &'static str,
    pub service_point_name: Option<String>,
    pub verifier_name: Option<String>,
}

/// A page of the access log, newest first; `next_before` asks for the older entries.
#[derive(Debug, Clone)]
pub struct AccessPage {
    pub items: Vec<AccessEntry>,
    pub next_before: Option<DateTime<Utc>>,
}

/// The audit-log object types that are the holder's: their account and everything under it.
pub const HOLDER_OBJECT_TYPES: [&str; 5] = [
    "account",
    "application",
    "appointment",
    "material",
    "permit",
];

/// The words for every action the audit log records about a holder's objects (every
/// `audit::record` call on an account, application, appointment, material or permit), and
/// for an online verification.
pub fn action_label(action: &str) -> (&'static str, &'static str) {
    match action {
        "read_application" => ("查看了您的申请", "Viewed your application"),
        "review" => ("初审了您的申请", "Pre-reviewed your application"),
        "walk_in" => (
            "现场受理了您的申请",
            "Accepted your application at the counter",
        ),
        "release_id_number" => (
            "解除了申请对您身份号码的占用",
            "Released your ID number from an application",
        ),
        "read_material" => ("查看了您的证明材料", "Viewed a proof file"),
        "list_appointment" => (
            "在当日预约名单中查看了您的预约",
            "Saw your appointment in the day's list",
        ),
        "check_in" => ("为您办理了现场签到", "Checked you in at the counter"),
        "issue_permit" => ("签发了您的居住证", "Issued your residence permit"),
        "print_slip" => ("打印了您的居住证确认单", "Printed your permit slip"),
        "find_permit" => ("查询了您的居住证", "Looked up your residence permit"),
        "revoke_permit" => ("注销了您的居住证", "Revoked your residence permit"),
        "real_name_verified" => ("核验了您的实名身份", "Verified your real name"),
        "find_account" => (
            "按身份号码查询了您的账号",
            "Looked up your account by ID number",
        ),
        "open_unit" => ("开设了本单位账号", "Opened this unit account"),
        VERIFY_ACTION => ("在线查验了您的居住证", "Checked your permit online"),
        _ => ("工作人员处理了您的信息", "A staff member handled your data"),
    }
}

/// The longest verifier name kept, in characters.
pub const VERIFIER_NAME_MAX: usize = 64;

/// A verifier's declared name, trimmed: `None` when empty, `Err` when too long.
pub fn verifier_name(given: Option<&str>) -> Result<Option<String>, VerifierNameTooLong> {
    match given.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) if n.chars().count() > VERIFIER_NAME_MAX => Err(VerifierNameTooLong),
        Some(n) => Ok(Some(n.to_string())),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifierNameTooLong;

/// An appointment as the export lists it (no personal data of its own).
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentRecord {
    pub id: Uuid,
    pub application_id: Uuid,
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A staff entry of the audit log about one of the holder's objects, without its detail
/// (which may name other people) and with the staff member only to find their service point.
#[derive(Debug, Clone)]
pub struct StaffAccess {
    pub at: DateTime<Utc>,
    pub staff_id: Uuid,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
}

/// An online verification of one of the holder's permits.
#[derive(Debug, Clone)]
pub struct VerificationAccess {
    pub at: DateTime<Utc>,
    pub permit_id: Uuid,
    pub verifier_name: Option<String>,
}

/// The names of one application's proof files inside the export: separators and control
/// characters replaced, a name of dots only renamed, so each is a file of its own folder; a name
/// already used gets its place in the list in front (`02-material.jpg`).
pub fn export_file_names<'a>(stored: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (index, (name, extension)) in stored.into_iter().enumerate() {
        let cleaned: String = name
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let cleaned = cleaned.trim();
        let cleaned = if cleaned.chars().all(|c| c == '.') {
            format!("material.{extension}")
        } else {
            cleaned.to_string()
        };
        let name = if names.contains(&cleaned) {
            format!("{:02}-{cleaned}", index + 1)
        } else {
            cleaned
        };
        names.push(name);
    }
    names
}

/// The name of the export download, by the day it was made.
pub fn export_download_name(day: NaiveDate) -> String {
    format!("permit-data-{}.zip", day.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_notice_version_asks_again() {
        let at = Utc::now();
        let state = |agreed: Option<&str>| ConsentState {
            current_version: "2027-01-01".into(),
            agreed: agreed.map(|v| Consent {
                version: v.into(),
                agreed_at: at,
            }),
        };
        assert!(state(None).needs_consent());
        assert!(state(Some(NOTICE_VERSION)).needs_consent());
        assert!(!state(Some("2027-01-01")).needs_consent());
    }

    #[test]
    fn verifier_names_are_trimmed_and_bounded() {
        assert_eq!(verifier_name(None), Ok(None));
        assert_eq!(verifier_name(Some("   ")), Ok(None));
        assert_eq!(
            verifier_name(Some(" 杭州某酒店前台 ")),
            Ok(Some("杭州某酒店前台".into()))
        );
        assert_eq!(
            verifier_name(Some(&"名".repeat(64)))
                .unwrap()
                .unwrap()
                .chars()
                .count(),
            64
        );
        assert_eq!(
            verifier_name(Some(&"名".repeat(65))),
            Err(VerifierNameTooLong)
        );
    }

    #[test]
    fn export_file_names_stay_in_their_folder_and_apart() {
        let names = export_file_names([
            ("../../etc/passwd", "pdf"),
            ("租房合同.jpg", "jpg"),
            ("..", "png"),
            ("租房合同.jpg", "jpg"),
        ]);
        assert_eq!(
            names,
            [
                ".._.._etc_passwd",
                "租房合同.jpg",
                "material.png",
                "04-租房合同.jpg"
            ]
        );
    }

    #[test]
    fn every_action_has_words() {
        for action in [
            "read_application",
            "review",
            "walk_in",
            "release_id_number",
            "read_material",
            "list_appointment",
            "check_in",
            "issue_permit",
            "print_slip",
            "find_permit",
            "revoke_permit",
            "real_name_verified",
            "find_account",
            "open_unit",
            VERIFY_ACTION,
        ] {
            assert_ne!(action_label(action), action_label("unknown"), "{action}");
        }
    }
}
