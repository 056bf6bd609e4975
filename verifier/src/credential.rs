//! Decoding an RP1 QR text down to its claims: prefix, base45, zlib, COSE, CWT, permit claim.
//!
//! ```text
//! QR text = "RP1:" + base45( zlib( COSE_Sign1 ) )
//! ```

use crate::cbor_reader::{CborReader, Head};
use chrono::{DateTime, Utc};

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
    let compressed = decode_base45(body).map_err(|e| malformed(Layer::Base45, e))?;
    let cose = crate::zlib::inflate_bounded(&compressed, MAX_COSE_LEN)
        .map_err(|e| malformed(Layer::Zlib, e))?;
    let sign1 = Sign1::parse(&cose).map_err(|e| malformed(Layer::Cose, e.to_string()))?;
    if sign1.kid.is_empty() {
        return Err(malformed(Layer::Cose, "no kid"));
    }
    let claims = read_claims(sign1.payload()).map_err(|e| malformed(Layer::Cwt, e))?;
    let issuer = claims
        .issuer
        .ok_or_else(|| malformed(Layer::Cwt, "no iss"))?;
    let issued_at = time_claim(claims.issued_at, "iat")?;
    let not_before = time_claim(claims.not_before, "nbf")?;
    let expires_at = time_claim(claims.expires_at, "exp")?;
    let permit_claim = claims
        .permit
        .ok_or_else(|| malformed(Layer::Cwt, "no permit claim"))?;
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

/// The value of each base45 character (RFC 9285 §4), 0xff for characters outside the alphabet.
#[allow(clippy::indexing_slicing)] // evaluated at compile time: an out-of-range index fails the build
const BASE45_VALUES: [u8; 256] = {
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Strict base45 decoding (RFC 9285): every group of 3 characters must encode at most 65535 and
/// a final group of 2 at most 255, so each byte string has exactly one encoding. (The `base45`
/// crate, used for encoding, truncates an oversized final pair instead of rejecting it.)
pub(crate) fn decode_base45(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        match BASE45_VALUES.get(usize::from(c)) {
            Some(&v) if v != 0xff => Ok(u32::from(v)),
            _ => Err(format!("character {:?} is not base45", char::from(c))),
        }
    };
    let input = text.as_bytes();
    let (groups, rest) = input.as_chunks::<3>();
    let mut out = Vec::with_capacity(groups.len() * 2 + 1);
    for &[c, d, e] in groups {
        let n = value(c)? + value(d)? * 45 + value(e)? * 45 * 45;
        let pair = u16::try_from(n).map_err(|_| "a 3-character group exceeds 65535".to_owned())?;
        out.extend_from_slice(&pair.to_be_bytes());
    }
    match *rest {
        [] => {}
        [c, d] => {
            let n = value(c)? + value(d)? * 45;
            out.push(u8::try_from(n).map_err(|_| "the final pair exceeds 255".to_owned())?);
        }
        _ => return Err("length leaves a single character".into()),
    }
    Ok(out)
}

/// The CWT claims RP1 reads; the permit claim is kept encoded.
#[derive(Default)]
struct CwtClaims<'a> {
    issuer: Option<String>,
    issued_at: Option<i64>,
    not_before: Option<i64>,
    expires_at: Option<i64>,
    permit: Option<&'a [u8]>,
}

/// The most claims a credential may have (it has five); keeps the duplicate check cheap.
const MAX_CLAIMS: usize = 32;

const ISS: i64 = 1;
const EXP: i64 = 4;
const NBF: i64 = 5;
const IAT: i64 = 6;

/// Reads a CWT claims set (RFC 8392): a map with integer or text keys. Other claims are skipped;
/// a claim given twice is an error.
fn read_claims(payload: &[u8]) -> Result<CwtClaims<'_>, String> {
    let mut r = CborReader::new(payload);
    let entries = r.map("the claims set")?;
    if entries > MAX_CLAIMS {
        return Err(format!("more than {MAX_CLAIMS} claims"));
    }
    let mut claims = CwtClaims::default();
    let mut seen: Vec<i64> = Vec::with_capacity(entries);
    for _ in 0..entries {
        if let Head::Text(_) = r.peek()? {
            // A claim with a text name: none that RP1 reads.
            r.text("claim name")?;
            r.item()?;
            continue;
        }
        let key = r.int("claim key")?;
        if seen.contains(&key) {
            return Err(format!("claim {key} given twice"));
        }
        seen.push(key);
        match key {
            ISS => claims.issuer = Some(r.text("iss")?.to_owned()),
            EXP => claims.expires_at = Some(time_value(&mut r, "exp")?),
            NBF => claims.not_before = Some(time_value(&mut r, "nbf")?),
            IAT => claims.issued_at = Some(time_value(&mut r, "iat")?),
            PERMIT_CLAIM_KEY => claims.permit = Some(r.item()?),
            _ => {
                r.item()?;
            }
        }
    }
    if !r.at_end() {
        return Err("trailing bytes after the claims set".into());
    }
    Ok(claims)
}

/// A NumericDate of whole seconds within the range `DateTime<Utc>` can represent.
fn time_value(r: &mut CborReader<'_>, claim: &str) -> Result<i64, String> {
    r.int(claim)
        .ok()
        .filter(|s| DateTime::<Utc>::from_timestamp(*s, 0).is_some())
        .ok_or_else(|| format!("{claim} is not a whole-second time in range"))
}

fn time_claim(value: Option<i64>, claim: &str) -> Result<i64, DecodeError> {
    value.ok_or_else(|| malformed(Layer::Cwt, format!("no {claim}")))
}

#[cfg(test)]
mod tests {
    use super::decode_base45;
    use proptest::prelude::*;

    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

    #[test]
    fn rfc_9285_examples() {
        assert_eq!(decode_base45("BB8").as_deref(), Ok(&b"AB"[..]));
        assert_eq!(decode_base45("%69 VD92EX0").as_deref(), Ok(&b"Hello!!"[..]));
        assert_eq!(decode_base45("UJCLQE7W581").as_deref(), Ok(&b"base-45"[..]));
        assert_eq!(decode_base45("QED8WEX0").as_deref(), Ok(&b"ietf!"[..]));
        assert!(decode_base45("GGW").is_err()); // 65536
        assert!(decode_base45("ZZ").is_err()); // 1610 > 255
        assert!(decode_base45("A").is_err());
        assert!(decode_base45("ab").is_err());
    }

    proptest! {
        #[test]
        fn round_trips_with_the_base45_crate(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert_eq!(decode_base45(&base45::encode(&bytes)), Ok(bytes));
        }

        #[test]
        fn agrees_with_the_base45_crate_on_canonical_text(
            chars in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..90)
        ) {
            let text = String::from_utf8(chars).unwrap_or_default();
            match (decode_base45(&text), base45::decode(&text)) {
                (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
                // The crate truncates an oversized final pair; then re-encoding differs.
                (Err(_), Ok(theirs)) => prop_assert_ne!(base45::encode(theirs), text),
                (Ok(ours), Err(_)) => prop_assert!(false, "only we accept {text:?} -> {ours:?}"),
                (Err(_), Err(_)) => {}
            }
        }
    }
}
