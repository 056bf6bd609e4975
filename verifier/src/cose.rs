//! The COSE layer: COSE_Sign1 (RFC 9052) with EdDSA (Ed25519) only.
//!
//! Accepted: a COSE_Sign1, tagged (18) or untagged, whose protected header says `alg: EdDSA`;
//! the kid may sit in the protected or the unprotected header; the protected header may also
//! carry a content type. Anything else (crit, IVs, counter signatures, other unprotected
//! parameters, a detached payload, a signature that is not 64 bytes) is rejected, so that no
//! unsigned part of the message can change its meaning.

use coset::{CborSerializable, iana};

use crate::cbor_reader::{CborReader, Head};
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
    /// The signature.
    pub signature: Signature,
    /// The Sig_structure `["Signature1", protected, h'', payload]` that was signed; the payload
    /// is its tail, so the message is held once.
    pub to_be_signed: Vec<u8>,
    payload_start: usize,
}

fn malformed(why: impl Into<String>) -> Sign1Error {
    Sign1Error::Malformed(why.into())
}

/// Appends a CBOR byte string head for `len` bytes.
fn push_bstr_head(out: &mut Vec<u8>, len: usize) {
    let len = len as u64;
    match len {
        0..=23 => out.push(0x40 | len as u8),
        24..=0xff => out.extend_from_slice(&[0x58, len as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0x5a);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
        _ => {
            out.push(0x5b);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

impl Sign1 {
    /// Parses and checks the structure; see the module documentation for what is accepted.
    ///
    /// `COSE_Sign1 = #6.18([protected: bstr .cbor header_map, unprotected: header_map,
    /// payload: bstr / nil, signature: bstr])`, the tag optional.
    pub fn parse(bytes: &[u8]) -> Result<Sign1, Sign1Error> {
        let mut r = CborReader::new(bytes);
        let mut head = r.head().map_err(malformed)?;
        if let Head::Tag(tag) = head {
            if tag != 18 {
                return Err(malformed("tag is not COSE_Sign1 (18)"));
            }
            head = r.head().map_err(malformed)?;
        }
        if head != Head::Array(4) {
            return Err(malformed("not an array of 4"));
        }
        let protected_bytes = r.bytes("protected header").map_err(malformed)?;
        let protected = if protected_bytes.is_empty() {
            coset::Header::default()
        } else {
            coset::Header::from_slice(protected_bytes)
                .map_err(|e| malformed(format!("protected header: {e}")))?
        };
        if protected.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
            return Err(malformed("alg is not EdDSA"));
        }
        if !protected.crit.is_empty()
            || !protected.iv.is_empty()
            || !protected.partial_iv.is_empty()
            || !protected.counter_signatures.is_empty()
            || !protected.rest.is_empty()
        {
            return Err(malformed("unexpected protected header parameter"));
        }
        // The unprotected header may hold the kid (label 4) and nothing else.
        let mut unprotected_kid: Option<&[u8]> = None;
        let entries = r.map("unprotected header").map_err(malformed)?;
        for _ in 0..entries {
            if r.head().map_err(malformed)? != Head::Uint(4) || unprotected_kid.is_some() {
                return Err(malformed("unexpected unprotected header parameter"));
            }
            unprotected_kid = Some(r.bytes("kid").map_err(malformed)?);
        }
        let kid = match (protected.key_id.is_empty(), unprotected_kid) {
            (_, None) => protected.key_id,
            (true, Some(kid)) => kid.to_vec(),
            (false, Some(_)) => return Err(malformed("kid in both headers")),
        };
        let payload = match r.peek().map_err(malformed)? {
            Head::Bytes(_) => r.bytes("payload").map_err(malformed)?,
            Head::Simple(22) => return Err(malformed("detached payload")),
            _ => return Err(malformed("payload is not a byte string")),
        };
        let signature = Signature::from_slice(r.bytes("signature").map_err(malformed)?)
            .map_err(|_| malformed("signature is not 64 bytes"))?;
        if !r.at_end() {
            return Err(malformed("trailing bytes after the COSE_Sign1"));
        }
        // Sig_structure = ["Signature1", protected, external_aad = h'', payload]
        let mut to_be_signed = Vec::with_capacity(protected_bytes.len() + payload.len() + 24);
        to_be_signed.push(0x84);
        to_be_signed.push(0x6a);
        to_be_signed.extend_from_slice(b"Signature1");
        push_bstr_head(&mut to_be_signed, protected_bytes.len());
        to_be_signed.extend_from_slice(protected_bytes);
        to_be_signed.push(0x40);
        push_bstr_head(&mut to_be_signed, payload.len());
        let payload_start = to_be_signed.len();
        to_be_signed.extend_from_slice(payload);
        Ok(Sign1 {
            kid,
            signature,
            to_be_signed,
            payload_start,
        })
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        self.to_be_signed.get(self.payload_start..).unwrap_or(&[])
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
    Ok(sign1.payload().to_vec())
}

/// Signs `payload` as a tagged COSE_Sign1 with alg EdDSA and the key's kid in the protected header.
#[cfg(feature = "issue")]
pub fn sign1(
    payload: Vec<u8>,
    key: &ed25519_dalek::SigningKey,
) -> Result<Vec<u8>, crate::issue::IssueError> {
    use coset::TaggedCborSerializable;
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
