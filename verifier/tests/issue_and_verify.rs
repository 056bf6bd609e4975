//! Issuing and verifying through the public API (feature `issue`).

#![cfg(feature = "issue")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/vector_cases.rs"]
mod vector_cases;

use std::io::Write;

use chrono::TimeDelta;
use permit_verifier::{
    Issuer, ListError, Permit, Presentation, QrEcc, StatusList, TrustList, Verdict, VerifyOptions,
    Warning, ed25519_dalek::SigningKey, present, to_svg, verify,
};
use vector_cases::{AT, EXP, IAT, issuer_a, issuer_b, root_key, sample_permit, t};

fn lists(issuer: &Issuer) -> (TrustList, StatusList) {
    let trust_bytes = TrustList::new(
        "root",
        t(AT) - TimeDelta::days(1),
        7 * 86400,
        vec![issuer.trusted_key(t("2025-01-01T00:00:00Z"), None)],
    )
    .to_cose(&root_key())
    .unwrap();
    let trust = TrustList::from_cose(&trust_bytes, &root_key().verifying_key()).unwrap();
    let mut status = StatusList::new(issuer.name(), t(AT) - TimeDelta::hours(1), 86400, 64);
    status.set_revoked(3, true).unwrap();
    let status = StatusList::from_cose(&status.to_cose(issuer).unwrap(), &trust).unwrap();
    (trust, status)
}

#[test]
fn issue_then_verify_returns_the_permit() {
    let a = issuer_a();
    let (trust, status) = lists(&a);
    let permit = sample_permit();
    let qr = a
        .issue(&permit, Presentation::Full, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let result = verify(&qr, &trust, Some(&status), &VerifyOptions::at(t(AT)));
    assert_eq!(result.verdict, Verdict::Valid);
    assert_eq!(result.permit.as_ref(), Some(&permit));
    assert!(result.warnings.is_empty());
    let claims = result.claims.unwrap();
    assert_eq!(claims.presentation, Presentation::Full);
    assert_eq!(claims.expires_at, t(EXP));
    assert_eq!(claims.issuer, "CN-ZJ");

    let basic = a
        .issue(&permit, Presentation::Basic, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let result = verify(&basic, &trust, Some(&status), &VerifyOptions::at(t(AT)));
    assert_eq!(result.verdict, Verdict::Valid);
    assert_eq!(result.permit.unwrap().id_number, "110105********002X");
    assert_eq!(result.claims.unwrap().presentation, Presentation::Basic);
}

#[test]
fn full_presentation_stays_under_600_characters() {
    // A 4-character name and a long district and authority.
    let permit = sample_permit();
    assert_eq!(permit.name.chars().count(), 4);
    let qr = issuer_a()
        .issue(&permit, Presentation::Full, t(IAT), t(IAT), t(EXP))
        .unwrap();
    assert!(
        qr.len() < 600,
        "full presentation is {} characters",
        qr.len()
    );
    // 新疆维吾尔自治区 alone as the district, and 杭州市上城区, are shorter still.
    for district in ["新疆维吾尔自治区", "浙江省杭州市上城区"] {
        let p = Permit {
            district: district.into(),
            ..permit.clone()
        };
        let qr = issuer_a()
            .issue(&p, Presentation::Full, t(IAT), t(IAT), t(EXP))
            .unwrap();
        assert!(qr.len() < 600, "{district}: {} characters", qr.len());
    }
}

#[test]
fn holder_bound_presentation_of_a_hangzhou_permit_stays_under_600_characters() {
    let device = SigningKey::from_bytes(&[4u8; 32]);
    let permit = Permit {
        district: "浙江省杭州市上城区".into(),
        authority: "杭州市公安局上城区分局".into(),
        device_key: Some(device.verifying_key().to_bytes()),
        ..sample_permit()
    };
    let qr = issuer_a()
        .issue(&permit, Presentation::Full, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let shown = present(&qr, &device, t(AT)).unwrap();
    println!(
        "holder-bound Hangzhou presentation: {} characters",
        shown.len()
    );
    assert!(
        shown.len() < 600,
        "holder-bound presentation is {} characters",
        shown.len()
    );
}

#[test]
fn qr_renders_as_svg() {
    let qr = issuer_a()
        .issue(&sample_permit(), Presentation::Full, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let svg = to_svg(&qr, QrEcc::Medium).unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"));
    assert!(to_svg(&"A".repeat(10_000), QrEcc::High).is_err());
}

#[test]
fn clock_skew_and_windows_are_parameters() {
    let a = issuer_a();
    let (trust, status) = lists(&a);
    let qr = a
        .issue(&sample_permit(), Presentation::Full, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let one_minute_late = t(EXP) + TimeDelta::minutes(1);
    let mut options = VerifyOptions::at(one_minute_late);
    assert!(
        verify(&qr, &trust, Some(&status), &options)
            .verdict
            .is_valid()
    );
    options.clock_skew = TimeDelta::zero();
    assert_eq!(
        verify(&qr, &trust, Some(&status), &options).verdict,
        Verdict::Suspended { since: t(EXP) }
    );
    let mut options = VerifyOptions::at(t(EXP) - TimeDelta::days(40));
    assert_eq!(
        verify(&qr, &trust, Some(&status), &options).verdict,
        Verdict::Valid
    );
    options.endorsement_window = TimeDelta::days(60);
    assert_eq!(
        verify(&qr, &trust, Some(&status), &options).verdict,
        Verdict::ValidEndorsementDue { due: t(EXP) }
    );
}

#[test]
fn holder_freshness_is_a_parameter() {
    let a = issuer_a();
    let (trust, status) = lists(&a);
    let device = SigningKey::from_bytes(&[4u8; 32]);
    let permit = Permit {
        device_key: Some(device.verifying_key().to_bytes()),
        ..sample_permit()
    };
    let qr = a
        .issue(&permit, Presentation::Basic, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let shown = present(&qr, &device, t(AT) - TimeDelta::seconds(120)).unwrap();
    let mut options = VerifyOptions::at(t(AT));
    assert!(matches!(
        verify(&shown, &trust, Some(&status), &options).verdict,
        Verdict::HolderProofStale { .. }
    ));
    options.holder_freshness = TimeDelta::seconds(180);
    assert_eq!(
        verify(&shown, &trust, Some(&status), &options).verdict,
        Verdict::Valid
    );
    // A proof from the future beyond the clock skew is stale too.
    let future = present(&qr, &device, t(AT) + TimeDelta::minutes(6)).unwrap();
    assert!(matches!(
        verify(&future, &trust, Some(&status), &VerifyOptions::at(t(AT))).verdict,
        Verdict::HolderProofStale { .. }
    ));
    // A proof for a credential without a device key is ignored with a warning.
    let unbound = a
        .issue(
            &sample_permit(),
            Presentation::Basic,
            t(IAT),
            t(IAT),
            t(EXP),
        )
        .unwrap();
    let shown = present(&unbound, &device, t(AT)).unwrap();
    let result = verify(&shown, &trust, Some(&status), &VerifyOptions::at(t(AT)));
    assert_eq!(result.verdict, Verdict::Valid);
    assert_eq!(result.warnings, vec![Warning::HolderProofUnexpected]);
}

#[test]
fn a_kid_shared_by_several_entries_tries_each() {
    let a = issuer_a();
    // The same key listed twice: an entry whose period does not cover iat, and one that does;
    // plus an entry for another key.
    let keys = vec![
        a.trusted_key(t("2020-01-01T00:00:00Z"), Some(t("2021-01-01T00:00:00Z"))),
        issuer_b().trusted_key(t("2025-01-01T00:00:00Z"), None),
        a.trusted_key(t("2025-01-01T00:00:00Z"), None),
    ];
    let bytes = TrustList::new("root", t(AT), 86400, keys)
        .to_cose(&root_key())
        .unwrap();
    let trust = TrustList::from_cose(&bytes, &root_key().verifying_key()).unwrap();
    assert_eq!(trust.keys_for(&a.kid(), t(IAT).timestamp()).count(), 1);
    let qr = a
        .issue(&sample_permit(), Presentation::Full, t(IAT), t(IAT), t(EXP))
        .unwrap();
    let result = verify(&qr, &trust, None, &VerifyOptions::at(t(AT)));
    assert_eq!(result.verdict, Verdict::Valid);
    assert_eq!(result.warnings, vec![Warning::StatusListMissing]);

    // Both entries covering iat: the first fails nothing, each is tried.
    let mut wrong = a.trusted_key(t("2025-01-01T00:00:00Z"), None);
    wrong.public_key = issuer_b().verifying_key(); // kid of A, key of B
    let trust = TrustList::new(
        "root",
        t(AT),
        86400,
        vec![wrong, a.trusted_key(t("2025-01-01T00:00:00Z"), None)],
    );
    assert_eq!(
        verify(&qr, &trust, None, &VerifyOptions::at(t(AT))).verdict,
        Verdict::Valid
    );
}

#[test]
fn lists_signed_by_the_wrong_key_are_rejected() {
    let a = issuer_a();
    let other_root = SigningKey::from_bytes(&[7u8; 32]);
    let bytes = TrustList::new("root", t(AT), 86400, vec![a.trusted_key(t(IAT), None)])
        .to_cose(&other_root)
        .unwrap();
    assert_eq!(
        TrustList::from_cose(&bytes, &root_key().verifying_key()),
        Err(ListError::UnknownSigner)
    );
    let (trust, _) = lists(&a);
    let status = StatusList::new("x", t(AT), 60, 8)
        .to_cose(&issuer_b())
        .unwrap();
    assert_eq!(
        StatusList::from_cose(&status, &trust),
        Err(ListError::UnknownSigner)
    );
}

#[test]
fn signed_status_list_bombs_stop_at_the_cap() {
    // A correctly signed status list whose `lst` inflates past MAX_STATUS_BITS_LEN.
    let a = issuer_a();
    let (trust, _) = lists(&a);
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..(permit_verifier::MAX_STATUS_BITS_LEN >> 20) + 1 {
        e.write_all(&chunk).unwrap();
    }
    let lst = e.finish().unwrap();
    use ciborium::Value;
    let text = |s: &str| Value::Text(s.into());
    let payload = Value::Map(vec![
        (text("iss"), text("CN-ZJ")),
        (text("iat"), t(AT).timestamp().into()),
        (text("ttl"), 60.into()),
        (
            text("status_list"),
            Value::Map(vec![
                (text("bits"), 1.into()),
                (text("lst"), Value::Bytes(lst)),
            ]),
        ),
    ]);
    let mut bytes = Vec::new();
    ciborium::into_writer(&payload, &mut bytes).unwrap();
    let cose = a.sign_cose(bytes).unwrap();
    match StatusList::from_cose(&cose, &trust) {
        Err(ListError::Malformed(why)) => assert!(why.contains("more than"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn status_list_bits_round_trip() {
    let a = issuer_a();
    let (trust, _) = lists(&a);
    let mut list = StatusList::new("CN-ZJ", t(AT), 60, 10);
    assert_eq!(list.len(), 16);
    for i in [0u64, 9, 15, 1000] {
        list.set_revoked(i, true).unwrap();
    }
    list.set_revoked(9, false).unwrap();
    let parsed = StatusList::from_cose(&list.to_cose(&a).unwrap(), &trust).unwrap();
    assert_eq!(
        parsed.revoked_indices().collect::<Vec<_>>(),
        vec![0, 15, 1000]
    );
    assert_eq!(parsed.is_revoked(0), Some(true));
    assert_eq!(parsed.is_revoked(9), Some(false));
    assert_eq!(parsed.is_revoked(1008), None);
}

#[test]
fn a_status_list_from_a_ready_bit_array_signs_and_reads_back_the_same_bits() {
    let a = issuer_a();
    let (trust, _) = lists(&a);
    // Bits 1 and 7 of byte 0, bit 0 of byte 2, bit 7 of the last byte: 0, 2 and 7 stay clear.
    let bits = vec![0b1000_0010, 0, 0b0000_0001, 0, 0b1000_0000];
    let list = StatusList::from_bits("CN-ZJ", t(AT), 60, bits).unwrap();
    assert_eq!(list.len(), 40);
    let parsed = StatusList::from_cose(&list.to_cose(&a).unwrap(), &trust).unwrap();
    assert_eq!(
        parsed.revoked_indices().collect::<Vec<_>>(),
        vec![1, 7, 16, 39]
    );
    assert_eq!(parsed.len(), 40);
    for clear in [0u64, 2, 8, 17, 38] {
        assert_eq!(parsed.is_revoked(clear), Some(false), "{clear}");
    }
    assert_eq!(parsed.is_revoked(40), None);
    // The same list as set bit by bit.
    let mut one_by_one = StatusList::new("CN-ZJ", t(AT), 60, 40);
    for i in [1u64, 7, 16, 39] {
        one_by_one.set_revoked(i, true).unwrap();
    }
    assert_eq!(list, one_by_one);
    // Larger than any verifier reads: refused at once.
    assert!(matches!(
        StatusList::from_bits(
            "CN-ZJ",
            t(AT),
            60,
            vec![0; permit_verifier::MAX_STATUS_BITS_LEN + 1]
        ),
        Err(permit_verifier::IssueError::StatusIndexTooLarge)
    ));
}
