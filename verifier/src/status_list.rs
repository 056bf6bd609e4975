//! The status list: one bit per issued credential, 1 = revoked (IETF Token Status List style).
//!
//! Wire format: a COSE_Sign1 (EdDSA) signed by a key of the trust list that covers the list's
//! `iat`, whose payload is the CBOR map
//!
//! ```text
//! { "iss": tstr, "iat": int, "ttl": uint,
//!   "status_list": { "bits": 1, "lst": bstr } }
//! ```
//!
//! `lst` is the zlib-compressed bit array; the status of index `i` is bit `i % 8` (least
//! significant first) of byte `i / 8`. 13 million credentials take 1.6 MB before compression.

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;

use crate::cose::Sign1;
use crate::signed_list::{ListError, ListFields, expiry, malformed};
use crate::trust_list::TrustList;

/// The largest signed status list accepted, in bytes.
pub const MAX_STATUS_LIST_LEN: usize = 8 << 20;

/// The largest decompressed bit array accepted, in bytes (134 million credentials).
pub const MAX_STATUS_BITS_LEN: usize = 16 << 20;

/// A verified status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    /// Who signed the list.
    pub issuer: String,
    /// When the list was issued.
    pub issued_at: DateTime<Utc>,
    /// How long after `issued_at` the list should be replaced, in seconds.
    pub ttl_seconds: u64,
    bits: Vec<u8>,
}

impl StatusList {
    /// Parses a signed status list and verifies it with a key from the (already verified) trust
    /// list whose signing period covers the list's `iat`.
    pub fn from_cose(bytes: &[u8], trust_list: &TrustList) -> Result<StatusList, ListError> {
        if bytes.len() > MAX_STATUS_LIST_LEN {
            return Err(malformed("status list too large"));
        }
        let sign1 = Sign1::parse(bytes).map_err(|e| malformed(e.to_string()))?;
        let mut fields = ListFields::parse(sign1.payload())?;
        let header = fields.header()?;
        let mut candidates = trust_list
            .keys_for(&sign1.kid, header.issued_at.timestamp())
            .peekable();
        if candidates.peek().is_none() {
            return Err(ListError::UnknownSigner);
        }
        let keys: Vec<&VerifyingKey> = candidates.map(|k| &k.public_key).collect();
        if !keys.iter().any(|k| sign1.verify(k)) {
            return Err(ListError::BadSignature);
        }
        let mut list = ListFields::from_value(fields.required("status_list")?)?;
        if list.uint("bits")? != 1 {
            return Err(malformed("only 1 bit per status is supported"));
        }
        let compressed = list.bytes("lst")?;
        let bits = crate::zlib::inflate_bounded(&compressed, MAX_STATUS_BITS_LEN)
            .map_err(|e| malformed(format!("lst: {e}")))?;
        Ok(StatusList {
            issuer: header.issuer,
            issued_at: header.issued_at,
            ttl_seconds: header.ttl_seconds,
            bits,
        })
    }

    /// How many credentials the list covers.
    pub fn len(&self) -> u64 {
        (self.bits.len() as u64).saturating_mul(8)
    }

    /// Whether the list covers no credential.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Whether the credential at `index` is revoked; `None` when the list does not cover it.
    pub fn is_revoked(&self, index: u64) -> Option<bool> {
        let byte = usize::try_from(index / 8).ok()?;
        let bit = index % 8;
        self.bits.get(byte).map(|b| (b >> bit) & 1 == 1)
    }

    /// The revoked indices, in increasing order.
    pub fn revoked_indices(&self) -> impl Iterator<Item = u64> + '_ {
        self.bits.iter().enumerate().flat_map(|(i, b)| {
            (0..8u64)
                .filter(move |bit| (b >> bit) & 1 == 1)
                .map(move |bit| (i as u64) * 8 + bit)
        })
    }

    /// `issued_at + ttl`: after this the list is stale (a warning, not a failure).
    pub fn expires_at(&self) -> DateTime<Utc> {
        expiry(self.issued_at, self.ttl_seconds)
    }

    /// An empty status list covering `len` credentials (rounded up to a multiple of 8), none revoked.
    #[cfg(feature = "issue")]
    pub fn new(
        issuer: impl Into<String>,
        issued_at: DateTime<Utc>,
        ttl_seconds: u64,
        len: u64,
    ) -> StatusList {
        let bytes = usize::try_from(len.div_ceil(8))
            .unwrap_or(MAX_STATUS_BITS_LEN)
            .min(MAX_STATUS_BITS_LEN);
        StatusList {
            issuer: issuer.into(),
            issued_at,
            ttl_seconds,
            bits: vec![0; bytes],
        }
    }

    /// A status list over a ready bit array (as the issuer keeps it: bit `i % 8` of byte
    /// `i / 8`, 1 = revoked), covering `8 * bits.len()` credentials, without setting bits one
    /// by one. More than [`MAX_STATUS_BITS_LEN`] bytes is refused: no verifier would read it.
    #[cfg(feature = "issue")]
    pub fn from_bits(
        issuer: impl Into<String>,
        issued_at: DateTime<Utc>,
        ttl_seconds: u64,
        bits: Vec<u8>,
    ) -> Result<StatusList, crate::issue::IssueError> {
        if bits.len() > MAX_STATUS_BITS_LEN {
            return Err(crate::issue::IssueError::StatusIndexTooLarge);
        }
        Ok(StatusList {
            issuer: issuer.into(),
            issued_at,
            ttl_seconds,
            bits,
        })
    }

    /// Sets or clears the revoked bit of `index`, growing the list if needed.
    #[cfg(feature = "issue")]
    pub fn set_revoked(
        &mut self,
        index: u64,
        revoked: bool,
    ) -> Result<(), crate::issue::IssueError> {
        let byte = usize::try_from(index / 8)
            .ok()
            .filter(|b| *b < MAX_STATUS_BITS_LEN)
            .ok_or(crate::issue::IssueError::StatusIndexTooLarge)?;
        if byte >= self.bits.len() {
            self.bits.resize(byte + 1, 0);
        }
        let mask = 1u8 << (index % 8);
        if let Some(b) = self.bits.get_mut(byte) {
            if revoked {
                *b |= mask;
            } else {
                *b &= !mask;
            }
        }
        Ok(())
    }

    /// Signs the list (COSE_Sign1) with an issuer key that the trust list carries.
    #[cfg(feature = "issue")]
    pub fn to_cose(
        &self,
        signer: &crate::issue::Issuer,
    ) -> Result<Vec<u8>, crate::issue::IssueError> {
        use ciborium::Value;
        let lst = crate::zlib::deflate(&self.bits);
        let payload = crate::signed_list::encode_payload(vec![
            ("iss", Value::Text(self.issuer.clone())),
            ("iat", self.issued_at.timestamp().into()),
            ("ttl", self.ttl_seconds.into()),
            (
                "status_list",
                Value::Map(vec![
                    (Value::Text("bits".into()), 1u64.into()),
                    (Value::Text("lst".into()), Value::Bytes(lst)),
                ]),
            ),
        ])?;
        crate::cose::sign1(payload, signer.signing_key())
    }
}
