//! The COSE layer: COSE_Sign1 (RFC 9052) with EdDSA (Ed25519) only.
//!
//! Accepted: a COSE_Sign1, tagged (18) or untagged, whose protected header says `alg: EdDSA`;
//! the kid may sit in the protected or the unprotected header; the protected header may also
//! carry a content type. Anything else (crit, IVs, counter signatures, other unprotected
//! parameters, a detached payload, a signature that is not 64 bytes) is rejected, so that no
//! unsigned part of the message can change its meaning.

use coset::{CborSerializable, CoseSign1, TaggedCborSerializable, iana};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// A key identifier: the first 8 bytes of SHA-256 of the raw 32-byte Ed25519 public key.
pub type Kid = [u8; 8];

/// The kid of a public key: the first 8 bytes of SHA-256 of its 32 raw bytes.
pub fn kid_of(key: &VerifyingKey) -> Kid {
    let digest = Sha256::digest(key.as_bytes());
    let mut kid = [0u8; 8];
    kid.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
    kid
}

/// Why a COSE_Sign1 was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sign1Error {
    /// Not an acceptable COSE_Sign1 structure (see the module documentation).
    Malformed(String),
    /// The kid in the message is not the expected one.
    KidMismatch,
    /// The Ed25519 signature does not verify.
    BadSignature,
}

impl std::fmt::Display for Sign1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sign1Error::Malformed(why) => write!(f, "malformed COSE_Sign1: {why}"),
            Sign1Error::KidMismatch => f.write_str("COSE_Sign1 kid does not match the key"),
            Sign1Error::BadSignature => f.write_str("COSE_Sign1 signature does not verify"),
        }
    }
}

impl std::error::Error for Sign1Error {}

/// A structurally checked COSE_Sign1, its signature not yet verified.
pub(crate) struct Sign1 {
    /// The kid (protected or unprotected header), empty when absent.
    pub kid: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
    /// The signature.
    pub signature: Signature,
    /// The Sig_structure ("Signature1", protected, external_aad = empty, payload) that was signed.
    pub to_be_signed: Vec<u8>,
}

impl Sign1 {
    /// Parses and checks the structure; see the module documentation for what is accepted.
    pub fn parse(bytes: &[u8]) -> Result<Sign1, Sign1Error> {
        let sign1 = if bytes.first() == Some(&0xd2) {
            CoseSign1::from_tagged_slice(bytes)
        } else {
            CoseSign1::from_slice(bytes)
        }
        .map_err(|e| Sign1Error::Malformed(e.to_string()))?;

        let protected = &sign1.protected.header;
        if protected.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
            return Err(Sign1Error::Malformed("alg is not EdDSA".into()));
        }
        if !protected.crit.is_empty()
            || !protected.iv.is_empty()
            || !protected.partial_iv.is_empty()
            || !protected.counter_signatures.is_empty()
            || !protected.rest.is_empty()
        {
            return Err(Sign1Error::Malformed(
                "unexpected protected header parameter".into(),
            ));
        }
        let unprotected = &sign1.unprotected;
        if unprotected.alg.is_some()
            || !unprotected.crit.is_empty()
            || unprotected.content_type.is_some()
            || !unprotected.iv.is_empty()
            || !unprotected.partial_iv.is_empty()
            || !unprotected.counter_signatures.is_empty()
            || !unprotected.rest.is_empty()
        {
            return Err(Sign1Error::Malformed(
                "unexpected unprotected header parameter".into(),
            ));
        }
        let kid = match (protected.key_id.is_empty(), unprotected.key_id.is_empty()) {
            (_, true) => protected.key_id.clone(),
            (true, false) => unprotected.key_id.clone(),
            (false, false) => return Err(Sign1Error::Malformed("kid in both headers".into())),
        };
        let signature = Signature::from_slice(&sign1.signature)
            .map_err(|_| Sign1Error::Malformed("signature is not 64 bytes".into()))?;
        let to_be_signed = sign1.tbs_data(b"");
        let payload = sign1
            .payload
            .ok_or_else(|| Sign1Error::Malformed("detached payload".into()))?;
        Ok(Sign1 {
            kid,
            payload,
            signature,
            to_be_signed,
        })
    }

    /// Verifies the signature with `key` (strict Ed25519: RFC 8032 plus rejection of
    /// small-order keys and non-canonical encodings).
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        key.verify_strict(&self.to_be_signed, &self.signature)
            .is_ok()
    }
}

/// Verifies a COSE_Sign1 with an Ed25519 key and returns its payload.
///
/// If `expected_kid` is given, the message must carry exactly that kid (the kid usually sits in
/// the unsigned header, so this is what stops a changed kid from passing).
pub fn verify_sign1(
    bytes: &[u8],
    key: &VerifyingKey,
    expected_kid: Option<&[u8]>,
) -> Result<Vec<u8>, Sign1Error> {
    let sign1 = Sign1::parse(bytes)?;
    if let Some(kid) = expected_kid
        && sign1.kid != kid
    {
        return Err(Sign1Error::KidMismatch);
    }
    if !sign1.verify(key) {
        return Err(Sign1Error::BadSignature);
    }
    Ok(sign1.payload)
}

/// Signs `payload` as a tagged COSE_Sign1 with alg EdDSA and the key's kid in the protected header.
#[cfg(feature = "issue")]
pub fn sign1(
    payload: Vec<u8>,
    key: &ed25519_dalek::SigningKey,
) -> Result<Vec<u8>, crate::issue::IssueError> {
    use ed25519_dalek::Signer;
    let kid = kid_of(&key.verifying_key());
    let protected = coset::HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.to_vec())
        .build();
    coset::CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |data| key.sign(data).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .map_err(|e| crate::issue::IssueError::Encoding(e.to_string()))
}
