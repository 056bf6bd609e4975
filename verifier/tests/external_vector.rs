//! The COSE working group's EdDSA-01 example (cose-wg/Examples, eddsa-examples/eddsa-sig-01):
//! a COSE_Sign1 signed with the RFC 8032 test 1 key. The crate's COSE layer must verify it and
//! reject it after any single-bit change.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use permit_verifier::{Sign1Error, ed25519_dalek::VerifyingKey, verify_sign1};

const EDDSA_01: &str = "D28445A201270300A10442313154546869732069732074686520636F6E74656E742E58407142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB8711497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D";
const RFC8032_TEST1_PUBLIC: &str =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

fn key() -> VerifyingKey {
    VerifyingKey::from_bytes(
        &hex::decode(RFC8032_TEST1_PUBLIC)
            .unwrap()
            .try_into()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn eddsa_01_verifies() {
    let bytes = hex::decode(EDDSA_01).unwrap();
    // The example's kid is "11", in the unprotected header.
    let payload = verify_sign1(&bytes, &key(), Some(b"11")).unwrap();
    assert_eq!(payload, b"This is the content.");
    // Without a kid expectation it verifies too.
    assert!(verify_sign1(&bytes, &key(), None).is_ok());
}

#[test]
fn eddsa_01_is_rejected_after_any_single_bit_change() {
    let bytes = hex::decode(EDDSA_01).unwrap();
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..bytes.len() * 8 {
        let mut changed = bytes.clone();
        changed[i / 8] ^= 1 << (i % 8);
        let result = verify_sign1(&changed, &key(), Some(b"11"));
        assert!(result.is_err(), "bit {i} flipped still verifies");
        let kind = match result {
            Err(Sign1Error::Malformed(_)) => "malformed",
            Err(Sign1Error::KidMismatch) => "kid mismatch",
            Err(Sign1Error::BadSignature) => "bad signature",
            Ok(_) => "accepted",
        };
        *outcomes.entry(kind).or_default() += 1;
    }
    // Every kind of rejection occurs: structure, unsigned kid, signed content.
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
}

#[test]
fn eddsa_01_rejects_another_key() {
    let bytes = hex::decode(EDDSA_01).unwrap();
    let other = permit_verifier::ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]).verifying_key();
    assert_eq!(
        verify_sign1(&bytes, &other, Some(b"11")),
        Err(Sign1Error::BadSignature)
    );
}
