//! The electronic permit end to end, on SQLite and on PostgreSQL (PERMIT_TEST_BACKEND):
//! register, declare residence, apply, upload, book, pass review, check in, issue, fetch the
//! QR and verify it with the verifier crate; move the clock past the anniversary (suspended),
//! endorse late (valid), revoke (revoked). Plus the access rules around it.

mod common;

use base64::Engine;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::flow::{available_days, json_of, place, staff, step1, submitted};
use common::{Person, TestApp, code_of};
use permit_verifier::ed25519_dalek::VerifyingKey;
use permit_verifier::{HeldLists, StatusList, TrustList, Verdict, VerifyOptions, Warning};
use serde_json::{Value, json};

/// 10:00 in Hangzhou on `day`.
fn morning_of(day: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap())
}

/// Verifies a QR text offline, as a counter would, with lists fetched from the server.
///
/// The lists come from `/trust-list` and `/status-list`, and again from the bundle
/// `/lists` that the scanner downloads: the bundle carries the same bytes and ETags, and gives
/// the same verdict; under the counter policy too, except that a device-bound credential shown
/// without its proof fails there.
async fn verify_offline(app: &TestApp, qr: &str) -> permit_verifier::Verification {
    let json: Value = app
        .get("/api/v1/trust-list?format=json")
        .await
        .json()
        .await
        .unwrap();
    let root_hex = json["root_public_key"].as_str().unwrap().to_owned();
    let root: [u8; 32] = hex::decode(&root_hex).unwrap().try_into().unwrap();
    let root = VerifyingKey::from_bytes(&root).unwrap();
    let r = app.get("/api/v1/trust-list").await;
    let trust_etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let trust_bytes = r.bytes().await.unwrap();
    let trust = TrustList::from_cose(&trust_bytes, &root).expect("trust list verifies");
    let r = app.get("/api/v1/status-list").await;
    let status_etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let status_bytes = r.bytes().await.unwrap();
    let status = StatusList::from_cose(&status_bytes, &trust).expect("status list verifies");
    let v = permit_verifier::verify(
        qr,
        &trust,
        Some(&status),
        &VerifyOptions::at(app.clock.now()),
    );

    let bundle = json_of(app.get("/api/v1/lists").await, 200).await;
    assert_eq!(bundle["root_public_key"], root_hex.as_str());
    assert_eq!(bundle["trust_list_etag"], trust_etag.as_str());
    assert_eq!(bundle["status_list_etag"], status_etag.as_str());
    let b64 = |k: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(bundle[k].as_str().unwrap())
            .unwrap()
    };
    let (bundle_trust, bundle_status) = (b64("trust_list"), b64("status_list"));
    assert_eq!(bundle_trust, trust_bytes.as_ref());
    assert_eq!(bundle_status, status_bytes.as_ref());
    let mut held = HeldLists::new(root);
    held.offer(
        &bundle_trust,
        &bundle_status,
        app.clock.now(),
        chrono::TimeDelta::minutes(5),
    )
    .expect("the bundle's lists verify against the root key");
    let lenient = held
        .verify(qr, &VerifyOptions::at(app.clock.now()))
        .unwrap();
    assert_eq!(lenient, v);
    let counter = held
        .verify(qr, &VerifyOptions::counter(app.clock.now()))
        .unwrap();
    if v.warnings.contains(&Warning::HolderProofMissing) {
        assert_eq!(counter.verdict, Verdict::HolderProofRequired);
    } else {
        assert_eq!(counter.verdict, v.verdict, "counter policy");
    }
    v
}

/// The day the permit's endorsement window opens, as its holder's list shows it.
async fn listed_opens(app: &TestApp, permit: &str) -> String {
    let listed = json_of(app.get(&format!("/api/v1/permits/{permit}")).await, 200).await;
    listed["endorsement_window_opens"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn qr_text(app: &TestApp, permit: &str, presentation: &str) -> String {
    let r = app
        .get(&format!(
            "/api/v1/permits/{permit}/qr?format=text&presentation={presentation}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

use permit_api::platform::clock::Clock;

/// The text of a PDF, read back with pdftotext (poppler-utils).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by make test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The QR codes on a PDF's first page: rendered with pdftoppm, decoded with rqrr.
fn pdf_qr(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    // 144 dpi is 2 pixels a point: the slip's whole-point modules land on whole pixels. rqrr's
    // finder-pattern search occasionally misses or doubles on one rendering, so other whole
    // multiples are tried too; the code must decode from at least one of them.
    for dpi in ["144", "216", "288"] {
        let status = std::process::Command::new("pdftoppm")
            .args(["-r", dpi, "-png", "-singlefile"])
            .arg(&file)
            .arg(dir.path().join("page"))
            .status()
            .expect("pdftoppm (poppler-utils) is installed by make test");
        assert!(status.success());
        let page = image::open(dir.path().join("page.png")).unwrap().to_luma8();
        let (w, h) = page.dimensions();
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                page.get_pixel(x as u32, y as u32)[0]
            });
        if let Some(text) = img
            .detect_grids()
            .iter()
            .find_map(|g| g.decode().ok().map(|(_, text)| text))
        {
            return text;
        }
    }
    panic!("the slip's QR decodes from its rendering");
}

#[tokio::test]
async fn a_permit_is_issued_verified_suspended_endorsed_and_revoked() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let me = Person::new(21);
    app.register_and_login(&me).await;
    let mut reg = json!({"moved_in_on": "2025-01-05", "housing_type": "own"});
    for (k, v) in step1(&place).as_object().unwrap() {
        if k != "service_point_id" {
            reg[k] = v.clone();
        }
    }
    json_of(app.post("/api/v1/residence-registrations", &reg).await, 201).await;
    let id = submitted(&app, &place).await;
    let day = available_days(&app, &id).await[0];
    json_of(
        app.put(
            &format!("/api/v1/applications/{id}/appointment"),
            &json!({"date": day}),
        )
        .await,
        200,
    )
    .await;

    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/review"),
                &json!({"decision": "pass"}),
            )
            .await,
        200,
    )
    .await;
    // Issuing needs the applicant at the counter first.
    assert_eq!(
        code_of(
            clerk
                .post(
                    &format!("/api/v1/staff/applications/{id}/issue"),
                    &json!({})
                )
                .await
        )
        .await,
        (409, "not_issuable".into())
    );

    // A clerk of another service point sees none of it.
    let (_, code) = permit_api::identity::service::staff::add(
        &*app.state.storage,
        "clerk_hubin",
        permit_api::identity::model::Role::Clerk,
        Some("湖滨民警"),
        "Hubin2026pw!",
        &[place.hubin.parse().unwrap()],
    )
    .await
    .unwrap();
    let other_clerk =
        common::flow::staff_with_code(&app, "clerk_hubin", "Hubin2026pw!", &code.grouped()).await;
    let own_detail = json_of(app.get(&format!("/api/v1/applications/{id}")).await, 200).await;
    let proof = own_detail["materials"][0]["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/staff/applications/{id}"),
        format!("/api/v1/applications/{id}/materials/{proof}"),
    ] {
        assert_eq!(other_clerk.get(&path).await.status(), 404, "{path}");
    }
    assert_eq!(
        other_clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/issue"),
                &json!({})
            )
            .await
            .status(),
        404
    );

    // The day comes: check in, then issue, once.
    app.clock.shift_to(morning_of(day));
    let todays = json_of(
        clerk
            .get(&format!(
                "/api/v1/staff/appointments?service_point_id={}",
                place.qingbo
            ))
            .await,
        200,
    )
    .await;
    let ap = todays["items"][0]["id"].as_str().unwrap().to_string();
    json_of(
        clerk
            .post(
                &format!("/api/v1/staff/appointments/{ap}/check-in"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    let permit = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/issue"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        code_of(
            clerk
                .post(
                    &format!("/api/v1/staff/applications/{id}/issue"),
                    &json!({})
                )
                .await
        )
        .await,
        (409, "already_issued".into())
    );
    let pid = permit["id"].as_str().unwrap().to_string();
    assert_eq!(permit["state"], "valid");
    assert_eq!(permit["authority"], "杭州市公安局上城区分局");
    let valid_until: NaiveDate = permit["valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        valid_until,
        day.checked_add_months(chrono::Months::new(12)).unwrap()
    );
    let detail = json_of(app.get(&format!("/api/v1/applications/{id}")).await, 200).await;
    assert_eq!(detail["status"], "issued");
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert_eq!(inbox["items"][0]["kind"], "permit_issued");

    // The QR only after a step-up; nobody else's permit is visible.
    let mine = json_of(app.get("/api/v1/permits").await, 200).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(
        code_of(
            app.get(&format!("/api/v1/permits/{pid}/qr?format=text"))
                .await
        )
        .await,
        (403, "step_up_required".into())
    );
    assert_eq!(
        code_of(
            app.post(
                &format!("/api/v1/permits/{pid}/step-up"),
                &json!({"sms_code": "000000"})
            )
            .await
        )
        .await
        .0,
        422
    );
    let stepped = common::flow::into_wallet(&app, &me.phone, &pid).await;
    assert_eq!(stepped["in_wallet"], true);
    let stranger = app.another_device();
    stranger.register_and_login(&Person::new(22)).await;
    for path in [
        format!("/api/v1/permits/{pid}"),
        format!("/api/v1/permits/{pid}/qr?format=text"),
    ] {
        assert_eq!(stranger.get(&path).await.status(), 404, "{path}");
    }

    // The QR text verifies offline with the verifier crate and online.
    let full = qr_text(&app, &pid, "full").await;
    assert!(
        full.starts_with("RP1:") && full.len() < 600,
        "{}",
        full.len()
    );
    let v = verify_offline(&app, &full).await;
    assert_eq!(v.verdict.code(), "valid", "{:?}", v.verdict);
    let p = v.permit.unwrap();
    assert_eq!(p.name, "张小明");
    assert_eq!(p.id_number, me.id_number);
    let basic = qr_text(&app, &pid, "basic").await;
    let v = verify_offline(&app, &basic).await;
    assert!(
        v.permit.unwrap().id_number.contains('*'),
        "basic masks the ID number"
    );
    let online = json_of(
        app.post("/api/v1/verifications", &json!({"qr_text": full}))
            .await,
        200,
    )
    .await;
    assert_eq!(online["verdict"], "valid");
    assert_eq!(online["permit"]["name"], "张小明");
    let r = app
        .get(&format!("/api/v1/permits/{pid}/qr?format=svg"))
        .await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let r = app
        .get(&format!("/api/v1/permits/{pid}/qr?format=png"))
        .await;
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = image::load_from_memory(&r.bytes().await.unwrap())
        .unwrap()
        .to_luma8();
    let (w, h) = png.dimensions();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        png.get_pixel(x as u32, y as u32)[0]
    });
    let (_, decoded) = img.detect_grids()[0].decode().unwrap();
    assert_eq!(verify_offline(&app, &decoded).await.verdict.code(), "valid");

    // The printed slip: CJK text with the holder's name, and a QR that verifies.
    let r = app.get(&format!("/api/v1/permits/{pid}/slip.pdf")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains("居住证确认单"), "{text}");
    assert!(text.contains("张小明"), "{text}");
    assert!(text.contains("杭州市公安局上城区分局"), "{text}");
    let printed = pdf_qr(&pdf);
    assert_eq!(verify_offline(&app, &printed).await.verdict.code(), "valid");
    assert_eq!(
        stranger
            .get(&format!("/api/v1/permits/{pid}/slip.pdf"))
            .await
            .status(),
        404
    );
    let r = clerk
        .get(&format!("/api/v1/staff/permits/{pid}/slip.pdf"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        other_clerk
            .get(&format!("/api/v1/staff/permits/{pid}/slip.pdf"))
            .await
            .status(),
        404
    );
    // The acceptance receipt of the submission.
    let r = app
        .get(&format!("/api/v1/applications/{id}/receipt.pdf"))
        .await;
    assert_eq!(r.status(), 200);
    let text = pdf_text(&r.bytes().await.unwrap());
    assert!(text.contains("居住证受理回执"), "{text}");
    assert!(text.contains(detail["number"].as_str().unwrap()), "{text}");

    // A year early, the answer is when endorsing opens, before anything about real-name.
    let early = app
        .post(&format!("/api/v1/permits/{pid}/endorsements"), &json!({}))
        .await;
    let (status, body) = (
        early.status().as_u16(),
        early.json::<Value>().await.unwrap(),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("endorsement_not_due")),
        "{body}"
    );
    let opens = listed_opens(&app, &pid).await;
    assert!(body["message"].as_str().unwrap().contains(&opens), "{body}");
    let found = json_of(
        clerk
            .get(&format!(
                "/api/v1/staff/accounts?id_number={}",
                me.id_number
            ))
            .await,
        200,
    )
    .await;
    let account = found["id"].as_str().unwrap();
    assert_eq!(
        code_of(
            clerk
                .post(
                    &format!("/api/v1/staff/accounts/{account}/real-name"),
                    &json!({"id_number": common::id_with_check("11010519491231002")}),
                )
                .await
        )
        .await,
        (422, "id_number_mismatch".into())
    );
    let verified = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/accounts/{account}/real-name"),
                &json!({"id_number": me.id_number}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(verified["real_name_verified"], true);
    // Too early to endorse.
    assert_eq!(
        code_of(
            app.post(&format!("/api/v1/permits/{pid}/endorsements"), &json!({}))
                .await
        )
        .await,
        (409, "endorsement_not_due".into())
    );
    // Past the anniversary: suspended.
    app.clock
        .shift_to(morning_of(valid_until + Duration::days(40)));
    assert_eq!(
        verify_offline(&app, &full).await.verdict.code(),
        "suspended"
    );
    let listed = json_of(app.get(&format!("/api/v1/permits/{pid}")).await, 200).await;
    assert_eq!(listed["state"], "suspended");
    let endorsed = json_of(
        app.post(&format!("/api/v1/permits/{pid}/endorsements"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(endorsed["state"], "valid");
    let new_until: NaiveDate = endorsed["valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        new_until,
        day.checked_add_months(chrono::Months::new(24)).unwrap()
    );
    let renewed = qr_text(&app, &pid, "full").await;
    assert_eq!(verify_offline(&app, &renewed).await.verdict.code(), "valid");
    assert_eq!(
        verify_offline(&app, &full).await.verdict.code(),
        "suspended",
        "last year's credential stays expired"
    );

    // Suspended for more than two years: apply again.
    app.clock
        .shift_to(morning_of(new_until + Duration::days(2 * 366 + 1)));
    assert_eq!(
        code_of(
            app.post(&format!("/api/v1/permits/{pid}/endorsements"), &json!({}))
                .await
        )
        .await,
        (409, "reapply_required".into())
    );
    app.clock
        .shift_to(morning_of(new_until - Duration::days(100)));

    // Revoked: every credential of the permit verifies as revoked.
    let version_before = app.state.storage.status_list_version().await.unwrap();
    let json = json_of(app.get("/api/v1/status-list?format=json").await, 200).await;
    assert_eq!(json["revoked"], json!([]), "no permit revoked yet");
    let etag = app.get("/api/v1/status-list").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let r = app
        .client
        .get(app.url("/api/v1/status-list"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let bundle_etag = app.get("/api/v1/lists").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.client
            .get(app.url("/api/v1/lists"))
            .header("If-None-Match", &bundle_etag)
            .send()
            .await
            .unwrap()
            .status(),
        304
    );
    assert_eq!(
        other_clerk
            .post(
                &format!("/api/v1/staff/permits/{pid}/revoke"),
                &json!({"reason": "fraud"})
            )
            .await
            .status(),
        404
    );
    // The clerk finds the permit by the holder's ID number; another point's clerk finds none.
    let lookup = format!("/api/v1/staff/permits?id_number={}", me.id_number);
    let found = json_of(clerk.get(&lookup).await, 200).await;
    let found = &found["items"];
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], pid.as_str());
    assert!(found[0]["id_number"].as_str().unwrap().contains('*'));
    let none = json_of(other_clerk.get(&lookup).await, 200).await;
    assert_eq!(
        none,
        json!({"items": []}),
        "the last page has no next_before"
    );
    assert_eq!(
        code_of(clerk.get("/api/v1/staff/permits?id_number=12345").await).await,
        (422, "invalid_id_number".into())
    );
    assert_eq!(
        app.get(&lookup).await.status(),
        403,
        "a resident cannot search"
    );
    let revoked = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/permits/{pid}/revoke"),
                &json!({"reason": "fraud"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(revoked["state"], "revoked");
    let checked = verify_offline(&app, &renewed).await;
    assert_eq!(checked.verdict.code(), "revoked");
    // The served list has the permit's bit set, and only it, over the whole capacity; the
    // list's version moved on in the revoking transaction.
    let index = checked.permit.as_ref().unwrap().status_index;
    let json = json_of(app.get("/api/v1/status-list?format=json").await, 200).await;
    assert_eq!(json["length"], 1 << 24);
    assert_eq!(json["revoked"], json!([index]));
    assert!(app.state.storage.status_list_version().await.unwrap() > version_before);
    let online = json_of(
        app.post("/api/v1/verifications", &json!({"qr_text": renewed}))
            .await,
        200,
    )
    .await;
    assert_eq!(online["verdict"], "revoked");
    assert_eq!(online["valid"], false);
    let r = app.get("/api/v1/status-list").await;
    assert_ne!(
        r.headers()["etag"].to_str().unwrap(),
        etag,
        "a new list after a revocation"
    );
    // The bundle fetched before the revocation is stale: the next one carries it (and
    // verify_offline above checked that its lists show the permit revoked).
    let r = app
        .client
        .get(app.url("/api/v1/lists"))
        .header("If-None-Match", &bundle_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a new bundle after a revocation");

    // Every staff action is in the audit log; only administrators read it.
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let log = json_of(admin.get("/api/v1/staff/audit?limit=200").await, 200).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "review",
        "check_in",
        "issue_permit",
        "real_name_verified",
        "revoke_permit",
        "find_account",
        "find_permit",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert_eq!(clerk.get("/api/v1/staff/audit").await.status(), 403);
    let _ = app.clock.now();
}

#[tokio::test]
async fn the_signed_lists_are_cacheable_and_garbage_verifies_as_malformed() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/trust-list").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/cose");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    let json = json_of(app.get("/api/v1/status-list?format=json").await, 200).await;
    assert_eq!(json["length"], 1 << 24, "the whole capacity, none revoked");
    assert_eq!(json["revoked"], json!([]));

    // The bundle: its own ETag, the shorter max-age of the two lists, 304 when unchanged.
    let r = app.get("/api/v1/lists").await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let max_age = |r: &reqwest::Response| -> i64 {
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .strip_prefix("public, max-age=")
            .unwrap()
            .parse()
            .unwrap()
    };
    let (trust, status) = (
        app.get("/api/v1/trust-list").await,
        app.get("/api/v1/status-list").await,
    );
    assert_eq!(max_age(&r), max_age(&trust).min(max_age(&status)));
    assert!(max_age(&r) > 0 && max_age(&r) <= 3600, "{}", max_age(&r));
    let bundle: Value = r.json().await.unwrap();
    for (field, list) in [("trust_list_etag", &trust), ("status_list_etag", &status)] {
        assert_eq!(bundle[field], list.headers()["etag"].to_str().unwrap());
        assert_ne!(bundle[field], etag.as_str(), "the bundle's ETag is its own");
    }
    let again = app
        .client
        .get(app.url("/api/v1/lists"))
        .header("If-None-Match", format!("\"other\", {etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let stale = app
        .client
        .get(app.url("/api/v1/lists"))
        .header("If-None-Match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    for text in ["", "RP1:", "hello", "RP1:%%%%", &"A".repeat(5000)] {
        let v = json_of(
            app.post("/api/v1/verifications", &json!({"qr_text": text}))
                .await,
            200,
        )
        .await;
        assert_eq!(v["valid"], false, "{text:.20}");
    }
}

#[tokio::test]
async fn a_unit_files_for_its_people_who_claim_their_permit() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;

    // The clerk opens the unit account at the counter.
    let unit_body = json!({"username": "hangzhou_tech", "name": "杭州某科技有限公司", "phone": "13700001111", "password": "Unit2026pass"});
    let unit_account = json_of(clerk.post("/api/v1/staff/units", &unit_body).await, 201).await;
    assert_eq!(unit_account["role"], "unit");
    assert_eq!(
        code_of(clerk.post("/api/v1/staff/units", &unit_body).await).await,
        (409, "username_taken".into())
    );
    let resident = app.another_device();
    resident.register_and_login(&Person::new(31)).await;
    assert_eq!(
        resident
            .post("/api/v1/staff/units", &unit_body)
            .await
            .status(),
        403
    );

    // The unit signs in (an SMS code the first time) and files for an employee.
    let unit = app.another_device();
    let r = unit
        .post(
            "/api/v1/sessions",
            &json!({"username": "hangzhou_tech", "password": "Unit2026pass"}),
        )
        .await;
    assert_eq!(r.status(), 401);
    let code = unit.last_sms_code("13700001111").await;
    let r = unit
        .post(
            "/api/v1/sessions",
            &json!({"username": "hangzhou_tech", "password": "Unit2026pass", "sms_code": code}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let worker = Person::new(32);
    let mut body = step1(&place);
    body["applicant_name"] = json!(worker.real_name);
    body["applicant_id_number"] = json!(worker.id_number);
    body["condition"] = json!("employment");
    body["employer"] = json!("杭州某科技有限公司");
    let id = common::flow::submit(&unit, &body, "合同.pdf").await;
    // Only the unit's own applications are listed.
    assert_eq!(
        json_of(unit.get("/api/v1/applications").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        resident
            .get(&format!("/api/v1/applications/{id}"))
            .await
            .status(),
        404
    );

    let permit = common::flow::issue_permit(&unit, &clerk, &id, &place.qingbo).await;
    let number = permit["number"].as_str().unwrap().to_string();
    // A unit endorses for its people without a personal real-name verification.
    let until: NaiveDate = permit["valid_until"].as_str().unwrap().parse().unwrap();
    unit.clock.shift_to(morning_of(until - Duration::days(10)));
    let endorsed = json_of(
        unit.post(
            &format!(
                "/api/v1/permits/{}/endorsements",
                permit["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        endorsed["valid_until"],
        until
            .checked_add_months(chrono::Months::new(12))
            .unwrap()
            .to_string()
    );
    assert_eq!(
        json_of(unit.get("/api/v1/permits").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The worker claims it into their own account once real-name verified.
    let own = app.another_device();
    own.register_and_login(&worker).await;
    own.step_up(&worker.phone).await;
    assert_eq!(
        code_of(
            own.post("/api/v1/permits/claim", &json!({"permit_number": number}))
                .await
        )
        .await,
        (403, "real_name_required".into())
    );
    common::flow::verify_real_name(&clerk, &worker.id_number).await;
    // Somebody else cannot claim it.
    let other = Person::new(33);
    let stranger = app.another_device();
    stranger.register_and_login(&other).await;
    let claimed = json_of(
        own.post("/api/v1/permits/claim", &json!({"permit_number": number}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        claimed["in_wallet"], false,
        "the new holder steps up before showing it"
    );
    assert!(
        json_of(unit.get("/api/v1/permits").await, 200)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        json_of(own.get("/api/v1/permits").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        code_of(
            own.post(
                "/api/v1/permits/claim",
                &json!({"permit_number": "3301020000000000"})
            )
            .await
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn passkey_step_up_device_binding_and_the_endorsement_reminder() {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;

    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let me = Person::new(41);
    app.register_and_login(&me).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let id = submitted(&app, &place).await;
    let permit = common::flow::issue_permit(&app, &clerk, &id, &place.qingbo).await;
    let pid = permit["id"].as_str().unwrap().to_string();

    // Register a passkey; from then on the step-up is a passkey assertion, not an SMS code.
    let origin = url::Url::parse(common::ORIGIN).unwrap();
    let mut authenticator = SoftPasskey::new(true);
    app.step_up(&me.phone).await;
    common::flow::register_passkey(&app, &app.client, &mut authenticator).await;
    let code = app.sms_code(&me.phone, "step_up").await;
    assert_eq!(
        code_of(
            app.post(
                &format!("/api/v1/permits/{pid}/step-up"),
                &json!({"sms_code": code})
            )
            .await
        )
        .await,
        (422, "passkey_required".into())
    );
    let started = json_of(
        app.post(
            &format!("/api/v1/permits/{pid}/step-up/passkey"),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let assertion = authenticator.do_authentication(origin, options).unwrap();
    let stepped = json_of(
        app.post(
            &format!(
                "/api/v1/permits/{pid}/step-up/passkey/{}",
                started["id"].as_str().unwrap()
            ),
            &json!({"credential": assertion}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(stepped["in_wallet"], true);

    // Holder binding: a device key; the QR then needs a fresh device proof to verify as valid.
    let device = permit_verifier::ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    assert_eq!(
        code_of(
            app.put(
                &format!("/api/v1/permits/{pid}/device-key"),
                &json!({"public_key": "abcd"})
            )
            .await
        )
        .await,
        (422, "invalid_device_key".into())
    );
    let bound = json_of(
        app.put(
            &format!("/api/v1/permits/{pid}/device-key"),
            &json!({"public_key": hex::encode(device.verifying_key().as_bytes())}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(bound["holder_bound"], true);
    let credential = qr_text(&app, &pid, "full").await;
    let presented = permit_verifier::present(&credential, &device, app.clock.now()).unwrap();
    assert_eq!(
        verify_offline(&app, &presented).await.verdict.code(),
        "valid"
    );
    let bare = verify_offline(&app, &credential).await;
    assert!(
        bare.warnings
            .iter()
            .any(|w| w.code() == "holder_proof_missing"),
        "a bound credential shown without its device proof is flagged: {:?}",
        bare.warnings
    );
    let screenshot = permit_verifier::present(
        &credential,
        &device,
        app.clock.now() - Duration::minutes(10),
    )
    .unwrap();
    assert_eq!(
        verify_offline(&app, &screenshot).await.verdict.code(),
        "holder_proof_stale",
        "a screenshot of an old QR goes stale"
    );

    // The endorsement window opens a month before the due date: one reminder.
    let until: NaiveDate = permit["valid_until"].as_str().unwrap().parse().unwrap();
    let opens = until - Duration::days(25);
    let at = morning_of(opens);
    let round = permit_api::platform::jobs::run_once(&app.state, at)
        .await
        .unwrap();
    assert_eq!(round.endorsement_reminders, 1);
    let round = permit_api::platform::jobs::run_once(&app.state, at)
        .await
        .unwrap();
    assert_eq!(round.endorsement_reminders, 0);
    // The reminder went by SMS to the holder's phone as well, once.
    let texts: Vec<String> = app
        .state
        .sms
        .sent_to(&me.phone)
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains("签注"))
        .collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&permit["number"].as_str().unwrap().to_string()));
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "endorsement_due")
    );
    // In the window, endorsing online needs a real-name verified account (实名认证 at a counter).
    app.clock.shift_to(at);
    assert_eq!(
        code_of(
            app.post(&format!("/api/v1/permits/{pid}/endorsements"), &json!({}))
                .await
        )
        .await,
        (403, "real_name_required".into())
    );
}

#[tokio::test]
async fn a_walk_in_is_issued_at_the_counter_then_claimed_and_replaced() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let person = Person::new(51);
    let mut body = step1(&place);
    body["applicant_name"] = json!(person.real_name);
    body["applicant_id_number"] = json!(person.id_number);
    body["phone"] = json!(person.phone);
    body["condition"] = json!("residence");

    // Only at the clerk's own service point, only by staff, only with the person named.
    let mut elsewhere = body.clone();
    elsewhere["service_point_id"] = json!(place.hubin);
    assert_eq!(
        code_of(clerk.post("/api/v1/staff/walk-ins", &elsewhere).await)
            .await
            .0,
        422
    );
    let resident = app.another_device();
    resident.register_and_login(&Person::new(52)).await;
    assert_eq!(
        resident
            .post("/api/v1/staff/walk-ins", &body)
            .await
            .status(),
        403
    );
    let mut nameless = body.clone();
    nameless.as_object_mut().unwrap().remove("applicant_name");
    assert_eq!(
        code_of(clerk.post("/api/v1/staff/walk-ins", &nameless).await).await,
        (422, "person_incomplete".into())
    );

    let a = json_of(clerk.post("/api/v1/staff/walk-ins", &body).await, 200).await;
    assert_eq!(a["status"], "checked_in");
    let id = a["id"].as_str().unwrap();
    let permit = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/issue"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    let pid = permit["id"].as_str().unwrap().to_string();
    let r = clerk
        .get(&format!("/api/v1/staff/permits/{pid}/slip.pdf"))
        .await;
    assert_eq!(
        r.status(),
        200,
        "printed at the counter for a person without a phone"
    );

    // The person claims it once they have a verified account of their own.
    let own = app.another_device();
    own.register_and_login(&person).await;
    own.step_up(&person.phone).await;
    common::flow::verify_real_name(&clerk, &person.id_number).await;
    let number = permit["number"].as_str().unwrap();
    json_of(
        own.post("/api/v1/permits/claim", &json!({"permit_number": number}))
            .await,
        200,
    )
    .await;
    // Lost: a replacement (补领) revokes the old permit when the new one is issued.
    common::flow::into_wallet(&own, &person.phone, &pid).await;
    let old_qr = qr_text(&own, &pid, "full").await;
    let mut replacement = step1(&place);
    replacement["business_type"] = json!("replacement");
    replacement["condition"] = json!("residence");
    let rid = common::flow::submit(&own, &replacement, "挂失.pdf").await;
    common::flow::issue_permit(&own, &clerk, &rid, &place.qingbo).await;
    let mine = json_of(own.get("/api/v1/permits").await, 200).await;
    let states: Vec<(&str, &str)> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["state"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&(pid.as_str(), "revoked")), "{states:?}");
    assert!(
        states.iter().any(|(id, s)| *id != pid && *s == "valid"),
        "{states:?}"
    );
    assert_eq!(
        verify_offline(&own, &old_qr).await.verdict.code(),
        "revoked"
    );
}

/// A walk-in's application and permit are held by the service point (custody), never in the
/// clerk's own account: the clerk's wallet never shows the permit nor answers for it, staff of
/// the point work with the application as before, another point's clerk sees nothing of it,
/// the custody account cannot sign in, and the person claims the permit by its number.
#[tokio::test]
async fn a_walk_in_permit_is_held_by_the_service_point_until_the_person_claims_it() {
    use permit_api::platform::storage::StorageError;

    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let person = Person::new(53);
    let mut body = step1(&place);
    body["applicant_name"] = json!(person.real_name);
    body["applicant_id_number"] = json!(person.id_number);
    body["phone"] = json!(person.phone);
    body["condition"] = json!("residence");
    let a = json_of(clerk.post("/api/v1/staff/walk-ins", &body).await, 200).await;
    let id = a["id"].as_str().unwrap().to_string();
    let permit = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/issue"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    let pid = permit["id"].as_str().unwrap().to_string();
    let number = permit["number"].as_str().unwrap().to_string();

    // Filed under the point's custody account, not the clerk's.
    let storage = &*app.state.storage;
    let application = storage.application(id.parse().unwrap()).await.unwrap();
    let clerk_account = storage.account_by_username("clerk").await.unwrap();
    assert_ne!(application.account_id, clerk_account.id);
    let custody = storage.account_by_id(application.account_id).await.unwrap();
    assert_eq!(
        custody.custody_point_id,
        Some(place.qingbo.parse().unwrap())
    );
    assert!(custody.phone.is_none() && custody.id_number.is_none());
    let held = storage.permit(pid.parse().unwrap()).await.unwrap();
    assert_eq!(held.account_id, custody.id);
    // The SMS went to the phone given at the counter, and says where the permit waits.
    permit_api::platform::jobs::run_once(&app.state, Utc::now())
        .await
        .unwrap();
    let sms = json_of(
        app.get(&format!("/api/v1/dev/sms?phone={}", person.phone))
            .await,
        200,
    )
    .await;
    assert!(
        sms.to_string().contains("由受理点代为保管"),
        "the issue SMS names the custody: {sms}"
    );

    // The clerk's wallet never shows it, nor answers for it.
    assert_eq!(
        json_of(clerk.get("/api/v1/permits").await, 200).await,
        json!([])
    );
    for path in [
        format!("/api/v1/permits/{pid}"),
        format!("/api/v1/permits/{pid}/qr?presentation=full&format=svg"),
        format!("/api/v1/permits/{pid}/slip.pdf"),
    ] {
        assert_eq!(clerk.get(&path).await.status(), 404, "{path}");
    }
    for path in [
        format!("/api/v1/permits/{pid}/step-up"),
        format!("/api/v1/permits/{pid}/endorsements"),
    ] {
        assert_eq!(
            clerk
                .post(&path, &json!({"sms_code": "000000"}))
                .await
                .status(),
            404,
            "{path}"
        );
    }

    // The point's staff reach it through the staff endpoints as before.
    let detail = json_of(
        clerk.get(&format!("/api/v1/staff/applications/{id}")).await,
        200,
    )
    .await;
    assert_eq!(detail["status"], "issued");
    let queue = json_of(
        clerk.get("/api/v1/staff/applications?status=issued").await,
        200,
    )
    .await;
    assert!(queue.to_string().contains(&id), "in the point's queue");
    assert_eq!(
        clerk
            .get(&format!("/api/v1/staff/permits/{pid}/slip.pdf"))
            .await
            .status(),
        200
    );

    // A clerk of another service point gets 404 on all of it.
    let (_, code) = permit_api::identity::service::staff::add(
        storage,
        "clerk_hubin",
        permit_api::identity::model::Role::Clerk,
        Some("湖滨民警"),
        "Hubin2026pw!",
        &[place.hubin.parse().unwrap()],
    )
    .await
    .unwrap();
    let other_clerk =
        common::flow::staff_with_code(&app, "clerk_hubin", "Hubin2026pw!", &code.grouped()).await;
    for path in [
        format!("/api/v1/staff/applications/{id}"),
        format!("/api/v1/staff/permits/{pid}/slip.pdf"),
        format!("/api/v1/permits/{pid}"),
    ] {
        assert_eq!(other_clerk.get(&path).await.status(), 404, "{path}");
    }
    assert_eq!(
        other_clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/issue"),
                &json!({})
            )
            .await
            .status(),
        404
    );

    // The custody account cannot sign in: sign-in never finds it, whatever its hash, and its
    // name is none a person can register.
    assert!(matches!(
        storage.account_by_username(&custody.username).await,
        Err(StorageError::NotFound)
    ));
    let password = "Custody2026pw!";
    for attempt in ["!custody", password] {
        assert_eq!(
            code_of(
                app.another_device()
                    .post(
                        "/api/v1/sessions",
                        &json!({"username": custody.username, "password": attempt}),
                    )
                    .await
            )
            .await,
            (401, "invalid_credentials".into()),
            "{attempt}"
        );
        // Even with a real hash set behind its back.
        storage
            .set_password_hash(
                custody.id,
                &permit_api::identity::password::hash(password).unwrap(),
            )
            .await
            .unwrap();
    }
    let passkey = app
        .another_device()
        .post(
            "/api/v1/sessions/passkey",
            &json!({"username": custody.username}),
        )
        .await;
    assert_eq!(passkey.status(), 200, "a decoy ceremony, as for anyone");
    assert_eq!(
        code_of(
            app.another_device()
                .register(&Person {
                    username: custody.username.clone(),
                    ..Person::new(54)
                })
                .await
        )
        .await
        .1,
        "invalid_username"
    );

    // The person, registered and real-name verified, claims it by its number and holds it.
    let own = app.another_device();
    own.register_and_login(&person).await;
    common::flow::verify_real_name(&clerk, &person.id_number).await;
    own.step_up(&person.phone).await;
    let claimed = json_of(
        own.post("/api/v1/permits/claim", &json!({"permit_number": number}))
            .await,
        200,
    )
    .await;
    assert_eq!(claimed["id"], pid.as_str());
    let mine = json_of(own.get("/api/v1/permits").await, 200).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["id"], pid.as_str());
    common::flow::into_wallet(&own, &person.phone, &pid).await;
    let qr = qr_text(&own, &pid, "full").await;
    assert_eq!(
        verify_offline(&own, &qr).await.verdict.code(),
        "valid",
        "the holder shows it"
    );
    assert_eq!(
        json_of(clerk.get("/api/v1/permits").await, 200).await,
        json!([])
    );
}
