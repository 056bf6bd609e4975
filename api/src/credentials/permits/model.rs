//! The electronic permit (居住证) as stored.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::rules;
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

/// A permit's bit in the signed status list: drawn at random over the list's capacity (the
/// order of issue does not show), given once, never reused; revoking the permit sets it, and
/// every credential of the permit then verifies as revoked.
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

/// What a holder or a clerk sees of a permit's standing on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitState {
    Valid,
    /// 签注期: inside the month before the due date.
    EndorsementDue,
    /// 中止使用: past the due date, not endorsed.
    Suspended,
    Revoked,
}

impl PermitState {
    /// A revoked permit stays revoked whatever its dates say.
    pub fn of(p: &Permit, today: NaiveDate) -> Self {
        match (p.status, rules::state(p.valid_until, today)) {
            (PermitStatus::Revoked, _) => PermitState::Revoked,
            (_, rules::State::Valid) => PermitState::Valid,
            (_, rules::State::EndorsementDue) => PermitState::EndorsementDue,
            (_, rules::State::Suspended { .. }) => PermitState::Suspended,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PermitState::Valid => "有效",
            PermitState::EndorsementDue => "有效（请在到期前签注）",
            PermitState::Suspended => "中止使用（未按期签注）",
            PermitState::Revoked => "已注销",
        }
    }
}

/// Why a clerk revokes a permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// 补领: a replacement was issued.
    Replacement,
    /// 注销
    Cancellation,
    /// 以欺骗等不正当手段取得
    Fraud,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Replacement => "replacement",
            RevokeReason::Cancellation => "cancellation",
            RevokeReason::Fraud => "fraud",
        }
    }
}

/// 签发机关 of a district: the city bureau's sub-bureau for the district.
pub fn authority_of(city: &str, district: &str) -> String {
    format!("{city}公安局{district}分局")
}

/// A device's Ed25519 public key as the holder sends it: 64 hexadecimal characters, read in
/// lower case; `None` unless it is a valid key.
pub fn device_key(input: &str) -> Option<String> {
    let key = input.trim().to_ascii_lowercase();
    hex::decode(&key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| permit_verifier::ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
        .map(|_| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_is_the_city_bureau_sub_bureau_of_the_district() {
        assert_eq!(authority_of("深圳市", "南山区"), "深圳市公安局南山区分局");
    }

    #[test]
    fn a_device_key_is_a_valid_ed25519_key_in_hex() {
        let key = permit_verifier::ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let hex_key = hex::encode(key.as_bytes());
        assert_eq!(
            device_key(&format!(" {} ", hex_key.to_uppercase())),
            Some(hex_key)
        );
        assert_eq!(device_key("abcd"), None);
        assert_eq!(device_key(&"zz".repeat(32)), None);
    }
}
