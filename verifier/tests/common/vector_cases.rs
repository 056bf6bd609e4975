//! The RP1 test vectors: one case per verdict, warning and malformed layer, built with fixed
//! keys. Shared by `examples/gen_vectors.rs` (writes `tests/vectors/*.json`) and
//! `tests/vectors.rs` (checks the committed files are exactly what this code produces).
//!
//! Ed25519 signatures are deterministic and the zlib level is fixed, so the output is
//! byte-for-byte reproducible.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ciborium::Value;
use permit_verifier::{
    Issuer, Permit, Policy, Presentation, Sex, StatusList, TrustList, TrustedKey, VerifyOptions,
    ed25519_dalek::SigningKey, present, qr_text_from_cose, verify,
};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

/// A fixed 32-byte secret derived from a label.
pub fn secret(label: &str) -> [u8; 32] {
    Sha256::digest(format!("rp1-test-vectors/{label}").as_bytes()).into()
}

pub fn root_key() -> SigningKey {
    SigningKey::from_bytes(&secret("root"))
}

pub fn issuer_a() -> Issuer {
    Issuer::from_secret(&secret("issuer-2025"), "CN-ZJ")
}

pub fn issuer_b() -> Issuer {
    Issuer::from_secret(&secret("issuer-2026"), "CN-ZJ")
}

pub fn stranger() -> Issuer {
    Issuer::from_secret(&secret("not-in-trust-list"), "CN-ZJ")
}

pub fn device_key() -> SigningKey {
    SigningKey::from_bytes(&secret("holder-device"))
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The sample permit: a 4-character name and a long district, as on a real permit.
pub fn sample_permit() -> Permit {
    Permit {
        permit_number: "330102202503010001".into(),
        name: "欧阳明月".into(),
        sex: Sex::Female,
        birth_date: d("1990-07-15"),
        id_number: "11010519900715002X".into(),
        district: "新疆维吾尔自治区乌鲁木齐市沙依巴克区".into(),
        authority: "乌鲁木齐市公安局沙依巴克区分局".into(),
        first_issued: d("2024-03-01"),
        last_endorsed: Some(d("2025-03-01")),
        status_index: 42,
        device_key: None,
    }
}

pub const IAT: &str = "2025-03-01T00:00:00Z";
pub const EXP: &str = "2026-03-01T00:00:00Z";
pub const AT: &str = "2025-06-01T08:00:00Z";

/// Lists for a verification at `at`: a trust list with issuer A (signing from 2025-01-01)
/// issued a day before with a 7-day ttl, and a status list revoking index 7, issued an hour
/// before with a 1-day ttl.
pub struct Lists {
    pub trust_list: Vec<u8>,
    pub status_list: Option<Vec<u8>>,
}

pub fn trust_list_bytes(issued_at: DateTime<Utc>, ttl: u64, keys: Vec<TrustedKey>) -> Vec<u8> {
    TrustList::new("居住证信任根 RP1 test root", issued_at, ttl, keys)
        .to_cose(&root_key())
        .unwrap()
}

pub fn status_list_bytes(issued_at: DateTime<Utc>, ttl: u64) -> Vec<u8> {
    status_list_signed_by(&issuer_a(), issued_at, ttl)
}

pub fn status_list_signed_by(signer: &Issuer, issued_at: DateTime<Utc>, ttl: u64) -> Vec<u8> {
    let mut list = StatusList::new(signer.name(), issued_at, ttl, 1024);
    list.set_revoked(7, true).unwrap();
    list.set_revoked(500, true).unwrap();
    list.to_cose(signer).unwrap()
}

pub fn default_lists(at: DateTime<Utc>) -> Lists {
    Lists {
        trust_list: trust_list_bytes(
            at - TimeDelta::days(1),
            7 * 86400,
            vec![issuer_a().trusted_key(t("2025-01-01T00:00:00Z"), None)],
        ),
        status_list: Some(status_list_bytes(at - TimeDelta::hours(1), 86400)),
    }
}

pub fn issue(issuer: &Issuer, permit: &Permit, presentation: Presentation) -> String {
    issuer
        .issue(permit, presentation, t(IAT), t(IAT), t(EXP))
        .unwrap()
}

/// A credential signed by issuer A whose permit claim is `claim` (to build malformed cases).
fn issue_claim(claim: Value) -> String {
    let a = issuer_a();
    let payload = a.claims_payload(t(IAT), t(IAT), t(EXP), claim).unwrap();
    qr_text_from_cose(&a.sign_cose(payload).unwrap())
}

/// The sample permit's claim as a CBOR map, changed by `edit`.
fn claim_with(edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Value {
    // Issue a real credential and read its claim back, so the map is exactly what `issue` writes.
    let qr = issue(&issuer_a(), &sample_permit(), Presentation::Full);
    let cose = permit_cose(&qr);
    let sign1: coset::CoseSign1 = coset::TaggedCborSerializable::from_tagged_slice(&cose).unwrap();
    let claims: coset::cwt::ClaimsSet =
        coset::CborSerializable::from_slice(&sign1.payload.unwrap()).unwrap();
    let (_, claim) = claims.rest.into_iter().next().unwrap();
    let Value::Map(mut map) = claim else { panic!() };
    edit(&mut map);
    Value::Map(map)
}

/// The COSE bytes inside a QR text.
pub fn permit_cose(qr: &str) -> Vec<u8> {
    use std::io::Read;
    let z = base45::decode(qr.strip_prefix("RP1:").unwrap()).unwrap();
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

pub struct Case {
    pub name: &'static str,
    pub description: &'static str,
    pub qr: String,
    pub lists: Lists,
    pub at: DateTime<Utc>,
    /// The expected verdict, written by hand (a malformed verdict's `reason` is not compared).
    pub verdict: Json,
    /// The expected warning codes, written by hand.
    pub warnings: Vec<&'static str>,
    /// The verification policy: `lenient` (the default) or `counter`.
    pub policy: &'static str,
}

/// The policy a vector names.
pub fn policy(name: &str) -> Policy {
    match name {
        "lenient" => Policy::lenient(),
        "counter" => Policy::counter(),
        other => panic!("unknown policy {other}"),
    }
}

fn case(
    name: &'static str,
    description: &'static str,
    qr: String,
    at: &str,
    verdict: Json,
    warnings: &[&'static str],
) -> Case {
    let at = t(at);
    Case {
        name,
        description,
        qr,
        lists: default_lists(at),
        at,
        verdict,
        warnings: warnings.to_vec(),
        policy: "lenient",
    }
}

/// A case verified with the service counter's policy.
fn counter_case(
    name: &'static str,
    description: &'static str,
    qr: String,
    verdict: Json,
    warnings: &[&'static str],
) -> Case {
    Case {
        policy: "counter",
        ..case(name, description, qr, AT, verdict, warnings)
    }
}

pub fn cases() -> Vec<Case> {
    let a = issuer_a();
    let permit = sample_permit();
    let full = issue(&a, &permit, Presentation::Full);
    let mut cases = vec![
        case(
            "valid",
            "A full presentation, inside its validity",
            full.clone(),
            AT,
            json!({"verdict": "valid"}),
            &[],
        ),
        case(
            "valid_basic",
            "A basic presentation: ID number masked to first 6 + last 4",
            issue(&a, &permit, Presentation::Basic),
            AT,
            json!({"verdict": "valid"}),
            &[],
        ),
        case(
            "valid_endorsement_due",
            "Inside the 30 days before exp: the yearly endorsement is due",
            full.clone(),
            "2026-02-10T08:00:00Z",
            json!({"verdict": "valid_endorsement_due", "due": EXP}),
            &[],
        ),
        case(
            "suspended",
            "Past exp (beyond the 5-minute clock skew): the endorsement was missed",
            full.clone(),
            "2026-03-01T00:06:00Z",
            json!({"verdict": "suspended", "since": EXP}),
            &[],
        ),
        case(
            "within_clock_skew_after_exp",
            "4 minutes past exp is within the 5-minute clock skew: still valid, endorsement due",
            full.clone(),
            "2026-03-01T00:04:00Z",
            json!({"verdict": "valid_endorsement_due", "due": EXP}),
            &[],
        ),
        case(
            "revoked",
            "Status index 7 is set in the status list",
            issue(
                &a,
                &Permit {
                    status_index: 7,
                    ..permit.clone()
                },
                Presentation::Full,
            ),
            AT,
            json!({"verdict": "revoked"}),
            &[],
        ),
        case(
            "not_yet_valid",
            "nbf lies 10 minutes ahead (beyond the 5-minute clock skew)",
            a.issue(
                &permit,
                Presentation::Full,
                t(IAT),
                t("2025-06-01T08:10:00Z"),
                t(EXP),
            )
            .unwrap(),
            AT,
            json!({"verdict": "not_yet_valid", "valid_from": "2025-06-01T08:10:00Z"}),
            &[],
        ),
        case(
            "bad_signature",
            "One bit of the signature flipped",
            flip_signature_bit(&full),
            AT,
            json!({"verdict": "bad_signature"}),
            &[],
        ),
        case(
            "bad_signature_altered_payload",
            "The name changed after signing (same kid, original signature)",
            alter_payload(&full),
            AT,
            json!({"verdict": "bad_signature"}),
            &[],
        ),
        case(
            "unknown_key",
            "Signed by a key that is not in the trust list",
            issue(&stranger(), &permit, Presentation::Full),
            AT,
            json!({"verdict": "unknown_key", "kid": hex::encode(stranger().kid())}),
            &[],
        ),
        case(
            "malformed_prefix",
            "Wrong prefix",
            full.replacen("RP1:", "HC1:", 1),
            AT,
            json!({"verdict": "malformed", "layer": "prefix"}),
            &[],
        ),
        case(
            "malformed_base45",
            "A lowercase letter is outside the base45 alphabet",
            format!("{}a{}", &full[..10], &full[11..]),
            AT,
            json!({"verdict": "malformed", "layer": "base45"}),
            &[],
        ),
        case(
            "malformed_zlib",
            "base45 of the raw COSE_Sign1, without zlib",
            format!("RP1:{}", base45::encode(permit_cose(&full))),
            AT,
            json!({"verdict": "malformed", "layer": "zlib"}),
            &[],
        ),
        case(
            "malformed_cose",
            "zlib of a CBOR array that is not a COSE_Sign1",
            qr_from_plain(&{
                let mut b = Vec::new();
                ciborium::into_writer(&Value::Array(vec![Value::Integer(1.into())]), &mut b)
                    .unwrap();
                b
            }),
            AT,
            json!({"verdict": "malformed", "layer": "cose"}),
            &[],
        ),
        case(
            "malformed_cwt",
            "A signed COSE_Sign1 whose payload is a CBOR text string, not a claims set",
            qr_text_from_cose(&a.sign_cose(vec![0x63, b'a', b'b', b'c']).unwrap()),
            AT,
            json!({"verdict": "malformed", "layer": "cwt"}),
            &[],
        ),
        case(
            "malformed_cwt_no_exp",
            "A signed claims set without exp",
            qr_text_from_cose(&a.sign_cose(claims_without_exp()).unwrap()),
            AT,
            json!({"verdict": "malformed", "layer": "cwt"}),
            &[],
        ),
        case(
            "malformed_permit_claim",
            "A signed permit claim without the holder name (key 2)",
            issue_claim(claim_with(|m| {
                m.retain(|(k, _)| *k != Value::Integer(2.into()))
            })),
            AT,
            json!({"verdict": "malformed", "layer": "permit_claim"}),
            &[],
        ),
        case(
            "unsupported_version",
            "A signed permit claim with schema version 2",
            issue_claim(claim_with(|m| {
                if let Some((_, v)) = m.iter_mut().find(|(k, _)| *k == Value::Integer(0.into())) {
                    *v = Value::Integer(2.into());
                }
            })),
            AT,
            json!({"verdict": "unsupported_version", "version": 2}),
            &[],
        ),
    ];

    // Holder binding.
    let device = device_key();
    let bound_permit = Permit {
        device_key: Some(device.verifying_key().to_bytes()),
        ..permit.clone()
    };
    let bound = issue(&a, &bound_permit, Presentation::Basic);
    cases.push(case(
        "holder_bound_fresh_proof",
        "Device-bound credential with a device proof signed 30 seconds ago",
        present(&bound, &device, t(AT) - TimeDelta::seconds(30)).unwrap(),
        AT,
        json!({"verdict": "valid"}),
        &[],
    ));
    cases.push(case(
        "holder_bound_stale_proof",
        "Device proof signed 10 minutes ago (a screenshot)",
        present(&bound, &device, t(AT) - TimeDelta::minutes(10)).unwrap(),
        AT,
        json!({"verdict": "holder_proof_stale", "signed_at": "2025-06-01T07:50:00Z"}),
        &[],
    ));
    cases.push(case(
        "holder_bound_wrong_device",
        "Device proof signed by another device's key",
        present(
            &bound,
            &SigningKey::from_bytes(&secret("other-device")),
            t(AT),
        )
        .unwrap(),
        AT,
        json!({"verdict": "holder_proof_invalid"}),
        &[],
    ));
    cases.push(case(
        "holder_bound_without_proof",
        "Device-bound credential without a device proof (a printed slip): valid with a warning",
        bound.clone(),
        AT,
        json!({"verdict": "valid"}),
        &["holder_proof_missing"],
    ));
    cases.push(case(
        "malformed_holder_proof",
        "The text after # is not a holder proof",
        format!("{bound}#ABC"),
        AT,
        json!({"verdict": "malformed", "layer": "holder_proof"}),
        &[],
    ));

    // List freshness.
    let mut stale_trust = case(
        "stale_trust_list",
        "The trust list is past its time to live: a warning, not a failure",
        full.clone(),
        AT,
        json!({"verdict": "valid"}),
        &["trust_list_expired"],
    );
    stale_trust.lists.trust_list = trust_list_bytes(
        t("2025-05-01T00:00:00Z"),
        7 * 86400,
        vec![a.trusted_key(t("2025-01-01T00:00:00Z"), None)],
    );
    cases.push(stale_trust);
    let mut stale_status = case(
        "stale_status_list",
        "The status list is past its time to live: a warning, not a failure",
        full.clone(),
        AT,
        json!({"verdict": "valid"}),
        &["status_list_expired"],
    );
    stale_status.lists.status_list = Some(status_list_bytes(t("2025-05-30T00:00:00Z"), 86400));
    cases.push(stale_status);
    let mut missing_status = case(
        "status_list_missing",
        "No status list: revocation is not checked, with a warning",
        full.clone(),
        AT,
        json!({"verdict": "valid"}),
        &["status_list_missing"],
    );
    missing_status.lists.status_list = None;
    cases.push(missing_status);
    cases.push(case(
        "status_index_out_of_range",
        "The credential's status index lies beyond the status list",
        issue(
            &a,
            &Permit {
                status_index: 5000,
                ..permit.clone()
            },
            Presentation::Full,
        ),
        AT,
        json!({"verdict": "valid"}),
        &["status_index_out_of_range"],
    ));

    // Key rotation: A signs until 2025-04-01, B from then on; both live in one trust list.
    let b = issuer_b();
    let rotated_keys = vec![
        a.trusted_key(t("2025-01-01T00:00:00Z"), Some(t("2025-04-01T00:00:00Z"))),
        b.trusted_key(t("2025-04-01T00:00:00Z"), None),
    ];
    let mut rotated_old = case(
        "rotated_key_old",
        "Two keys in the trust list; a credential signed by the retired key before its retirement",
        full.clone(),
        AT,
        json!({"verdict": "valid"}),
        &[],
    );
    rotated_old.lists.status_list = Some(status_list_signed_by(
        &b,
        t(AT) - TimeDelta::hours(1),
        86400,
    ));
    rotated_old.lists.trust_list =
        trust_list_bytes(t(AT) - TimeDelta::days(1), 7 * 86400, rotated_keys.clone());
    cases.push(rotated_old);
    let mut rotated_new = case(
        "rotated_key_new",
        "Two keys in the trust list; a credential signed by the new key",
        b.issue(
            &permit,
            Presentation::Full,
            t("2025-05-01T00:00:00Z"),
            t("2025-05-01T00:00:00Z"),
            t("2026-05-01T00:00:00Z"),
        )
        .unwrap(),
        AT,
        json!({"verdict": "valid"}),
        &[],
    );
    rotated_new.lists.status_list = Some(status_list_signed_by(
        &b,
        t(AT) - TimeDelta::hours(1),
        86400,
    ));
    rotated_new.lists.trust_list =
        trust_list_bytes(t(AT) - TimeDelta::days(1), 7 * 86400, rotated_keys.clone());
    cases.push(rotated_new);
    let mut after_retirement = case(
        "key_retired_before_iat",
        "Signed by the retired key after its signing period ended: no trusted key covers iat",
        a.issue(
            &permit,
            Presentation::Full,
            t("2025-05-01T00:00:00Z"),
            t("2025-05-01T00:00:00Z"),
            t(EXP),
        )
        .unwrap(),
        AT,
        json!({"verdict": "unknown_key", "kid": hex::encode(a.kid())}),
        &[],
    );
    after_retirement.lists.status_list = Some(status_list_signed_by(
        &b,
        t(AT) - TimeDelta::hours(1),
        86400,
    ));
    after_retirement.lists.trust_list =
        trust_list_bytes(t(AT) - TimeDelta::days(1), 7 * 86400, rotated_keys);
    cases.push(after_retirement);
    cases.extend(counter_cases(&full, &bound));
    cases
}

/// The service counter's policy (`Policy::counter`): what is a warning above fails here.
fn counter_cases(full: &str, bound: &str) -> Vec<Case> {
    let a = issuer_a();
    let permit = sample_permit();
    let device = device_key();
    let mut cases = vec![
        counter_case(
            "counter_valid",
            "Counter policy: a device-bound credential with a fresh proof and fresh lists",
            present(bound, &device, t(AT) - TimeDelta::seconds(30)).unwrap(),
            json!({"verdict": "valid"}),
            &[],
        ),
        counter_case(
            "counter_holder_proof_required",
            "Counter policy: a device-bound credential without its proof (cut off a screenshot) fails",
            bound.to_owned(),
            json!({"verdict": "holder_proof_required"}),
            &[],
        ),
        counter_case(
            "counter_issued_in_future",
            "Counter policy: iat 10 minutes ahead of the verifier's clock (beyond the 5-minute skew)",
            a.issue(
                &permit,
                Presentation::Full,
                t("2025-06-01T08:10:00Z"),
                t(IAT),
                t(EXP),
            )
            .unwrap(),
            json!({"verdict": "issued_in_future", "issued_at": "2025-06-01T08:10:00Z"}),
            &[],
        ),
        counter_case(
            "counter_issuer_mismatch",
            "Counter policy: signed by a trusted key whose trust-list issuer is CN-ZJ, but iss says CN-SH",
            issue(
                &Issuer::from_secret(&secret("issuer-2025"), "CN-SH"),
                &permit,
                Presentation::Full,
            ),
            json!({"verdict": "issuer_mismatch", "issuer": "CN-SH", "trusted_issuer": "CN-ZJ"}),
            &[],
        ),
        counter_case(
            "counter_status_index_out_of_range",
            "Counter policy: the status index lies beyond the status list (revocation unknown) fails",
            issue(
                &a,
                &Permit {
                    status_index: 5000,
                    ..permit.clone()
                },
                Presentation::Full,
            ),
            json!({"verdict": "status_index_out_of_range", "index": 5000, "len": 1024}),
            &[],
        ),
    ];
    let mut old_status = counter_case(
        "counter_status_list_too_old",
        "Counter policy: a status list 25 hours old (more than 24) fails, whatever its ttl",
        full.to_owned(),
        json!({"verdict": "lists_too_old", "list": "status_list", "issued_at": "2025-05-31T07:00:00Z"}),
        &[],
    );
    old_status.lists.status_list = Some(status_list_bytes(t(AT) - TimeDelta::hours(25), 7 * 86400));
    cases.push(old_status);
    let mut old_trust = counter_case(
        "counter_trust_list_too_old",
        "Counter policy: a trust list 8 days old (more than 7) fails",
        full.to_owned(),
        json!({"verdict": "lists_too_old", "list": "trust_list", "issued_at": "2025-05-24T08:00:00Z"}),
        &["trust_list_expired"],
    );
    old_trust.lists.trust_list = trust_list_bytes(
        t(AT) - TimeDelta::days(8),
        7 * 86400,
        vec![a.trusted_key(t("2025-01-01T00:00:00Z"), None)],
    );
    cases.push(old_trust);
    let mut no_status = counter_case(
        "counter_status_list_missing",
        "Counter policy: no status list at all fails as lists too old",
        full.to_owned(),
        json!({"verdict": "lists_too_old", "list": "status_list", "issued_at": null}),
        &["status_list_missing"],
    );
    no_status.lists.status_list = None;
    cases.push(no_status);
    cases
}

fn qr_from_plain(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    format!("RP1:{}", base45::encode(e.finish().unwrap()))
}

fn flip_signature_bit(qr: &str) -> String {
    let mut cose = permit_cose(qr);
    let n = cose.len();
    cose[n - 10] ^= 0x01;
    qr_text_from_cose(&cose)
}

fn alter_payload(qr: &str) -> String {
    let cose = permit_cose(qr);
    let mut sign1: coset::CoseSign1 =
        coset::TaggedCborSerializable::from_tagged_slice(&cose).unwrap();
    let payload = sign1.payload.take().unwrap();
    let name = "欧阳明月".as_bytes();
    let changed = "欧阳明日".as_bytes();
    let at = payload.windows(name.len()).position(|w| w == name).unwrap();
    let mut payload = payload;
    payload[at..at + name.len()].copy_from_slice(changed);
    sign1.payload = Some(payload);
    qr_text_from_cose(&coset::TaggedCborSerializable::to_tagged_vec(sign1).unwrap())
}

fn claims_without_exp() -> Vec<u8> {
    let claims = coset::cwt::ClaimsSetBuilder::new()
        .issuer("CN-ZJ".into())
        .issued_at(coset::cwt::Timestamp::WholeSeconds(t(IAT).timestamp()))
        .not_before(coset::cwt::Timestamp::WholeSeconds(t(IAT).timestamp()))
        .private_claim(permit_verifier::PERMIT_CLAIM_KEY, claim_with(|_| {}))
        .build();
    coset::CborSerializable::to_vec(claims).unwrap()
}

/// Verifies a case with the crate and returns the verification.
pub fn run(
    qr: &str,
    trust_list: &[u8],
    root_public_key: &[u8],
    status_list: Option<&[u8]>,
    at: DateTime<Utc>,
    policy: Policy,
) -> permit_verifier::Verification {
    let root = permit_verifier::ed25519_dalek::VerifyingKey::from_bytes(
        root_public_key.try_into().unwrap(),
    )
    .unwrap();
    let trust = TrustList::from_cose(trust_list, &root).unwrap();
    let status = status_list.map(|s| StatusList::from_cose(s, &trust).unwrap());
    let options = VerifyOptions {
        policy,
        ..VerifyOptions::at(at)
    };
    verify(qr, &trust, status.as_ref(), &options)
}

/// A policy as the vectors write it: its name and its fields (as the wasm module reads them).
fn policy_json(name: &str) -> Json {
    let mut value = serde_json::to_value(policy(name)).unwrap();
    value
        .as_object_mut()
        .unwrap()
        .insert("name".into(), json!(name));
    value
}

/// The JSON file for a case: the inputs, and the expected verdict, warnings and fields, after
/// checking that the crate agrees with the hand-written verdict and warnings.
pub fn to_json(case: &Case) -> Json {
    let root = root_key().verifying_key();
    let result = run(
        &case.qr,
        &case.lists.trust_list,
        root.as_bytes(),
        case.lists.status_list.as_deref(),
        case.at,
        policy(case.policy),
    );
    let mut verdict = serde_json::to_value(&result.verdict).unwrap();
    if let Some(obj) = verdict.as_object_mut() {
        obj.remove("reason");
    }
    assert_eq!(verdict, case.verdict, "case {}: verdict", case.name);
    let warnings: Vec<&str> = result.warnings.iter().map(|w| w.code()).collect();
    assert_eq!(warnings, case.warnings, "case {}: warnings", case.name);
    json!({
        "description": case.description,
        "qr": case.qr,
        "root_public_key_hex": hex::encode(root.as_bytes()),
        "trust_list_hex": hex::encode(&case.lists.trust_list),
        "status_list_hex": case.lists.status_list.as_ref().map(hex::encode),
        "at": case.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "options": {
            "clock_skew_seconds": 300,
            "holder_freshness_seconds": 90,
            "endorsement_window_seconds": 30 * 86400,
        },
        "policy": policy_json(case.policy),
        "expected": {
            "verdict": case.verdict,
            "warnings": result.warnings,
            "permit": result.permit,
            "claims": result.claims,
        },
    })
}
