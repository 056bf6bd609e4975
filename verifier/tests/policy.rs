//! The verification policy, rule by rule, and the held lists that never roll back (feature
//! `issue`, to sign lists of chosen ages).

#![cfg(feature = "issue")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/vector_cases.rs"]
mod vector_cases;

use chrono::{DateTime, TimeDelta, Utc};
use permit_verifier::{
    HeldLists, Issuer, ListError, ListKind, ListRefusal, Offered, Permit, Policy, Presentation,
    StatusList, TrustList, Verdict, VerifyOptions, Warning, ed25519_dalek::SigningKey, present,
    verify, verify_batch,
};
use proptest::prelude::*;
use vector_cases::{
    AT, EXP, IAT, device_key, issuer_a, root_key, sample_permit, secret, t, trust_list_bytes,
};

fn trust_at(issued_at: DateTime<Utc>) -> Vec<u8> {
    trust_list_bytes(
        issued_at,
        7 * 86400,
        vec![issuer_a().trusted_key(t("2025-01-01T00:00:00Z"), None)],
    )
}

/// A status list issued at `issued_at`, revoking `revoked`.
fn status_at(issued_at: DateTime<Utc>, revoked: &[u64]) -> Vec<u8> {
    let a = issuer_a();
    let mut list = StatusList::new(a.name(), issued_at, 3600, 1024);
    for i in revoked {
        list.set_revoked(*i, true).unwrap();
    }
    list.to_cose(&a).unwrap()
}

fn lists(trust_age: TimeDelta, status_age: TimeDelta) -> (TrustList, StatusList) {
    let trust =
        TrustList::from_cose(&trust_at(t(AT) - trust_age), &root_key().verifying_key()).unwrap();
    let status = StatusList::from_cose(&status_at(t(AT) - status_age, &[7]), &trust).unwrap();
    (trust, status)
}

fn with(policy: Policy) -> VerifyOptions {
    VerifyOptions {
        policy,
        ..VerifyOptions::at(t(AT))
    }
}

fn full() -> String {
    vector_cases::issue(&issuer_a(), &sample_permit(), Presentation::Full)
}

#[test]
fn each_rule_fails_only_when_its_own_switch_is_on() {
    let (trust, status) = lists(TimeDelta::days(1), TimeDelta::hours(1));
    let permit = sample_permit();
    let bound = vector_cases::issue(
        &issuer_a(),
        &Permit {
            device_key: Some(device_key().verifying_key().to_bytes()),
            ..permit.clone()
        },
        Presentation::Basic,
    );
    let future = issuer_a()
        .issue(
            &permit,
            Presentation::Full,
            t(AT) + TimeDelta::minutes(6),
            t(IAT),
            t(EXP),
        )
        .unwrap();
    let foreign = vector_cases::issue(
        &Issuer::from_secret(&secret("issuer-2025"), "CN-SH"),
        &permit,
        Presentation::Full,
    );
    let uncovered = vector_cases::issue(
        &issuer_a(),
        &Permit {
            status_index: 4096,
            ..permit
        },
        Presentation::Full,
    );
    let off = Policy::lenient();
    let rules: [(&str, Policy, &str, &str); 4] = [
        (
            "holder proof",
            Policy {
                require_holder_proof: true,
                ..off
            },
            &bound,
            "holder_proof_required",
        ),
        (
            "future iat",
            Policy {
                reject_future_iat: true,
                ..off
            },
            &future,
            "issued_in_future",
        ),
        (
            "issuer",
            Policy {
                require_issuer_match: true,
                ..off
            },
            &foreign,
            "issuer_mismatch",
        ),
        (
            "status coverage",
            Policy {
                require_status_coverage: true,
                ..off
            },
            &uncovered,
            "status_index_out_of_range",
        ),
    ];
    for (rule, policy, qr, code) in rules {
        let lenient = verify(qr, &trust, Some(&status), &with(off));
        assert!(lenient.verdict.is_valid(), "{rule}: {:?}", lenient.verdict);
        let strict = verify(qr, &trust, Some(&status), &with(policy));
        assert_eq!(strict.verdict.code(), code, "{rule}");
        // The signature verified: the permit comes with the failure.
        assert!(strict.permit.is_some(), "{rule}");
        // The other rules leave this credential alone.
        for (other, policy, _, _) in rules {
            if other != rule {
                let v = verify(qr, &trust, Some(&status), &with(policy));
                assert!(
                    v.verdict.is_valid(),
                    "{rule} under {other}: {:?}",
                    v.verdict
                );
            }
        }
    }
    // Within the skew, a future iat is accepted.
    let near = issuer_a()
        .issue(
            &sample_permit(),
            Presentation::Full,
            t(AT) + TimeDelta::minutes(4),
            t(IAT),
            t(EXP),
        )
        .unwrap();
    assert_eq!(
        verify(&near, &trust, Some(&status), &VerifyOptions::counter(t(AT))).verdict,
        Verdict::Valid
    );
}

#[test]
fn the_counter_accepts_a_live_qr_and_refuses_the_same_credential_without_its_proof() {
    let (trust, status) = lists(TimeDelta::days(1), TimeDelta::hours(1));
    let device = device_key();
    let bound = vector_cases::issue(
        &issuer_a(),
        &Permit {
            device_key: Some(device.verifying_key().to_bytes()),
            ..sample_permit()
        },
        Presentation::Basic,
    );
    let live = present(&bound, &device, t(AT) - TimeDelta::seconds(10)).unwrap();
    let counter = VerifyOptions::counter(t(AT));
    assert_eq!(
        verify(&live, &trust, Some(&status), &counter).verdict,
        Verdict::Valid
    );
    let cut = verify(&bound, &trust, Some(&status), &counter);
    assert_eq!(cut.verdict, Verdict::HolderProofRequired);
    assert!(cut.warnings.is_empty());
    // The lenient policy keeps the old answer: valid, with a warning.
    let old = verify(&bound, &trust, Some(&status), &VerifyOptions::at(t(AT)));
    assert_eq!(old.verdict, Verdict::Valid);
    assert_eq!(old.warnings, vec![Warning::HolderProofMissing]);
    // A revoked credential stays revoked under the counter policy, a stale proof stale.
    let revoked = vector_cases::issue(
        &issuer_a(),
        &Permit {
            status_index: 7,
            ..sample_permit()
        },
        Presentation::Full,
    );
    assert_eq!(
        verify(&revoked, &trust, Some(&status), &counter).verdict,
        Verdict::Revoked
    );
    let stale = present(&bound, &device, t(AT) - TimeDelta::minutes(3)).unwrap();
    assert_eq!(
        verify(&stale, &trust, Some(&status), &counter)
            .verdict
            .code(),
        "holder_proof_stale"
    );
}

#[test]
fn lists_too_old_comes_first_and_carries_no_permit() {
    let (trust, status) = lists(TimeDelta::days(1), TimeDelta::hours(30));
    let v = verify(
        &full(),
        &trust,
        Some(&status),
        &VerifyOptions::counter(t(AT)),
    );
    assert_eq!(
        v.verdict,
        Verdict::ListsTooOld {
            list: ListKind::StatusList,
            issued_at: Some(t(AT) - TimeDelta::hours(30)),
        }
    );
    assert!(v.permit.is_none() && v.claims.is_none());
    // Even a QR that does not parse: the device must go online first.
    let garbage = verify(
        "hello",
        &trust,
        Some(&status),
        &VerifyOptions::counter(t(AT)),
    );
    assert_eq!(garbage.verdict.code(), "lists_too_old");
    // The messages tell the clerk to go online, in both languages.
    assert!(v.verdict.message_zh().contains("联网"));
    assert!(v.verdict.message_en().contains("online"));
}

#[test]
fn verify_batch_agrees_with_verify_under_the_counter_policy() {
    let (trust, status) = lists(TimeDelta::days(1), TimeDelta::hours(1));
    let foreign = vector_cases::issue(
        &Issuer::from_secret(&secret("issuer-2025"), "CN-SH"),
        &sample_permit(),
        Presentation::Full,
    );
    let texts = vec![full(), foreign.clone(), full(), foreign];
    let counter = VerifyOptions::counter(t(AT));
    let batch = verify_batch(&texts, &trust, Some(&status), &counter);
    for (text, b) in texts.iter().zip(&batch) {
        assert_eq!(*b, verify(text, &trust, Some(&status), &counter));
    }
    assert_eq!(batch[1].verdict.code(), "issuer_mismatch");
}

proptest! {
    /// Under the counter policy a list is too old exactly when it is older than its maximum.
    #[test]
    fn lists_too_old_exactly_past_the_maximum(trust_age in 0i64..20 * 86400, status_age in 0i64..3 * 86400) {
        let (trust, status) = lists(TimeDelta::seconds(trust_age), TimeDelta::seconds(status_age));
        let v = verify(&full(), &trust, Some(&status), &VerifyOptions::counter(t(AT)));
        let expected = if trust_age > 7 * 86400 || status_age > 86400 {
            "lists_too_old"
        } else {
            "valid"
        };
        prop_assert_eq!(v.verdict.code(), expected);
        let lenient = verify(&full(), &trust, Some(&status), &VerifyOptions::at(t(AT)));
        prop_assert_eq!(lenient.verdict.code(), "valid");
    }

    /// Whatever order lists of assorted ages arrive in, the held ones are the newest offered
    /// that verified, and an older offer never replaces them.
    #[test]
    fn held_lists_only_move_forward(ages in proptest::collection::vec((0i64..100, 0i64..100), 1..12)) {
        let mut held = HeldLists::new(root_key().verifying_key());
        let (mut newest_trust, mut newest_status) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
        for (ta, sa) in ages {
            let (ti, si) = (t(AT) - TimeDelta::hours(ta), t(AT) - TimeDelta::minutes(sa));
            let result = held.offer(&trust_at(ti), &status_at(si, &[]), t(AT), TimeDelta::minutes(5));
            let older = newest_trust.is_some_and(|n| ti < n) || newest_status.is_some_and(|n| si < n);
            prop_assert_eq!(result.is_err(), older);
            if !older {
                newest_trust = Some(ti);
                newest_status = Some(si);
            }
            prop_assert_eq!(held.trust_list().map(|l| l.issued_at), newest_trust);
            prop_assert_eq!(held.status_list().map(|l| l.issued_at), newest_status);
        }
    }
}

#[test]
fn held_lists_refuse_a_rollback_and_keep_the_revocation() {
    let skew = TimeDelta::minutes(5);
    let at = t(AT);
    let mut held = HeldLists::new(root_key().verifying_key());
    let revoked = vector_cases::issue(
        &issuer_a(),
        &Permit {
            status_index: 7,
            ..sample_permit()
        },
        Presentation::Full,
    );
    let counter = VerifyOptions::counter(at);
    assert!(held.verify(&revoked, &counter).is_none());

    // Yesterday's lists: index 7 not yet revoked.
    let (old_trust, old_status) = (
        trust_at(at - TimeDelta::days(1)),
        status_at(at - TimeDelta::hours(2), &[]),
    );
    assert_eq!(
        held.offer(&old_trust, &old_status, at, skew),
        Ok(Offered::Taken)
    );
    assert_eq!(
        held.offer(&old_trust, &old_status, at, skew),
        Ok(Offered::Unchanged)
    );
    assert!(held.verify(&revoked, &counter).unwrap().verdict.is_valid());

    // Today's: revoked.
    let new_status = status_at(at - TimeDelta::hours(1), &[7]);
    assert_eq!(
        held.offer(&old_trust, &new_status, at, skew),
        Ok(Offered::Taken)
    );
    assert_eq!(
        held.verify(&revoked, &counter).unwrap().verdict,
        Verdict::Revoked
    );

    // A replay of the older status list (with the same or even a newer trust list) is refused.
    for trust in [old_trust.clone(), trust_at(at - TimeDelta::hours(3))] {
        assert_eq!(
            held.offer(&trust, &old_status, at, skew),
            Err(ListRefusal::Older {
                list: ListKind::StatusList,
                held: at - TimeDelta::hours(1),
                offered: at - TimeDelta::hours(2),
            })
        );
    }
    // An older trust list is refused too, whatever the status list.
    let older_trust = trust_at(at - TimeDelta::days(2));
    let refusal = held
        .offer(&older_trust, &status_at(at, &[7]), at, skew)
        .unwrap_err();
    assert_eq!(refusal.code(), "older_than_held");
    assert!(matches!(
        refusal,
        ListRefusal::Older {
            list: ListKind::TrustList,
            ..
        }
    ));
    // Through all of that, the held lists are today's.
    assert_eq!(
        held.bytes(),
        Some((old_trust.as_slice(), new_status.as_slice()))
    );
    assert_eq!(
        held.verify(&revoked, &counter).unwrap().verdict,
        Verdict::Revoked
    );
}

#[test]
fn held_lists_refuse_lists_that_do_not_verify_or_come_from_the_future() {
    let skew = TimeDelta::minutes(5);
    let at = t(AT);
    let mut held = HeldLists::new(root_key().verifying_key());
    let (trust, status) = (trust_at(at - TimeDelta::days(1)), status_at(at, &[]));
    held.offer(&trust, &status, at, skew).unwrap();

    // A trust list signed by another root.
    let other_root = SigningKey::from_bytes(&secret("another-root"));
    let forged = TrustList::new(
        "forged",
        at,
        86400,
        vec![issuer_a().trusted_key(t("2025-01-01T00:00:00Z"), None)],
    )
    .to_cose(&other_root)
    .unwrap();
    assert_eq!(
        held.offer(&forged, &status, at, skew),
        Err(ListRefusal::TrustList(ListError::UnknownSigner))
    );
    // A status list signed by a key the trust list does not carry.
    let stranger = vector_cases::stranger();
    let mut list = StatusList::new(stranger.name(), at, 3600, 64);
    list.set_revoked(1, true).unwrap();
    assert_eq!(
        held.offer(&trust, &list.to_cose(&stranger).unwrap(), at, skew),
        Err(ListRefusal::StatusList(ListError::UnknownSigner))
    );
    // A list from beyond the clock skew would shut out every honest list until then.
    let ahead = trust_at(at + TimeDelta::minutes(6));
    assert_eq!(
        held.offer(&ahead, &status, at, skew),
        Err(ListRefusal::FromTheFuture {
            list: ListKind::TrustList,
            issued_at: at + TimeDelta::minutes(6),
        })
    );
    // Within the skew it is taken.
    assert_eq!(
        held.offer(&trust_at(at + TimeDelta::minutes(4)), &status, at, skew),
        Ok(Offered::Taken)
    );
    assert_eq!(
        held.trust_list().unwrap().issued_at,
        at + TimeDelta::minutes(4)
    );
}

#[test]
fn a_policy_reads_from_json_with_missing_fields_lenient() {
    let p: Policy = serde_json::from_str(
        r#"{"require_holder_proof": true, "max_status_list_age_seconds": 60}"#,
    )
    .unwrap();
    assert_eq!(
        p,
        Policy {
            require_holder_proof: true,
            max_status_list_age: Some(TimeDelta::seconds(60)),
            ..Policy::lenient()
        }
    );
    let round: Policy =
        serde_json::from_value(serde_json::to_value(Policy::counter()).unwrap()).unwrap();
    assert_eq!(round, Policy::counter());
    assert!(serde_json::from_str::<Policy>(r#"{"max_trust_list_age_seconds": -1}"#).is_err());
}
