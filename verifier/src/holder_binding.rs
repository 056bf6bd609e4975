//! Holder binding: a device signature that proves the QR is shown by the device the credential
//! was bound to, recently.
//!
//! A credential whose permit claim carries a device key (key 12) is presented as
//!
//! ```text
//! presentation = credential QR text + "#" + base45( signed_at || signature )
//! message      = "RP1-holder-proof-v1" || 0x00 || SHA-256(credential QR text) || signed_at
//! signature    = Ed25519(device key, message)                      (64 bytes)
//! ```
//!
//! `signed_at` is Unix seconds as a 4-byte unsigned big-endian integer (the proof is 68 bytes,
//! 102 base45 characters: plain bytes, so the holder's app needs no CBOR). The credential QR text is the exact text before `#` (ASCII,
//! starting with `RP1:`). `#` is outside the base45 alphabet, so the split is unambiguous. The
//! holder's app re-signs every 30 seconds; the verifier accepts a proof not older than
//! `holder_freshness` (default 90 s) and not more than `clock_skew` in the future.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// The separator between the credential and the holder proof.
pub const HOLDER_PROOF_SEPARATOR: char = '#';

/// The domain separation tag at the start of the signed message.
pub const HOLDER_PROOF_DOMAIN: &[u8] = b"RP1-holder-proof-v1";

/// The longest holder proof text accepted (the real one is 102 characters).
const MAX_PROOF_TEXT_LEN: usize = 512;

/// A parsed holder proof, not yet verified.
pub(crate) struct HolderProof {
    pub signed_at: u32,
    pub signature: Signature,
}

/// Splits a presentation into the credential text and the holder proof text, if any.
pub(crate) fn split(text: &str) -> (&str, Option<&str>) {
    match text.split_once(HOLDER_PROOF_SEPARATOR) {
        Some((credential, proof)) => (credential, Some(proof)),
        None => (text, None),
    }
}

/// Parses the holder proof text.
pub(crate) fn parse(proof_text: &str) -> Result<HolderProof, String> {
    if proof_text.len() > MAX_PROOF_TEXT_LEN {
        return Err("holder proof too long".into());
    }
    let bytes = crate::credential::decode_base45(proof_text)?;
    let (Some(signed_at), Some(signature), 68) = (bytes.get(..4), bytes.get(4..), bytes.len())
    else {
        return Err("not 68 bytes (signed_at, signature)".into());
    };
    let mut ts = [0u8; 4];
    ts.copy_from_slice(signed_at);
    let signature =
        Signature::from_slice(signature).map_err(|_| "signature is not 64 bytes".to_owned())?;
    Ok(HolderProof {
        signed_at: u32::from_be_bytes(ts),
        signature,
    })
}

/// The message the device signs.
pub fn holder_proof_message(credential_text: &str, signed_at: u32) -> Vec<u8> {
    let mut message = Vec::with_capacity(HOLDER_PROOF_DOMAIN.len() + 1 + 32 + 4);
    message.extend_from_slice(HOLDER_PROOF_DOMAIN);
    message.push(0);
    message.extend_from_slice(&Sha256::digest(credential_text.as_bytes()));
    message.extend_from_slice(&signed_at.to_be_bytes());
    message
}

impl HolderProof {
    /// Verifies the device signature over the credential text and `signed_at`.
    pub fn verify(&self, credential_text: &str, device_key: &[u8; 32]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(device_key) else {
            return false;
        };
        key.verify_strict(
            &holder_proof_message(credential_text, self.signed_at),
            &self.signature,
        )
        .is_ok()
    }
}

/// Builds a holder presentation: the credential text, `#`, and a fresh device proof.
#[cfg(feature = "issue")]
pub fn present(
    credential_text: &str,
    device_key: &ed25519_dalek::SigningKey,
    signed_at: chrono::DateTime<chrono::Utc>,
) -> Result<String, crate::issue::IssueError> {
    use ed25519_dalek::Signer;
    let ts = u32::try_from(signed_at.timestamp())
        .map_err(|_| crate::issue::IssueError::Encoding("signed_at out of range".into()))?;
    let signature = device_key.sign(&holder_proof_message(credential_text, ts));
    let mut bytes = ts.to_be_bytes().to_vec();
    bytes.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{credential_text}{HOLDER_PROOF_SEPARATOR}{}",
        base45::encode(bytes)
    ))
}
