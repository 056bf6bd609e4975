//! The electronic permit (居住证) as stored.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::identity::model::{IdNumber, Sex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitStatus {
    Active,
    Revoked,
}

impl PermitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PermitStatus::Active => "active",
            PermitStatus::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(PermitStatus::Active),
            "revoked" => Some(PermitStatus::Revoked),
            _ => None,
        }
    }
}

/// A permit's bit in the signed status list: given once, in order, never reused; revoking the
/// permit sets it, and every credential of the permit then verifies as revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusIndex(u64);

impl StatusIndex {
    /// The index as stored (a non-negative integer); `None` for anything else.
    pub fn from_stored(n: i64) -> Option<Self> {
        u64::try_from(n).ok().map(StatusIndex)
    }
    pub fn get(self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone)]
pub struct NewPermit {
    pub number: String,
    pub application_id: Uuid,
    pub account_id: Uuid,
    pub holder_name: String,
    pub id_number: IdNumber,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub district: String,
    pub authority: String,
    pub service_point_id: Uuid,
    pub first_issued: NaiveDate,
    pub valid_until: NaiveDate,
    /// A replacement, renewal or re-application: the person's earlier active permits, under
    /// whichever account, are revoked in the same transaction.
    pub supersedes: bool,
}

#[derive(Debug, Clone)]
pub struct Permit {
    pub id: Uuid,
    pub number: String,
    pub application_id: Option<Uuid>,
    pub account_id: Uuid,
    pub holder_name: String,
    pub id_number: IdNumber,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub district: String,
    pub authority: String,
    pub service_point_id: Uuid,
    pub first_issued: NaiveDate,
    pub last_endorsed: Option<NaiveDate>,
    pub valid_until: NaiveDate,
    pub status: PermitStatus,
    pub revoked_reason: Option<String>,
    pub status_index: StatusIndex,
    pub device_key: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}
