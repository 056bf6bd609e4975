//! Several permitd instances on one database and one keys directory (issue 16): the signed
//! lists are signed once per version and served byte for byte alike by every instance, and a
//! scheduled key rotation switches every instance at its activation time, with every credential
//! verifying against the lists of either instance before, at and after it. On SQLite and on
//! PostgreSQL (PERMIT_TEST_BACKEND).

mod common;

use chrono::Duration;
use common::flow::{place, staff, submitted};
use common::{Person, TestApp};
use permit_api::platform::clock::Clock;
use permit_verifier::ed25519_dalek::VerifyingKey;
use permit_verifier::{StatusList, TrustList, VerifyOptions};
use serde_json::json;

/// The trust and status lists as `app` serves them: (trust bytes, status bytes, the two ETags).
async fn lists_of(app: &TestApp) -> (Vec<u8>, Vec<u8>, String, String) {
    let t = app.get("/api/v1/trust-list").await;
    assert_eq!(t.status(), 200);
    let te = t.headers()["etag"].to_str().unwrap().to_string();
    let trust = t.bytes().await.unwrap().to_vec();
    let s = app.get("/api/v1/status-list").await;
    assert_eq!(s.status(), 200);
    let se = s.headers()["etag"].to_str().unwrap().to_string();
    (trust, s.bytes().await.unwrap().to_vec(), te, se)
}

fn root_of(app: &TestApp) -> VerifyingKey {
    app.state.keys.root().verifying_key()
}

/// Verifies `qr` as a counter would, with the lists `lists_from` serves.
async fn verdict(lists_from: &TestApp, qr: &str) -> String {
    let (trust, status, _, _) = lists_of(lists_from).await;
    let trust = TrustList::from_cose(&trust, &root_of(lists_from)).expect("trust list verifies");
    let status = StatusList::from_cose(&status, &trust).expect("status list verifies");
    permit_verifier::verify(
        qr,
        &trust,
        Some(&status),
        &VerifyOptions::at(lists_from.clock.now()),
    )
    .verdict
    .code()
    .to_string()
}

async fn qr_of(app: &TestApp, pid: &str) -> String {
    let r = app
        .get(&format!(
            "/api/v1/permits/{pid}/qr?format=text&presentation=full"
        ))
        .await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The kid (hex) of the key of `app`'s trust list that signed a QR text: the one key that,
/// alone in a trust list, verifies it.
async fn kid_of(app: &TestApp, qr: &str) -> String {
    let (trust, _, _, _) = lists_of(app).await;
    let trust = TrustList::from_cose(&trust, &root_of(app)).unwrap();
    let at = app.clock.now();
    let signers: Vec<String> = trust
        .keys
        .iter()
        .filter(|k| {
            let alone = TrustList::new(trust.issuer.clone(), at, 60, vec![(*k).clone()]);
            let v = permit_verifier::verify(qr, &alone, None, &VerifyOptions::at(at));
            !matches!(
                v.verdict.code(),
                "unknown_key" | "bad_signature" | "malformed"
            )
        })
        .map(|k| hex::encode(k.kid))
        .collect();
    assert_eq!(signers.len(), 1, "one signer: {signers:?}");
    signers[0].clone()
}

/// A resident with an issued permit in the wallet of `app`'s device; returns the permit id.
async fn holder_with_permit(app: &TestApp, n: u32) -> String {
    let place = place(app).await;
    let me = Person::new(n);
    app.register_and_login(&me).await;
    let clerk = staff(app, "clerk", "clerk-demo-2026").await;
    let id = submitted(app, &place).await;
    let permit = common::flow::issue_permit(app, &clerk, &id, &place.qingbo).await;
    let pid = permit["id"].as_str().unwrap().to_string();
    let stepped = common::flow::into_wallet(app, &me.phone, &pid).await;
    assert_eq!(stepped["in_wallet"], true);
    pid
}

#[tokio::test]
async fn every_instance_serves_the_same_signed_lists_and_a_revocation_shows_on_both() {
    let a = TestApp::spawn_with(|c| c.demo = true).await;
    let b = a.second_instance().await;
    let pid = holder_with_permit(&a, 61).await;

    let first = lists_of(&a).await;
    assert_eq!(lists_of(&b).await, first, "the same bytes and ETags");
    assert_eq!(lists_of(&a).await, first, "and again: not signed anew");

    // Revoked through B (the clerk signs in there), the list both serve changes alike.
    let clerk_b = staff(&b, "clerk", "clerk-demo-2026").await;
    let r = clerk_b
        .post(
            &format!("/api/v1/staff/permits/{pid}/revoke"),
            &json!({"reason": "fraud"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after_a = lists_of(&a).await;
    let after_b = lists_of(&b).await;
    assert_eq!(after_a, after_b);
    assert_ne!(after_a.1, first.1, "a new status list");
    assert_eq!(after_a.0, first.0, "the trust list did not change");
    let qr_signed_before = {
        // The wallet no longer signs a revoked permit; the last QR is what a verifier holds.
        a.get(&format!("/api/v1/permits/{pid}/qr?format=text"))
            .await
            .status()
    };
    assert_eq!(qr_signed_before, 409);

    // Half the time to live later, one new version for both.
    a.clock.shift_to(a.clock.now() + Duration::hours(1));
    let later_b = lists_of(&b).await;
    let later_a = lists_of(&a).await;
    assert_eq!(later_a, later_b);
    assert_ne!(
        later_a.1, after_a.1,
        "the status list aged past half its time to live"
    );
}

#[tokio::test]
async fn a_scheduled_rotation_switches_every_instance_at_its_time_and_nothing_fails_to_verify() {
    let a = TestApp::spawn_with(|c| c.demo = true).await;
    let b = a.second_instance().await;
    let pid = holder_with_permit(&a, 62).await;
    let now = a.clock.now();
    let old_qr = qr_of(&a, &pid).await;
    let old_kid = kid_of(&a, &old_qr).await;

    // Too soon: refused, nothing added.
    let cfg = a.state.config.clone();
    let too_soon = permit_api::credentials::keys::schedule_rotation(
        &*a.state.storage,
        &cfg.keys_dir(),
        &cfg.issuer_name,
        cfg.trust_list_ttl_secs,
        Some(now + Duration::hours(1)),
        now,
    )
    .await;
    assert!(matches!(
        too_soon,
        Err(permit_api::credentials::keys::KeyError::TooSoon { .. })
    ));
    let (new_kid, activates_at) = permit_api::credentials::keys::schedule_rotation(
        &*a.state.storage,
        &cfg.keys_dir(),
        &cfg.issuer_name,
        cfg.trust_list_ttl_secs,
        None,
        now,
    )
    .await
    .expect("scheduled");
    assert_eq!(
        activates_at.timestamp(),
        (now + Duration::seconds(cfg.trust_list_ttl_secs as i64)).timestamp()
    );

    // Published at once (as soon as an instance reads the schedule again; B never was told):
    // both serve one trust list holding both keys, and both still sign with the old key.
    a.state.keys.refreshed(&*a.state.storage).await.unwrap();
    let before = lists_of(&a).await;
    assert_eq!(lists_of(&b).await.0, before.0, "B serves A's trust list");
    let trust = TrustList::from_cose(&before.0, &root_of(&a)).unwrap();
    let kids: Vec<String> = trust.keys.iter().map(|k| hex::encode(k.kid)).collect();
    assert_eq!(kids, vec![old_kid.clone(), new_kid.clone()]);
    // A's resident's session works on B when the ephemeral store is shared (Redis); on
    // SQLite each instance keeps its own sessions, so B's QR comes from A there.
    let from_b = if a.backend == "postgres" {
        qr_of(&a.same_device_on(&b), &pid).await
    } else {
        qr_of(&a, &pid).await
    };
    assert_eq!(
        kid_of(&a, &from_b).await,
        old_kid,
        "before its time, no instance signs with it"
    );
    for lists in [&a, &b] {
        assert_eq!(verdict(lists, &old_qr).await, "valid");
        assert_eq!(verdict(lists, &from_b).await, "valid");
    }

    // At the activation time, every instance signs with the new key, and every credential, old
    // and new, from either instance verifies against the lists of either.
    a.clock.shift_to(activates_at);
    b.state.keys.refreshed(&*b.state.storage).await.unwrap();
    let new_a = qr_of(&a, &pid).await;
    assert_eq!(kid_of(&a, &new_a).await, new_kid);
    let new_b = if a.backend == "postgres" {
        qr_of(&a.same_device_on(&b), &pid).await
    } else {
        new_a.clone()
    };
    assert_eq!(kid_of(&a, &new_b).await, new_kid);
    let after_a = lists_of(&a).await;
    assert_eq!(
        lists_of(&b).await,
        after_a,
        "one version of each list for both"
    );
    for lists in [&a, &b] {
        for qr in [&old_qr, &from_b, &new_a, &new_b] {
            assert_eq!(verdict(lists, qr).await, "valid", "{qr}");
        }
    }
    // The status list is signed by the key active now.
    let trust = TrustList::from_cose(&after_a.0, &root_of(&a)).unwrap();
    let status = StatusList::from_cose(&after_a.1, &trust).unwrap();
    assert!(status.issued_at >= activates_at);
}
