//! The committed test vectors under `tests/vectors/` verify to their expected results, and (with
//! the `issue` feature) are exactly what the generator produces today.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "issue")]
#[path = "common/vector_cases.rs"]
mod vector_cases;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use permit_verifier::{
    Policy, StatusList, TrustList, VerifyOptions, ed25519_dalek::VerifyingKey, verify,
};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn committed() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let name = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn committed_vectors_verify_to_their_expected_results() {
    let vectors = committed();
    assert!(
        vectors.len() >= 20,
        "expected the full vector set, found {}",
        vectors.len()
    );
    for (name, v) in &vectors {
        let root = VerifyingKey::from_bytes(
            bytes(&v["root_public_key_hex"])
                .as_slice()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        let trust = TrustList::from_cose(&bytes(&v["trust_list_hex"]), &root).unwrap();
        let status = match &v["status_list_hex"] {
            Value::Null => None,
            s => Some(StatusList::from_cose(&bytes(s), &trust).unwrap()),
        };
        let at: DateTime<Utc> = v["at"].as_str().unwrap().parse().unwrap();
        // The policy's fields as written in the file (the name is for people).
        let policy: Policy = serde_json::from_value(v["policy"].clone()).unwrap();
        let named = match v["policy"]["name"].as_str().unwrap() {
            "lenient" => Policy::lenient(),
            "counter" => Policy::counter(),
            other => panic!("{name}: unknown policy {other}"),
        };
        assert_eq!(policy, named, "{name}: policy fields");
        let options = VerifyOptions {
            policy,
            ..VerifyOptions::at(at)
        };
        let result = verify(v["qr"].as_str().unwrap(), &trust, status.as_ref(), &options);
        let mut verdict = serde_json::to_value(&result.verdict).unwrap();
        verdict.as_object_mut().unwrap().remove("reason");
        let expected = &v["expected"];
        assert_eq!(verdict, expected["verdict"], "{name}: verdict");
        assert_eq!(
            serde_json::to_value(&result.warnings).unwrap(),
            expected["warnings"],
            "{name}: warnings"
        );
        assert_eq!(
            serde_json::to_value(&result.permit).unwrap(),
            expected["permit"],
            "{name}: permit"
        );
        assert_eq!(
            serde_json::to_value(&result.claims).unwrap(),
            expected["claims"],
            "{name}: claims"
        );
    }
}

#[test]
fn vectors_cover_every_verdict_warning_and_layer() {
    let vectors = committed();
    let mut seen = std::collections::BTreeSet::new();
    for (_, v) in &vectors {
        let e = &v["expected"];
        seen.insert(e["verdict"]["verdict"].as_str().unwrap().to_owned());
        if let Some(layer) = e["verdict"]["layer"].as_str() {
            seen.insert(format!("layer:{layer}"));
        }
        for w in e["warnings"].as_array().unwrap() {
            seen.insert(format!("warning:{}", w["warning"].as_str().unwrap()));
        }
    }
    for required in [
        "valid",
        "valid_endorsement_due",
        "suspended",
        "revoked",
        "not_yet_valid",
        "bad_signature",
        "unknown_key",
        "malformed",
        "unsupported_version",
        "holder_proof_invalid",
        "holder_proof_stale",
        "lists_too_old",
        "holder_proof_required",
        "issued_in_future",
        "issuer_mismatch",
        "status_index_out_of_range",
        "layer:prefix",
        "layer:base45",
        "layer:zlib",
        "layer:cose",
        "layer:cwt",
        "layer:permit_claim",
        "layer:holder_proof",
        "warning:trust_list_expired",
        "warning:status_list_expired",
        "warning:status_list_missing",
        "warning:status_index_out_of_range",
        "warning:holder_proof_missing",
    ] {
        assert!(seen.contains(required), "no vector for {required}");
    }
}

/// Every counter-policy vector but the valid one is a failure, and each of those verifies as
/// valid (with at most warnings) under the lenient policy: the policy alone decides.
#[test]
fn counter_vectors_fail_only_because_of_the_policy() {
    let mut counted = 0;
    for (name, v) in committed() {
        if v["policy"]["name"] != "counter" || name == "counter_valid" {
            continue;
        }
        counted += 1;
        let root = VerifyingKey::from_bytes(
            bytes(&v["root_public_key_hex"])
                .as_slice()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        let trust = TrustList::from_cose(&bytes(&v["trust_list_hex"]), &root).unwrap();
        let status = match &v["status_list_hex"] {
            Value::Null => None,
            s => Some(StatusList::from_cose(&bytes(s), &trust).unwrap()),
        };
        let at: DateTime<Utc> = v["at"].as_str().unwrap().parse().unwrap();
        let qr = v["qr"].as_str().unwrap();
        let strict = verify(qr, &trust, status.as_ref(), &VerifyOptions::counter(at));
        let lenient = verify(qr, &trust, status.as_ref(), &VerifyOptions::at(at));
        assert!(!strict.verdict.is_valid(), "{name}: {:?}", strict.verdict);
        assert!(lenient.verdict.is_valid(), "{name}: {:?}", lenient.verdict);
    }
    assert!(counted >= 7, "only {counted} counter vectors");
}

#[cfg(feature = "issue")]
#[test]
fn committed_vectors_match_the_generator() {
    let cases = vector_cases::cases();
    let committed = committed();
    let generated: Vec<String> = cases.iter().map(|c| c.name.to_owned()).collect();
    let mut sorted = generated.clone();
    sorted.sort();
    let names: Vec<String> = committed.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        names, sorted,
        "vector files differ from the generator's cases; run `make verifier-vectors`"
    );
    for case in &cases {
        let fresh = vector_cases::to_json(case);
        let (_, old) = committed.iter().find(|(n, _)| n == case.name).unwrap();
        assert_eq!(
            &fresh, old,
            "{}: committed vector is stale; run `make verifier-vectors`",
            case.name
        );
    }
}
