//! Decoding an RP1 QR text down to its claims: prefix, base45, zlib, COSE, CWT, permit claim.
//!
//! ```text
//! QR text = "RP1:" + base45( zlib( COSE_Sign1 ) )
//! ```

use chrono::{DateTime, Utc};
use coset::{CborSerializable, cwt::ClaimsSet, cwt::Timestamp};

use crate::cose::Sign1;
use crate::permit::{self, ClaimError, PERMIT_CLAIM_KEY, Permit, Presentation};
use crate::verdict::Layer;

/// The prefix of every RP1 QR text.
pub const PREFIX: &str = "RP1:";

/// The longest QR text accepted, in bytes (a version 40 QR code holds 4,296 alphanumerics).
pub const MAX_QR_TEXT_LEN: usize = 8192;

/// The largest decompressed COSE_Sign1 accepted, in bytes; zlib bombs stop here.
pub const MAX_COSE_LEN: usize = 8192;

/// A credential parsed down to its permit claim; its signature is not yet verified.
pub(crate) struct DecodedCredential {
    pub sign1: Sign1,
    pub issuer: String,
    pub issued_at: i64,
    pub not_before: i64,
    pub expires_at: i64,
    pub permit: Permit,
    pub presentation: Presentation,
}

/// Why a credential could not be decoded.
pub(crate) enum DecodeError {
    Malformed(Layer, String),
    UnsupportedVersion(u64),
}

fn malformed(layer: Layer, why: impl Into<String>) -> DecodeError {
    DecodeError::Malformed(layer, why.into())
}

/// Decodes the credential QR text (without any holder proof).
pub(crate) fn decode(text: &str) -> Result<DecodedCredential, DecodeError> {
    if text.len() > MAX_QR_TEXT_LEN {
        return Err(malformed(Layer::Prefix, "text too long for a QR code"));
    }
    let body = text
        .strip_prefix(PREFIX)
        .ok_or_else(|| malformed(Layer::Prefix, "does not start with RP1:"))?;
    let compressed = base45::decode(body)
        .map_err(|e| malformed(Layer::Base45, format!("invalid base45: {e}")))?;
    let cose = crate::zlib::inflate_bounded(&compressed, MAX_COSE_LEN)
        .map_err(|e| malformed(Layer::Zlib, e))?;
    let sign1 = Sign1::parse(&cose).map_err(|e| malformed(Layer::Cose, e.to_string()))?;
    if sign1.kid.is_empty() {
        return Err(malformed(Layer::Cose, "no kid"));
    }
    let claims = ClaimsSet::from_slice(&sign1.payload)
        .map_err(|e| malformed(Layer::Cwt, format!("not a CWT claims set: {e}")))?;
    let issuer = claims
        .issuer
        .ok_or_else(|| malformed(Layer::Cwt, "no iss"))?;
    let issued_at = seconds(claims.issued_at, "iat")?;
    let not_before = seconds(claims.not_before, "nbf")?;
    let expires_at = seconds(claims.expiration_time, "exp")?;
    let mut permit_claim = None;
    for (name, value) in claims.rest {
        if name == coset::cwt::ClaimName::PrivateUse(PERMIT_CLAIM_KEY) {
            permit_claim = Some(value);
        }
    }
    let permit_claim = permit_claim.ok_or_else(|| malformed(Layer::Cwt, "no permit claim"))?;
    let decoded = permit::decode_claim(permit_claim).map_err(|e| match e {
        ClaimError::UnsupportedVersion(v) => DecodeError::UnsupportedVersion(v),
        ClaimError::Malformed(why) => malformed(Layer::PermitClaim, why),
    })?;
    Ok(DecodedCredential {
        sign1,
        issuer,
        issued_at,
        not_before,
        expires_at,
        permit: decoded.permit,
        presentation: decoded.presentation,
    })
}

/// A CWT time claim as whole seconds within the range `DateTime<Utc>` can represent.
fn seconds(ts: Option<Timestamp>, claim: &str) -> Result<i64, DecodeError> {
    match ts {
        Some(Timestamp::WholeSeconds(s)) if DateTime::<Utc>::from_timestamp(s, 0).is_some() => {
            Ok(s)
        }
        Some(_) => Err(malformed(
            Layer::Cwt,
            format!("{claim} is not a whole-second time in range"),
        )),
        None => Err(malformed(Layer::Cwt, format!("no {claim}"))),
    }
}
