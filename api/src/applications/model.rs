//! The application (预约受理) as the domain sees it: business types, the status lifecycle of
//! DESIGN §4.3, and the fields of step 1 and step 2.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::Sex;
use crate::calendar::Session;

/// At most this many people per account (seed 001: 每个账号可以提交5名流动人口的预约申请).
pub const MAX_PEOPLE_PER_ACCOUNT: i64 = 5;
/// At most this many proof files per application.
pub const MAX_MATERIALS: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum BusinessType {
    /// 首次申领
    First,
    /// 签注
    Endorsement,
    /// 换领
    Renewal,
    /// 补领
    Replacement,
    /// 再次申领
    Reapplication,
}

impl BusinessType {
    pub fn as_str(self) -> &'static str {
        match self {
            BusinessType::First => "first",
            BusinessType::Endorsement => "endorsement",
            BusinessType::Renewal => "renewal",
            BusinessType::Replacement => "replacement",
            BusinessType::Reapplication => "reapplication",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            BusinessType::First,
            BusinessType::Endorsement,
            BusinessType::Renewal,
            BusinessType::Replacement,
            BusinessType::Reapplication,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            BusinessType::First => "首次申领",
            BusinessType::Endorsement => "签注",
            BusinessType::Renewal => "换领",
            BusinessType::Replacement => "补领",
            BusinessType::Reapplication => "再次申领",
        }
    }
    /// Everything but a first application acts on an existing permit, so the account must be
    /// real-name verified at a counter first.
    pub fn needs_real_name(self) -> bool {
        self != BusinessType::First
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 草稿: steps 1 and 2 in progress.
    Draft,
    /// 已申报: submitted, no appointment yet.
    Submitted,
    /// 已预约，等待初审
    Booked,
    /// 初审通过
    Passed,
    /// 初审退回: fix what the note names, submit and book again.
    Returned,
    /// 已受理
    CheckedIn,
    /// 已签发
    Issued,
    /// 已取消
    Cancelled,
    /// 逾期未到
    NoShow,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Draft,
        Status::Submitted,
        Status::Booked,
        Status::Passed,
        Status::Returned,
        Status::CheckedIn,
        Status::Issued,
        Status::Cancelled,
        Status::NoShow,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Booked => "booked",
            Status::Passed => "passed",
            Status::Returned => "returned",
            Status::CheckedIn => "checked_in",
            Status::Issued => "issued",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "已申报，待预约",
            Status::Booked => "已预约，等待初审",
            Status::Passed => "初审通过",
            Status::Returned => "初审退回",
            Status::CheckedIn => "已受理",
            Status::Issued => "已签发",
            Status::Cancelled => "已取消",
            Status::NoShow => "逾期未到",
        }
    }
    /// Steps 1 and 2 can be changed: before submission and after a return.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }
    /// An appointment can be made or moved.
    pub fn is_bookable(self) -> bool {
        matches!(self, Status::Submitted | Status::Booked | Status::Passed)
    }
    /// The applicant may still withdraw.
    pub fn is_cancellable(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::Submitted | Status::Booked | Status::Passed | Status::Returned
        )
    }
}

/// What steps 1 and 2 collect, already checked.
#[derive(Debug, Clone)]
pub struct ApplicationFields {
    pub business_type: BusinessType,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_sex: Sex,
    pub phone: String,
    pub district_code: String,
    pub street_code: String,
    pub address_detail: String,
    pub community_code: String,
    pub service_point_id: Uuid,
    pub employer: Option<String>,
    /// The one 申领条件 chosen in step 2 (a policy condition code).
    pub condition: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub id: Uuid,
    pub number: String,
    pub account_id: Uuid,
    pub fields: ApplicationFields,
    pub status: Status,
    pub review_note: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    /// Cancelled or moved by the applicant.
    Cancelled,
    /// Given back when pre-review returned the application.
    Released,
    CheckedIn,
    NoShow,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Released => "released",
            AppointmentStatus::CheckedIn => "checked_in",
            AppointmentStatus::NoShow => "no_show",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            AppointmentStatus::Booked,
            AppointmentStatus::Cancelled,
            AppointmentStatus::Released,
            AppointmentStatus::CheckedIn,
            AppointmentStatus::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Appointment {
    pub id: Uuid,
    pub application_id: Uuid,
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: Session,
    pub status: AppointmentStatus,
    pub created_at: DateTime<Utc>,
}

/// A proof file as stored: the bytes live in object storage under `object_key`.
#[derive(Debug, Clone)]
pub struct Material {
    pub id: Uuid,
    pub application_id: Uuid,
    pub object_key: String,
    pub kind: crate::materials::content::MaterialKind,
    pub size_bytes: i64,
    pub file_name: String,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// The pre-review decision (初审).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Pass,
    Return,
}
