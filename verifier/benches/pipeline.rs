//! Side by side in one run: raw Ed25519 verification of the credential's signed bytes, the full
//! verify pipeline, batch verification, and issuing (sign, encode, render the QR as SVG).
//!
//! ```sh
//! make verifier-bench      # or: cargo bench -p permit-verifier --features issue --bench pipeline
//! ```
//!
//! Numbers and the targets they are compared against stand in `verifier/README.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::io::Read;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use coset::TaggedCborSerializable;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use permit_verifier::{
    Issuer, Permit, Presentation, QrEcc, Sex, StatusList, TrustList, Verdict, VerifyOptions,
    ed25519_dalek::{Signature, SigningKey},
    to_svg, verify, verify_batch,
};

const BATCH: usize = 64;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn permit(i: u64) -> Permit {
    Permit {
        permit_number: format!("3301022025{i:08}"),
        name: "欧阳明月".into(),
        sex: Sex::Female,
        birth_date: NaiveDate::from_ymd_opt(1990, 7, 15).unwrap(),
        id_number: "11010519900715002X".into(),
        district: "浙江省杭州市上城区".into(),
        authority: "杭州市公安局上城区分局".into(),
        first_issued: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
        last_endorsed: Some(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()),
        status_index: i,
        device_key: None,
    }
}

struct Setup {
    issuer: Issuer,
    trust: TrustList,
    status: StatusList,
    options: VerifyOptions,
    qrs: Vec<String>,
}

fn setup() -> Setup {
    let root = SigningKey::from_bytes(&[1u8; 32]);
    let issuer = Issuer::from_secret(&[2u8; 32], "CN-ZJ");
    let at = t("2025-06-01T08:00:00Z");
    let trust_bytes = TrustList::new(
        "root",
        at - TimeDelta::days(1),
        7 * 86400,
        vec![issuer.trusted_key(t("2025-01-01T00:00:00Z"), None)],
    )
    .to_cose(&root)
    .unwrap();
    let trust = TrustList::from_cose(&trust_bytes, &root.verifying_key()).unwrap();
    let mut status = StatusList::new("CN-ZJ", at - TimeDelta::hours(1), 86400, 1 << 20);
    status.set_revoked(999_999, true).unwrap();
    let status = StatusList::from_cose(&status.to_cose(&issuer).unwrap(), &trust).unwrap();
    let qrs = (0..BATCH as u64)
        .map(|i| {
            issuer
                .issue(
                    &permit(1000 + i),
                    Presentation::Full,
                    t("2025-03-01T00:00:00Z"),
                    t("2025-03-01T00:00:00Z"),
                    t("2026-03-01T00:00:00Z"),
                )
                .unwrap()
        })
        .collect();
    Setup {
        issuer,
        trust,
        status,
        options: VerifyOptions::at(at),
        qrs,
    }
}

/// The Sig_structure and signature inside a QR text: exactly what the pipeline verifies.
fn signed_bytes(qr: &str) -> (Vec<u8>, Signature) {
    let z = base45::decode(qr.strip_prefix("RP1:").unwrap()).unwrap();
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_end(&mut cose)
        .unwrap();
    let sign1 = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
    let sig = Signature::from_slice(&sign1.signature).unwrap();
    (sign1.tbs_data(b""), sig)
}

fn benches(c: &mut Criterion) {
    let s = setup();
    for qr in &s.qrs {
        assert_eq!(
            verify(qr, &s.trust, Some(&s.status), &s.options).verdict,
            Verdict::Valid
        );
    }
    let key = s.issuer.verifying_key();
    let (tbs, sig) = signed_bytes(&s.qrs[0]);
    let signed: Vec<(Vec<u8>, Signature)> = s.qrs.iter().map(|q| signed_bytes(q)).collect();

    let mut g = c.benchmark_group("rp1");
    g.throughput(Throughput::Elements(1));
    g.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| key.verify_strict(black_box(&tbs), black_box(&sig)).is_ok())
    });
    g.bench_function("full_pipeline_verify", |b| {
        b.iter(|| verify(black_box(&s.qrs[0]), &s.trust, Some(&s.status), &s.options))
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("raw_ed25519_verify_batch_64", |b| {
        let messages: Vec<&[u8]> = signed.iter().map(|(m, _)| m.as_slice()).collect();
        let sigs: Vec<Signature> = signed.iter().map(|(_, s)| *s).collect();
        let keys = vec![key; BATCH];
        b.iter(|| {
            permit_verifier::ed25519_dalek::verify_batch(black_box(&messages), &sigs, &keys).is_ok()
        })
    });
    g.bench_function("full_pipeline_verify_batch_64", |b| {
        b.iter(|| verify_batch(black_box(&s.qrs), &s.trust, Some(&s.status), &s.options))
    });
    g.throughput(Throughput::Elements(1));
    let p = permit(7);
    g.bench_function("issue_sign_encode", |b| {
        b.iter(|| {
            s.issuer
                .issue(
                    black_box(&p),
                    Presentation::Full,
                    t("2025-03-01T00:00:00Z"),
                    t("2025-03-01T00:00:00Z"),
                    t("2026-03-01T00:00:00Z"),
                )
                .unwrap()
        })
    });
    g.bench_function("issue_sign_encode_render_svg", |b| {
        b.iter(|| {
            let qr = s
                .issuer
                .issue(
                    black_box(&p),
                    Presentation::Full,
                    t("2025-03-01T00:00:00Z"),
                    t("2025-03-01T00:00:00Z"),
                    t("2026-03-01T00:00:00Z"),
                )
                .unwrap();
            to_svg(&qr, QrEcc::Medium).unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = rp1;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(rp1);
