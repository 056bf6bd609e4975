//! The trust list: the issuer keys a verifier accepts, signed by a root key the verifier pins.
//!
//! Wire format: a COSE_Sign1 (EdDSA, kid of the root key) whose payload is the CBOR map
//!
//! ```text
//! { "iss": tstr, "iat": int, "ttl": uint,
//!   "keys": [ { "kid": bstr .size 8, "iss": tstr, "key": bstr .size 32,
//!               "from": int, "until": int / null }, * ] }
//! ```
//!
//! Times are Unix seconds. A key's `from`..`until` is the period in which it may **sign**: a
//! credential verifies with a key when its `iat` falls inside that period, so after a rotation
//! the old key keeps verifying what it signed until those credentials expire. Several keys may
//! be live at once, and when several share a kid, each is tried.

use chrono::{DateTime, Utc};
use ciborium::Value;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use crate::cose::{Kid, kid_of, verify_sign1};
use crate::signed_list::{ListError, ListFields, expiry, malformed};

/// The largest trust list accepted, in bytes.
pub const MAX_TRUST_LIST_LEN: usize = 1 << 20;

/// One issuer key in the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// `kid_of(public_key)`.
    #[serde(serialize_with = "hex_bytes")]
    pub kid: Kid,
    /// The issuer's name (the credentials' `iss`).
    pub issuer: String,
    /// The Ed25519 public key.
    #[serde(serialize_with = "hex_key")]
    pub public_key: VerifyingKey,
    /// Start of the period in which this key may sign.
    pub valid_from: DateTime<Utc>,
    /// End of that period, if any.
    pub valid_until: Option<DateTime<Utc>>,
}

impl TrustedKey {
    /// A trusted key; its kid is derived from the public key.
    pub fn new(
        public_key: VerifyingKey,
        issuer: impl Into<String>,
        valid_from: DateTime<Utc>,
        valid_until: Option<DateTime<Utc>>,
    ) -> TrustedKey {
        TrustedKey {
            kid: kid_of(&public_key),
            issuer: issuer.into(),
            public_key,
            valid_from,
            valid_until,
        }
    }

    /// Whether this key may have signed something issued at `issued_at` (Unix seconds).
    pub fn covers(&self, issued_at: i64) -> bool {
        self.valid_from.timestamp() <= issued_at
            && self
                .valid_until
                .is_none_or(|until| issued_at <= until.timestamp())
    }
}

/// A verified trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustList {
    /// Who signed the list (the root's name).
    pub issuer: String,
    /// When the list was issued.
    pub issued_at: DateTime<Utc>,
    /// How long after `issued_at` the list should be replaced, in seconds.
    pub ttl_seconds: u64,
    /// The issuer keys.
    pub keys: Vec<TrustedKey>,
}

impl TrustList {
    /// An unsigned trust list (for building and signing, or for tests).
    pub fn new(
        issuer: impl Into<String>,
        issued_at: DateTime<Utc>,
        ttl_seconds: u64,
        keys: Vec<TrustedKey>,
    ) -> TrustList {
        TrustList {
            issuer: issuer.into(),
            issued_at,
            ttl_seconds,
            keys,
        }
    }

    /// Parses a signed trust list and verifies it against the pinned root key.
    pub fn from_cose(bytes: &[u8], root_key: &VerifyingKey) -> Result<TrustList, ListError> {
        if bytes.len() > MAX_TRUST_LIST_LEN {
            return Err(malformed("trust list too large"));
        }
        let root_kid = kid_of(root_key);
        let payload = verify_sign1(bytes, root_key, Some(&root_kid)).map_err(|e| match e {
            crate::cose::Sign1Error::Malformed(why) => ListError::Malformed(why),
            crate::cose::Sign1Error::KidMismatch => ListError::UnknownSigner,
            crate::cose::Sign1Error::BadSignature => ListError::BadSignature,
        })?;
        let mut fields = ListFields::parse(&payload)?;
        let header = fields.header()?;
        let Value::Array(entries) = fields.required("keys")? else {
            return Err(malformed("keys is not an array"));
        };
        let mut keys = Vec::with_capacity(entries.len());
        for entry in entries {
            let mut key = ListFields::from_value(entry)?;
            let kid = key.bytes("kid")?;
            let raw = key.bytes("key")?;
            let raw: [u8; 32] = raw
                .as_slice()
                .try_into()
                .map_err(|_| malformed("key is not 32 bytes"))?;
            let public_key = VerifyingKey::from_bytes(&raw)
                .map_err(|_| malformed("key is not a valid point"))?;
            if public_key.is_weak() {
                return Err(malformed("key has small order"));
            }
            let trusted = TrustedKey::new(
                public_key,
                key.text("iss")?,
                key.time("from")?,
                key.optional_time("until")?,
            );
            if kid != trusted.kid {
                return Err(malformed("kid does not match its key"));
            }
            keys.push(trusted);
        }
        Ok(TrustList {
            issuer: header.issuer,
            issued_at: header.issued_at,
            ttl_seconds: header.ttl_seconds,
            keys,
        })
    }

    /// `issued_at + ttl`: after this the list is stale (a warning, not a failure).
    pub fn expires_at(&self) -> DateTime<Utc> {
        expiry(self.issued_at, self.ttl_seconds)
    }

    /// The keys with this kid that may have signed something issued at `issued_at`.
    pub fn keys_for<'a>(
        &'a self,
        kid: &'a [u8],
        issued_at: i64,
    ) -> impl Iterator<Item = &'a TrustedKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.kid.as_slice() == kid && k.covers(issued_at))
    }

    /// Signs the list with the root key (COSE_Sign1, kid of the root key).
    #[cfg(feature = "issue")]
    pub fn to_cose(
        &self,
        root_key: &ed25519_dalek::SigningKey,
    ) -> Result<Vec<u8>, crate::issue::IssueError> {
        let keys = self
            .keys
            .iter()
            .map(|k| {
                Value::Map(vec![
                    (Value::Text("kid".into()), Value::Bytes(k.kid.to_vec())),
                    (Value::Text("iss".into()), Value::Text(k.issuer.clone())),
                    (
                        Value::Text("key".into()),
                        Value::Bytes(k.public_key.as_bytes().to_vec()),
                    ),
                    (Value::Text("from".into()), k.valid_from.timestamp().into()),
                    (
                        Value::Text("until".into()),
                        k.valid_until
                            .map_or(Value::Null, |t| Value::from(t.timestamp())),
                    ),
                ])
            })
            .collect();
        let payload = crate::signed_list::encode_payload(vec![
            ("iss", Value::Text(self.issuer.clone())),
            ("iat", self.issued_at.timestamp().into()),
            ("ttl", self.ttl_seconds.into()),
            ("keys", Value::Array(keys)),
        ])?;
        crate::cose::sign1(payload, root_key)
    }
}

fn hex_bytes<S: serde::Serializer>(bytes: &Kid, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

fn hex_key<S: serde::Serializer>(key: &VerifyingKey, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(key.as_bytes()))
}
