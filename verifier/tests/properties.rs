//! Bad input: the verifier never panics, never accepts a damaged credential, and never
//! allocates without bound. Runs in the normal test run (proptest, stable Rust); the cargo-fuzz
//! target in `fuzz/` runs the same entry points for longer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use permit_verifier::{
    Layer, StatusList, TrustList, Verdict, VerifyOptions, ed25519_dalek::VerifyingKey, verify,
    verify_batch,
};
use proptest::prelude::*;

struct Fixture {
    qr: String,
    bound_qr: String,
    trust: TrustList,
    status: StatusList,
    at: DateTime<Utc>,
    root: VerifyingKey,
    trust_bytes: Vec<u8>,
    status_bytes: Vec<u8>,
}

fn load(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/vectors/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let v = load("valid");
        let bytes = |k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
        let root =
            VerifyingKey::from_bytes(bytes("root_public_key_hex").as_slice().try_into().unwrap())
                .unwrap();
        let trust_bytes = bytes("trust_list_hex");
        let status_bytes = bytes("status_list_hex");
        let trust = TrustList::from_cose(&trust_bytes, &root).unwrap();
        let status = StatusList::from_cose(&status_bytes, &trust).unwrap();
        Fixture {
            qr: v["qr"].as_str().unwrap().to_owned(),
            bound_qr: load("holder_bound_fresh_proof")["qr"]
                .as_str()
                .unwrap()
                .to_owned(),
            trust,
            status,
            at: v["at"].as_str().unwrap().parse().unwrap(),
            root,
            trust_bytes,
            status_bytes,
        }
    })
}

fn check(text: &str) -> Verdict {
    let f = fixture();
    verify(text, &f.trust, Some(&f.status), &VerifyOptions::at(f.at)).verdict
}

fn cose_of(qr: &str) -> Vec<u8> {
    let z = base45::decode(qr.strip_prefix("RP1:").unwrap()).unwrap();
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn wrap(cose: &[u8]) -> String {
    format!("RP1:{}", base45::encode(zlib(cose)))
}

/// 512 random cases per property, or `PROPTEST_CASES` (the smoke run of `make verifier-fuzz-smoke`).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512)
}

const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#[test]
fn the_fixture_is_valid() {
    assert_eq!(check(&fixture().qr), Verdict::Valid);
    assert_eq!(check(&fixture().bound_qr), Verdict::Valid);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_malformed(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let verdict = check(&text);
        prop_assert!(matches!(verdict, Verdict::Malformed { .. }), "{verdict:?}");
    }

    #[test]
    fn random_base45_is_malformed(chars in proptest::collection::vec(proptest::sample::select(BASE45), 0..1200)) {
        let text = format!("RP1:{}", String::from_utf8(chars).unwrap());
        let verdict = check(&text);
        prop_assert!(matches!(verdict, Verdict::Malformed { layer: Layer::Base45 | Layer::Zlib, .. }), "{verdict:?}");
    }

    #[test]
    fn random_bytes_in_valid_zlib_and_base45_are_never_valid(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let verdict = check(&wrap(&bytes));
        prop_assert!(!verdict.is_valid(), "{verdict:?}");
    }

    #[test]
    fn truncated_credentials_are_never_valid(cut in 0usize..486) {
        let qr = &fixture().qr;
        let cut = cut.min(qr.len() - 1);
        let verdict = check(&qr[..cut]);
        prop_assert!(!verdict.is_valid(), "{verdict:?}");
    }

    #[test]
    fn truncated_cose_is_never_valid(cut in 0usize..400) {
        let cose = cose_of(&fixture().qr);
        let cut = cut.min(cose.len() - 1);
        let verdict = check(&wrap(&cose[..cut]));
        prop_assert!(matches!(verdict, Verdict::Malformed { .. }), "{verdict:?}");
    }

    #[test]
    fn bit_flipped_cose_is_never_valid(bit in 0usize..(400 * 8)) {
        let mut cose = cose_of(&fixture().qr);
        let bit = bit % (cose.len() * 8);
        cose[bit / 8] ^= 1 << (bit % 8);
        let verdict = check(&wrap(&cose));
        prop_assert!(!verdict.is_valid(), "bit {bit}: {verdict:?}");
    }

    // Deflate is not canonical: a few changed bits (unused Huffman code lengths, say) can leave
    // the decompressed credential byte for byte the same, and that QR rightly verifies. What
    // must never happen is a change that verifies as a different credential.
    #[test]
    fn changed_qr_characters_never_verify_as_another_credential(at in 4usize..486, c in proptest::sample::select(BASE45)) {
        let qr = fixture().qr.clone();
        let at = at.min(qr.len() - 1);
        prop_assume!(qr.as_bytes()[at] != c);
        let mut bytes = qr.clone().into_bytes();
        bytes[at] = c;
        let changed = String::from_utf8(bytes).unwrap();
        let verdict = check(&changed);
        if verdict.is_valid() {
            prop_assert_eq!(cose_of(&changed), cose_of(&qr), "a changed QR verified as another credential");
        }
    }

    #[test]
    fn changed_holder_proofs_are_never_valid(at in 0usize..120, c in proptest::sample::select(BASE45)) {
        let qr = fixture().bound_qr.clone();
        let (cred, proof) = qr.split_once('#').unwrap();
        let at = at % proof.len();
        prop_assume!(proof.as_bytes()[at] != c);
        let mut proof = proof.as_bytes().to_vec();
        proof[at] = c;
        let text = format!("{cred}#{}", String::from_utf8(proof).unwrap());
        let verdict = check(&text);
        prop_assert!(!verdict.is_valid(), "{verdict:?}");
    }

    #[test]
    fn random_lists_are_rejected_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let f = fixture();
        prop_assert!(TrustList::from_cose(&bytes, &f.root).is_err());
        prop_assert!(StatusList::from_cose(&bytes, &f.trust).is_err());
    }

    #[test]
    fn bit_flipped_lists_are_rejected(bit in 0usize..(200 * 8)) {
        let f = fixture();
        let mut trust = f.trust_bytes.clone();
        let b = bit % (trust.len() * 8);
        trust[b / 8] ^= 1 << (b % 8);
        prop_assert!(TrustList::from_cose(&trust, &f.root).is_err());
        let mut status = f.status_bytes.clone();
        let b = bit % (status.len() * 8);
        status[b / 8] ^= 1 << (b % 8);
        prop_assert!(StatusList::from_cose(&status, &f.trust).is_err());
    }

    #[test]
    fn batch_agrees_with_single(picks in proptest::collection::vec(0usize..6, 0..12)) {
        let f = fixture();
        let mut pool = vec![f.qr.clone(), f.bound_qr.clone(), "RP1:XYZ".to_owned()];
        for name in ["bad_signature", "revoked", "unknown_key"] {
            pool.push(load(name)["qr"].as_str().unwrap().to_owned());
        }
        let texts: Vec<&str> = picks.iter().map(|i| pool[*i].as_str()).collect();
        let options = VerifyOptions::at(f.at);
        let batch = verify_batch(&texts, &f.trust, Some(&f.status), &options);
        let single: Vec<_> = texts.iter().map(|t| verify(t, &f.trust, Some(&f.status), &options)).collect();
        prop_assert_eq!(batch, single);
    }
}

#[test]
fn zlib_bombs_stop_at_the_cap() {
    // 64 MiB of zeros compresses to ~64 KiB; decompression must stop at MAX_COSE_LEN.
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&chunk).unwrap();
    }
    let bomb = e.finish().unwrap();
    let text = format!("RP1:{}", base45::encode(&bomb));
    // Too long for a QR code: rejected before decoding.
    assert!(matches!(
        check(&text),
        Verdict::Malformed {
            layer: Layer::Prefix,
            ..
        }
    ));
    // A bomb that fits in a QR text: 5 MiB of zeros is ~5 KiB compressed, still too long,
    // so use 1 MiB (~1 KiB compressed, ~1.5 K characters).
    let small_bomb = zlib(&vec![0u8; 1 << 20]);
    let text = format!("RP1:{}", base45::encode(&small_bomb));
    assert!(text.len() <= permit_verifier::MAX_QR_TEXT_LEN);
    match check(&text) {
        Verdict::Malformed {
            layer: Layer::Zlib,
            reason,
        } => assert!(reason.contains("more than"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_and_odd_inputs() {
    for text in [
        "",
        "RP1:",
        "RP1",
        "#",
        "RP1:#",
        "RP1:00#00",
        "\u{0}",
        "RP1:\u{1F600}",
        "RP1: ",
    ] {
        assert!(matches!(check(text), Verdict::Malformed { .. }), "{text:?}");
    }
}
