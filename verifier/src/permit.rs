//! The permit: the private CWT claim that carries the residence permit's fields.
//!
//! The claim (CWT claim key [`PERMIT_CLAIM_KEY`]) is a CBOR map with small integer keys:
//!
//! | key | field | CBOR type |
//! | --- | --- | --- |
//! | 0 | schema version ([`SCHEMA_VERSION`]) | uint |
//! | 1 | permit number | tstr |
//! | 2 | holder name | tstr |
//! | 3 | sex, GB/T 2261.1: 1 male, 2 female | uint |
//! | 4 | birth date, `YYYY-MM-DD` | tstr |
//! | 5 | ID number: full, or masked to the first 6 and last 4 characters with `*` | tstr |
//! | 6 | presentation: 0 `full`, 1 `basic` | uint |
//! | 7 | residence district | tstr |
//! | 8 | issuing authority | tstr |
//! | 9 | first issue date, `YYYY-MM-DD` | tstr |
//! | 10 | last endorsement date, `YYYY-MM-DD` (absent before the first endorsement) | tstr |
//! | 11 | status-list index | uint |
//! | 12 | holder device public key (Ed25519, 32 bytes), optional | bstr |
//!
//! Unknown keys are rejected, so that one version has one meaning.

use chrono::{DateTime, NaiveDate, Utc};
#[cfg(feature = "issue")]
use ciborium::Value;

use crate::cbor_reader::CborReader;
use serde::{Deserialize, Serialize};

/// CWT claim key of the permit claim (private-use range, RFC 8392 §9.1).
pub const PERMIT_CLAIM_KEY: i64 = -65537;

/// The permit claim schema version this crate reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

const K_VERSION: u64 = 0;
const K_PERMIT_NUMBER: u64 = 1;
const K_NAME: u64 = 2;
const K_SEX: u64 = 3;
const K_BIRTH_DATE: u64 = 4;
const K_ID_NUMBER: u64 = 5;
const K_PRESENTATION: u64 = 6;
const K_DISTRICT: u64 = 7;
const K_AUTHORITY: u64 = 8;
const K_FIRST_ISSUED: u64 = 9;
const K_LAST_ENDORSED: u64 = 10;
const K_STATUS_INDEX: u64 = 11;
const K_DEVICE_KEY: u64 = 12;

/// The holder's sex as printed on the permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// 男
    #[serde(rename = "M")]
    Male,
    /// 女
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    /// The GB/T 2261.1 code written in the claim: 1 male, 2 female.
    pub fn code(self) -> u64 {
        match self {
            Sex::Male => 1,
            Sex::Female => 2,
        }
    }

    /// `"M"` or `"F"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

/// Which fields the holder chose to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    /// Everything, with the full ID number: for a police or government counter.
    Full,
    /// The ID number masked to its first 6 and last 4 characters: for banks, hospitals, landlords.
    Basic,
}

impl Presentation {
    #[cfg_attr(not(feature = "issue"), allow(dead_code))]
    fn code(self) -> u64 {
        match self {
            Presentation::Full => 0,
            Presentation::Basic => 1,
        }
    }

    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Presentation::Full),
            1 => Some(Presentation::Basic),
            _ => None,
        }
    }
}

/// The fields of an electronic residence permit (居住证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permit {
    /// Permit number (居住证号码).
    pub permit_number: String,
    /// Holder name.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// ID number (公民身份号码): full, or masked (`330102********1234`) in the basic presentation.
    pub id_number: String,
    /// Residence district, e.g. `浙江省杭州市上城区`.
    pub district: String,
    /// Issuing authority (签发机关), e.g. `杭州市公安局上城区分局`.
    pub authority: String,
    /// Date of first issue.
    pub first_issued: NaiveDate,
    /// Date of the last yearly endorsement (签注), if any.
    pub last_endorsed: Option<NaiveDate>,
    /// This credential's index in the status list.
    pub status_index: u64,
    /// The holder's device public key (Ed25519) for holder binding, if bound.
    #[serde(with = "optional_hex_key", default)]
    pub device_key: Option<[u8; 32]>,
}

/// The CWT claims around the permit, returned with a verified credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `iss`: the issuer's name.
    pub issuer: String,
    /// `iat`: when the credential was issued.
    pub issued_at: DateTime<Utc>,
    /// `nbf`: valid from.
    pub not_before: DateTime<Utc>,
    /// `exp`: end of validity; the next endorsement is due by then.
    pub expires_at: DateTime<Utc>,
    /// The signing key's kid, lowercase hex.
    pub kid: String,
    /// Which presentation this credential is.
    pub presentation: Presentation,
}

/// Masks an ID number to its first 6 and last 4 characters, `*` in between.
/// Returns `None` when it has 10 characters or fewer (nothing would be hidden).
pub fn mask_id_number(id_number: &str) -> Option<String> {
    let chars: Vec<char> = id_number.chars().collect();
    let n = chars.len();
    if n <= 10 {
        return None;
    }
    let mut masked = String::with_capacity(id_number.len());
    for (i, c) in chars.iter().enumerate() {
        masked.push(if i < 6 || i >= n - 4 { *c } else { '*' });
    }
    Some(masked)
}

/// Why a permit claim was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClaimError {
    /// The claim's schema version is not [`SCHEMA_VERSION`].
    UnsupportedVersion(u64),
    /// The claim does not have the fields of its version.
    Malformed(String),
}

/// A parsed permit claim.
pub(crate) struct PermitClaim {
    pub permit: Permit,
    pub presentation: Presentation,
}

/// Reads the permit claim (its CBOR encoding): first its version, then the version's fields.
pub(crate) fn decode_claim(encoded: &[u8]) -> Result<PermitClaim, ClaimError> {
    let bad = ClaimError::Malformed;
    let mut r = CborReader::new(encoded);
    let entries = r
        .map("the permit claim")
        .map_err(|_| bad("the permit claim is not a map".into()))?;
    // Each field's encoding by key, so that the version is read before anything else.
    let mut slots: [Option<&[u8]>; 13] = Default::default();
    for _ in 0..entries {
        let key = r
            .uint("key")
            .map_err(|_| bad("unknown key in the permit claim".into()))?;
        let slot = usize::try_from(key)
            .ok()
            .and_then(|k| slots.get_mut(k))
            .ok_or_else(|| bad("unknown key in the permit claim".into()))?;
        if slot.is_some() {
            return Err(bad("duplicate key in the permit claim".into()));
        }
        *slot = Some(r.item().map_err(bad)?);
    }
    let field = |key: u64| -> Option<CborReader<'_>> {
        usize::try_from(key)
            .ok()
            .and_then(|k| slots.get(k).copied().flatten())
            .map(CborReader::new)
    };
    let required = |key: u64, name: &str| -> Result<CborReader<'_>, ClaimError> {
        field(key).ok_or_else(|| bad(format!("missing {name}")))
    };
    let version = required(K_VERSION, "version")?
        .uint("version")
        .map_err(bad)?;
    if version != SCHEMA_VERSION {
        return Err(ClaimError::UnsupportedVersion(version));
    }
    let text = |key: u64, name: &str| -> Result<String, ClaimError> {
        required(key, name)?
            .text(name)
            .map(str::to_owned)
            .map_err(bad)
    };
    let uint = |key: u64, name: &str| -> Result<u64, ClaimError> {
        required(key, name)?.uint(name).map_err(bad)
    };
    let date = |mut r: CborReader<'_>, name: &str| -> Result<NaiveDate, ClaimError> {
        parse_date(r.text(name).map_err(bad)?, name)
    };
    let sex = match uint(K_SEX, "sex")? {
        1 => Sex::Male,
        2 => Sex::Female,
        _ => return Err(bad("sex is neither 1 nor 2".into())),
    };
    let presentation = Presentation::from_code(uint(K_PRESENTATION, "presentation")?)
        .ok_or_else(|| bad("unknown presentation".into()))?;
    let last_endorsed = field(K_LAST_ENDORSED)
        .map(|r| date(r, "last endorsement date"))
        .transpose()?;
    let device_key = field(K_DEVICE_KEY)
        .map(|mut r| {
            let key = r.bytes("device key").map_err(bad)?;
            <[u8; 32]>::try_from(key).map_err(|_| bad("device key is not 32 bytes".into()))
        })
        .transpose()?;
    Ok(PermitClaim {
        permit: Permit {
            permit_number: text(K_PERMIT_NUMBER, "permit number")?,
            name: text(K_NAME, "name")?,
            sex,
            birth_date: date(required(K_BIRTH_DATE, "birth date")?, "birth date")?,
            id_number: text(K_ID_NUMBER, "ID number")?,
            district: text(K_DISTRICT, "district")?,
            authority: text(K_AUTHORITY, "authority")?,
            first_issued: date(
                required(K_FIRST_ISSUED, "first issue date")?,
                "first issue date",
            )?,
            last_endorsed,
            status_index: uint(K_STATUS_INDEX, "status index")?,
            device_key,
        },
        presentation,
    })
}

/// Writes the permit claim for a presentation (the ID number is masked for `basic`).
#[cfg(feature = "issue")]
pub(crate) fn encode_claim(
    permit: &Permit,
    presentation: Presentation,
) -> Result<Value, crate::issue::IssueError> {
    let id_number = match presentation {
        Presentation::Full => permit.id_number.clone(),
        Presentation::Basic => {
            mask_id_number(&permit.id_number).ok_or(crate::issue::IssueError::IdNumberTooShort)?
        }
    };
    let date = |d: NaiveDate| Value::Text(d.format("%Y-%m-%d").to_string());
    let mut map = vec![
        (K_VERSION.into(), SCHEMA_VERSION.into()),
        (
            K_PERMIT_NUMBER.into(),
            Value::Text(permit.permit_number.clone()),
        ),
        (K_NAME.into(), Value::Text(permit.name.clone())),
        (K_SEX.into(), permit.sex.code().into()),
        (K_BIRTH_DATE.into(), date(permit.birth_date)),
        (K_ID_NUMBER.into(), Value::Text(id_number)),
        (K_PRESENTATION.into(), presentation.code().into()),
        (K_DISTRICT.into(), Value::Text(permit.district.clone())),
        (K_AUTHORITY.into(), Value::Text(permit.authority.clone())),
        (K_FIRST_ISSUED.into(), date(permit.first_issued)),
    ];
    if let Some(d) = permit.last_endorsed {
        map.push((K_LAST_ENDORSED.into(), date(d)));
    }
    map.push((K_STATUS_INDEX.into(), permit.status_index.into()));
    if let Some(key) = permit.device_key {
        map.push((K_DEVICE_KEY.into(), Value::Bytes(key.to_vec())));
    }
    Ok(Value::Map(map))
}

/// Exactly `YYYY-MM-DD`, digits only (no signs, no spaces).
fn parse_date(s: &str, field: &str) -> Result<NaiveDate, ClaimError> {
    // Exactly `YYYY-MM-DD`, digits only (no signs, no spaces).
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let b = s.as_bytes();
    let date = if b.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        match (digits(0..4), digits(5..7), digits(8..10)) {
            (Some(y), Some(m), Some(d)) => i32::try_from(y)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, m, d)),
            _ => None,
        }
    } else {
        None
    };
    date.ok_or_else(|| ClaimError::Malformed(format!("{field} is not YYYY-MM-DD")))
}

/// Serde for `Option<[u8; 32]>` as lowercase hex (or null).
mod optional_hex_key {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
        match key {
            Some(k) => s.serialize_some(&hex::encode(k)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(t) => {
                let mut key = [0u8; 32];
                hex::decode_to_slice(&t, &mut key).map_err(serde::de::Error::custom)?;
                Ok(Some(key))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_first_six_and_last_four() {
        assert_eq!(
            mask_id_number("330102199001011234").as_deref(),
            Some("330102********1234")
        );
        assert_eq!(mask_id_number("1234567890"), None);
    }
}
