//! What verification concludes: the verdict, the warnings, and the permit that came with them.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::permit::{Claims, Permit};

/// The layer of the RP1 pipeline that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The text does not start with `RP1:` (or is far too long to be a QR code).
    Prefix,
    /// The text after the prefix is not valid base45 (RFC 9285).
    Base45,
    /// The decoded bytes are not one complete zlib stream (RFC 1950) within the size cap.
    Zlib,
    /// The decompressed bytes are not an acceptable COSE_Sign1 (RFC 9052) with EdDSA and a kid.
    Cose,
    /// The COSE payload is not a CWT claims set (RFC 8392) with iss, iat, nbf, exp and the permit claim.
    Cwt,
    /// The permit claim does not have the fields of its schema version.
    PermitClaim,
    /// The holder proof after `#` is not base45 of `[signed_at, signature]`.
    HolderProof,
}

impl Layer {
    /// Stable lowercase name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Prefix => "prefix",
            Layer::Base45 => "base45",
            Layer::Zlib => "zlib",
            Layer::Cose => "cose",
            Layer::Cwt => "cwt",
            Layer::PermitClaim => "permit_claim",
            Layer::HolderProof => "holder_proof",
        }
    }
}

/// The outcome of verifying one RP1 credential.
///
/// Serialised to JSON with a `verdict` tag, e.g. `{"verdict":"suspended","since":"2025-03-01T00:00:00Z"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Genuine, not revoked, inside its validity.
    Valid,
    /// Valid, and inside the endorsement window (by default the 30 days) before `due`, its `exp`.
    ValidEndorsementDue {
        /// The end of validity: the yearly endorsement is due by then.
        due: DateTime<Utc>,
    },
    /// Genuine but past its `exp`: the yearly endorsement was missed and use is suspended (中止使用).
    Suspended {
        /// The credential's `exp`.
        since: DateTime<Utc>,
    },
    /// Genuine but revoked in the status list (replaced, cancelled or obtained by fraud).
    Revoked,
    /// Genuine but its `nbf` lies ahead (beyond the clock skew tolerance).
    NotYetValid {
        /// The credential's `nbf`.
        valid_from: DateTime<Utc>,
    },
    /// A trusted key with the credential's kid exists, but the signature does not verify.
    BadSignature,
    /// No key in the trust list has this kid and was valid when the credential was issued.
    UnknownKey {
        /// The credential's kid, lowercase hex.
        kid: String,
    },
    /// The text could not be parsed; `layer` says where it failed.
    Malformed {
        /// The failing layer.
        layer: Layer,
        /// A short English explanation for logs (not stable; match on `layer`).
        reason: String,
    },
    /// The permit claim has a schema version this verifier does not know.
    UnsupportedVersion {
        /// The schema version found.
        version: u64,
    },
    /// The credential is bound to a device key and the holder proof's signature does not verify.
    HolderProofInvalid,
    /// The holder proof verifies but is too old (or from the future): probably a screenshot.
    HolderProofStale {
        /// When the holder's device signed the proof.
        signed_at: DateTime<Utc>,
    },
    /// The verifier's lists are older than its policy accepts (or the status list is missing):
    /// nothing is checked until fresh lists are downloaded.
    ListsTooOld {
        /// The list that is too old or missing.
        list: ListKind,
        /// Its `iat`; `null` when the status list is missing.
        issued_at: Option<DateTime<Utc>>,
    },
    /// The credential is bound to a device key and the policy requires the holder proof, but
    /// none was shown (a screenshot with the proof cut off, or a printed slip).
    HolderProofRequired,
    /// The credential's `iat` lies ahead of the verifier's clock by more than the clock skew.
    IssuedInFuture {
        /// The credential's `iat`.
        issued_at: DateTime<Utc>,
    },
    /// The credential's `iss` is not the issuer the trust list names for the key that signed it.
    IssuerMismatch {
        /// The credential's `iss`.
        issuer: String,
        /// The issuer the trust list names for the signing key.
        trusted_issuer: String,
    },
    /// The credential's status index lies beyond the status list: revocation cannot be checked.
    StatusIndexOutOfRange {
        /// The credential's index.
        index: u64,
        /// How many entries the status list has.
        len: u64,
    },
}

/// Which of the two signed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// The trust list (issuer keys, signed by the root).
    TrustList,
    /// The status list (revocation bits, signed by an issuer key).
    StatusList,
}

impl ListKind {
    /// Stable lowercase name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::TrustList => "trust_list",
            ListKind::StatusList => "status_list",
        }
    }
}

impl Verdict {
    /// True for [`Verdict::Valid`] and [`Verdict::ValidEndorsementDue`]: the permit may be accepted.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid | Verdict::ValidEndorsementDue { .. })
    }

    /// The stable snake_case code of the verdict (the JSON `verdict` tag).
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::ValidEndorsementDue { .. } => "valid_endorsement_due",
            Verdict::Suspended { .. } => "suspended",
            Verdict::Revoked => "revoked",
            Verdict::NotYetValid { .. } => "not_yet_valid",
            Verdict::BadSignature => "bad_signature",
            Verdict::UnknownKey { .. } => "unknown_key",
            Verdict::Malformed { .. } => "malformed",
            Verdict::UnsupportedVersion { .. } => "unsupported_version",
            Verdict::HolderProofInvalid => "holder_proof_invalid",
            Verdict::HolderProofStale { .. } => "holder_proof_stale",
            Verdict::ListsTooOld { .. } => "lists_too_old",
            Verdict::HolderProofRequired => "holder_proof_required",
            Verdict::IssuedInFuture { .. } => "issued_in_future",
            Verdict::IssuerMismatch { .. } => "issuer_mismatch",
            Verdict::StatusIndexOutOfRange { .. } => "status_index_out_of_range",
        }
    }

    /// A one-line reason in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Verdict::Valid => "有效".to_owned(),
            Verdict::ValidEndorsementDue { due } => {
                format!("有效，请在 {} 前办理签注", cst(due, DAY))
            }
            Verdict::Suspended { since } => {
                format!("未按期签注，自 {} 起中止使用", cst(since, DAY))
            }
            Verdict::Revoked => "已注销（补领、注销或以欺骗手段取得）".to_owned(),
            Verdict::NotYetValid { valid_from } => {
                format!("尚未生效，生效时间 {}（北京时间）", cst(valid_from, MINUTE))
            }
            Verdict::BadSignature => "签名无效，凭证可能被篡改".to_owned(),
            Verdict::UnknownKey { kid } => format!("签发密钥不在信任列表中（kid {kid}）"),
            // The layer is for the log and the CLI's JSON; the person at the counter needs
            // to know only that this is not a whole permit QR.
            Verdict::Malformed { .. } => {
                "这不是居住证二维码，或二维码不完整，请让持证人重新出示后再扫".to_owned()
            }
            Verdict::UnsupportedVersion { version } => {
                format!("不支持的凭证版本 {version}，请更新核验程序")
            }
            Verdict::HolderProofInvalid => "持有人设备签名无效".to_owned(),
            Verdict::HolderProofStale { .. } => {
                "持有人设备签名已过期，请持有人刷新二维码（可能是截图）".to_owned()
            }
            Verdict::ListsTooOld {
                list: ListKind::StatusList,
                issued_at: None,
            } => "本机没有注销名单，无法核验，请联网更新核验名单后再扫".to_owned(),
            Verdict::ListsTooOld { list, issued_at } => format!(
                "本机{}太旧（{}），无法核验，请联网更新核验名单后再扫",
                match list {
                    ListKind::TrustList => "签发密钥名单",
                    ListKind::StatusList => "注销名单",
                },
                issued_at.map_or_else(String::new, |t| format!(
                    "更新于北京时间 {}",
                    cst(&t, MINUTE)
                ))
            ),
            Verdict::HolderProofRequired => {
                "此证须出示持有人手机上的实时二维码，截图或打印件不能用于核验".to_owned()
            }
            Verdict::IssuedInFuture { issued_at } => format!(
                "签发时间（北京时间 {}）晚于本机时间，请核对本机时间；凭证不予认可",
                cst(issued_at, MINUTE)
            ),
            Verdict::IssuerMismatch { .. } => {
                "凭证上的签发机关与签发密钥不符，凭证可能是伪造的".to_owned()
            }
            Verdict::StatusIndexOutOfRange { .. } => {
                "本机注销名单不包含此证（可能是新发的证），请联网更新核验名单后再扫".to_owned()
            }
        }
    }

    /// A one-line reason in English.
    pub fn message_en(&self) -> String {
        match self {
            Verdict::Valid => "valid".to_owned(),
            Verdict::ValidEndorsementDue { due } => {
                format!("valid; endorsement due by {}", cst(due, DAY))
            }
            Verdict::Suspended { since } => format!(
                "suspended since {}: the yearly endorsement was missed",
                cst(since, DAY)
            ),
            Verdict::Revoked => "revoked (replaced, cancelled or obtained by fraud)".to_owned(),
            Verdict::NotYetValid { valid_from } => {
                format!(
                    "not yet valid; valid from {} Beijing time",
                    cst(valid_from, MINUTE)
                )
            }
            Verdict::BadSignature => {
                "bad signature: the credential may have been altered".to_owned()
            }
            Verdict::UnknownKey { kid } => format!("unknown signing key (kid {kid})"),
            Verdict::Malformed { .. } => {
                "this is not a residence permit QR code, or it is incomplete: ask the holder to show it again".to_owned()
            }
            Verdict::UnsupportedVersion { version } => {
                format!("unsupported credential version {version}; update the verifier")
            }
            Verdict::HolderProofInvalid => "the holder's device signature is invalid".to_owned(),
            Verdict::HolderProofStale { signed_at } => format!(
                "the holder's device proof is stale (signed {} Beijing time); ask for a fresh QR",
                cst(signed_at, SECOND)
            ),
            Verdict::ListsTooOld {
                list: ListKind::StatusList,
                issued_at: None,
            } => "no revocation list on this device: go online to update the lists, then scan again"
                .to_owned(),
            Verdict::ListsTooOld { list, issued_at } => format!(
                "the {} on this device is too old{}: go online to update the lists, then scan again",
                match list {
                    ListKind::TrustList => "list of signing keys",
                    ListKind::StatusList => "revocation list",
                },
                issued_at.map_or_else(String::new, |t| format!(
                    " (from {} Beijing time)",
                    cst(&t, MINUTE)
                ))
            ),
            Verdict::HolderProofRequired => {
                "this permit must be shown as the live QR on the holder's phone; a screenshot or print is not accepted".to_owned()
            }
            Verdict::IssuedInFuture { issued_at } => format!(
                "issued at {} Beijing time, later than this device's clock: check the clock; not accepted",
                cst(issued_at, MINUTE)
            ),
            Verdict::IssuerMismatch { issuer, trusted_issuer } => format!(
                "the issuer on the permit ({issuer}) is not the one of its signing key ({trusted_issuer}): possibly forged"
            ),
            Verdict::StatusIndexOutOfRange { .. } => {
                "this permit is not in the revocation list on this device (perhaps newly issued): go online to update the lists, then scan again".to_owned()
            }
        }
    }
}

const DAY: &str = "%Y-%m-%d";
const MINUTE: &str = "%Y-%m-%d %H:%M";
const SECOND: &str = "%Y-%m-%d %H:%M:%S";

/// A moment as China Standard Time reads it (UTC+8 all year): the dates on the wallet and the
/// slip are Beijing dates, so a verdict cut from UTC would be a day off in the evening.
fn cst(t: &DateTime<Utc>, format: &str) -> String {
    (t.naive_utc() + TimeDelta::hours(8))
        .format(format)
        .to_string()
}

/// Something the verifier should know that does not change the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum Warning {
    /// The trust list is past its time to live: fetch a fresh one when online.
    TrustListExpired {
        /// `issued_at + ttl` of the trust list.
        expired_at: DateTime<Utc>,
    },
    /// The status list is past its time to live: recent revocations may be missing.
    StatusListExpired {
        /// `issued_at + ttl` of the status list.
        expired_at: DateTime<Utc>,
    },
    /// No status list was given: revocation was not checked.
    StatusListMissing,
    /// The credential's status index lies beyond the status list: revocation was not checked.
    StatusIndexOutOfRange {
        /// The credential's index.
        index: u64,
        /// How many entries the status list has.
        len: u64,
    },
    /// The credential is bound to a device key but no holder proof was presented
    /// (e.g. a printed confirmation slip): check the holder's identity document.
    HolderProofMissing,
    /// A holder proof was presented with a credential that has no device key; it was ignored.
    HolderProofUnexpected,
}

impl Warning {
    /// The stable snake_case code of the warning (the JSON `warning` tag).
    pub fn code(&self) -> &'static str {
        match self {
            Warning::TrustListExpired { .. } => "trust_list_expired",
            Warning::StatusListExpired { .. } => "status_list_expired",
            Warning::StatusListMissing => "status_list_missing",
            Warning::StatusIndexOutOfRange { .. } => "status_index_out_of_range",
            Warning::HolderProofMissing => "holder_proof_missing",
            Warning::HolderProofUnexpected => "holder_proof_unexpected",
        }
    }

    /// A one-line explanation in Chinese.
    pub fn message_zh(&self) -> &'static str {
        match self {
            Warning::TrustListExpired { .. } => "信任列表已过期，请联网更新",
            Warning::StatusListExpired { .. } => "状态列表已过期，最近的注销可能未包含",
            Warning::StatusListMissing => "缺少状态列表，未检查是否注销",
            Warning::StatusIndexOutOfRange { .. } => "状态列表未包含此凭证，未检查是否注销",
            Warning::HolderProofMissing => "凭证绑定了持有人设备但未出示设备签名，请核对身份证件",
            Warning::HolderProofUnexpected => "凭证未绑定设备，已忽略设备签名",
        }
    }

    /// A one-line explanation in English.
    pub fn message_en(&self) -> &'static str {
        match self {
            Warning::TrustListExpired { .. } => {
                "the trust list is past its time to live; update it"
            }
            Warning::StatusListExpired { .. } => {
                "the status list is past its time to live; recent revocations may be missing"
            }
            Warning::StatusListMissing => "no status list: revocation not checked",
            Warning::StatusIndexOutOfRange { .. } => {
                "the status list does not cover this credential: revocation not checked"
            }
            Warning::HolderProofMissing => {
                "device-bound credential shown without a device proof; check an identity document"
            }
            Warning::HolderProofUnexpected => {
                "a device proof came with a credential that has no device key; ignored"
            }
        }
    }
}

/// The result of [`crate::verify`]: a verdict, the permit's fields, and warnings.
///
/// `permit` and `claims` are present only when the issuer's signature verified (verdicts
/// `valid`, `valid_endorsement_due`, `suspended`, `revoked`, `not_yet_valid` and the holder
/// proof verdicts); never for unauthenticated data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// The permit's fields, when the signature verified.
    pub permit: Option<Permit>,
    /// The CWT claims and presentation, when the signature verified.
    pub claims: Option<Claims>,
    /// Warnings, in the order found.
    pub warnings: Vec<Warning>,
}

#[cfg(test)]
mod message_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_and_times_are_beijing_ones() {
        // 16:30 UTC on 4 December is already 5 December in Beijing, as on the wallet and slip.
        let since = Utc.with_ymd_and_hms(2027, 12, 4, 16, 30, 0).unwrap();
        let v = Verdict::Suspended { since };
        assert!(v.message_zh().contains("2027-12-05"), "{}", v.message_zh());
        assert!(v.message_en().contains("2027-12-05"), "{}", v.message_en());
        let v = Verdict::NotYetValid { valid_from: since };
        assert!(v.message_zh().contains("2027-12-05 00:30（北京时间）"));
        assert!(!v.message_en().contains("UTC"));
    }

    #[test]
    fn a_malformed_code_is_told_in_plain_words() {
        let v = Verdict::Malformed {
            layer: Layer::Zlib,
            reason: "truncated zlib stream".into(),
        };
        for m in [v.message_zh(), v.message_en()] {
            assert!(
                !m.contains("zlib") && !m.contains("层") && !m.contains("layer"),
                "{m}"
            );
        }
        assert!(v.message_zh().contains("重新出示"));
    }
}
