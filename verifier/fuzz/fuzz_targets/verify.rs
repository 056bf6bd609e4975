//! Any input as QR text, and any input wrapped as `RP1:` + base45(zlib(input)) to reach the
//! COSE, CWT and permit-claim layers: verification must never panic, and a valid verdict can
//! only carry the permit that the test-vector issuer really signed (the fuzzer has no key).
//! Seed the corpus with the vectors' QR texts (see ../README.md).
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use permit_verifier::{verify, verify_batch};

#[path = "fixture.rs"]
mod fixture;

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    static F: OnceLock<fixture::Fixture> = OnceLock::new();
    let f = F.get_or_init(fixture::load);
    let text = String::from_utf8_lossy(data);
    let genuine = |v: &permit_verifier::Verification| {
        !v.verdict.is_valid()
            || v.permit.as_ref().is_some_and(|p| p.permit_number == "330102202503010001")
    };
    let v = verify(&text, &f.trust, Some(&f.status), &f.options);
    assert!(genuine(&v), "{v:?}");
    let wrapped = format!("RP1:{}", base45::encode(zlib(data)));
    let v = verify(&wrapped, &f.trust, Some(&f.status), &f.options);
    assert!(genuine(&v), "{v:?}");
    let batch = verify_batch(&[text.as_ref(), wrapped.as_str()], &f.trust, None, &f.options);
    assert_eq!(batch.len(), 2);
});
