//! Runs one verification workload N times, for instruction counting under valgrind, which does
//! not depend on what else the machine is doing (criterion's wall-clock numbers do):
//!
//! ```sh
//! cargo build --release -p permit-verifier --features issue --example pipeline_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/pipeline_cost raw 200
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/pipeline_cost pipeline 200
//! ```
//!
//! Workloads: `raw` (Ed25519 verify_strict of the credential's Sig_structure), `pipeline`
//! (`verify` of the QR text), `batch` (`verify_batch` of 64 texts, N times), `none` (setup only),
//! and `compare`: N interleaved wall-clock rounds of raw, pipeline and batch, best round of each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::io::Read;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use coset::TaggedCborSerializable;
use permit_verifier::{
    Issuer, Permit, Presentation, Sex, StatusList, TrustList, VerifyOptions,
    ed25519_dalek::{Signature, SigningKey},
    verify, verify_batch,
};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_else(|| "pipeline".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);

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
    let list = StatusList::new("CN-ZJ", at - TimeDelta::hours(1), 86400, 1 << 20);
    let status = StatusList::from_cose(&list.to_cose(&issuer).unwrap(), &trust).unwrap();
    let options = VerifyOptions::at(at);
    let qrs: Vec<String> = (0..64u64)
        .map(|i| {
            let permit = Permit {
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
            };
            let iat = t("2025-03-01T00:00:00Z");
            issuer
                .issue(
                    &permit,
                    Presentation::Full,
                    iat,
                    iat,
                    t("2026-03-01T00:00:00Z"),
                )
                .unwrap()
        })
        .collect();
    let z = base45::decode(qrs[0].strip_prefix("RP1:").unwrap()).unwrap();
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_end(&mut cose)
        .unwrap();
    let sign1 = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
    let sig = Signature::from_slice(&sign1.signature).unwrap();
    let tbs = sign1.tbs_data(b"");
    let key = issuer.verifying_key();

    if workload == "compare" {
        // Interleaved rounds; the fastest round of each is the least disturbed by other load.
        let mut best = [f64::MAX; 4];
        // A trust list without keys stops after parsing: the parsing cost alone.
        let empty = TrustList::new("root", at, 86400, vec![]);
        for _ in 0..n.max(1) {
            let start = std::time::Instant::now();
            for _ in 0..200 {
                black_box(key.verify_strict(black_box(&tbs), &sig).is_ok());
            }
            best[0] = best[0].min(start.elapsed().as_secs_f64() / 200.0);
            let start = std::time::Instant::now();
            for _ in 0..200 {
                black_box(verify(black_box(&qrs[0]), &trust, Some(&status), &options));
            }
            best[1] = best[1].min(start.elapsed().as_secs_f64() / 200.0);
            let start = std::time::Instant::now();
            for _ in 0..4 {
                black_box(verify_batch(
                    black_box(&qrs),
                    &trust,
                    Some(&status),
                    &options,
                ));
            }
            best[2] = best[2].min(start.elapsed().as_secs_f64() / (4.0 * qrs.len() as f64));
            let start = std::time::Instant::now();
            for _ in 0..200 {
                black_box(verify(black_box(&qrs[0]), &empty, Some(&status), &options));
            }
            best[3] = best[3].min(start.elapsed().as_secs_f64() / 200.0);
        }
        println!(
            "raw {:.2} us, pipeline {:.2} us ({:.1}% of raw throughput), batch {:.2} us per credential ({:.2}x raw single), parsing alone {:.2} us",
            best[0] * 1e6,
            best[1] * 1e6,
            100.0 * best[0] / best[1],
            best[2] * 1e6,
            best[0] / best[2],
            best[3] * 1e6
        );
        return;
    }
    let mut ok = 0usize;
    for _ in 0..n {
        match workload.as_str() {
            "raw" => ok += usize::from(key.verify_strict(black_box(&tbs), &sig).is_ok()),
            "pipeline" => {
                ok += usize::from(
                    verify(black_box(&qrs[0]), &trust, Some(&status), &options)
                        .verdict
                        .is_valid(),
                )
            }
            "batch" => {
                ok += verify_batch(black_box(&qrs), &trust, Some(&status), &options)
                    .iter()
                    .filter(|v| v.verdict.is_valid())
                    .count()
            }
            _ => {}
        }
    }
    println!("{workload} x{n}: {ok} valid");
}
