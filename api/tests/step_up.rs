//! Fresh step-up (issue 13): the operations that matter need a step-up passed within the
//! freshness window, the full presentation needs a device a step-up passed on, step-ups and
//! claims have attempt limits, and staff sessions end when idle or too old. On SQLite with the
//! in-process store, and on PostgreSQL with Redis (PERMIT_TEST_BACKEND=postgres).

mod common;

use common::flow::{json_of, place, staff, submitted};
use common::{Person, TestApp, code_of};
use permit_api::platform::config::Config;
use serde_json::{Value, json};

/// Each operation that needs a fresh step-up, as (name, method, path, body).
fn sensitive(p: &Person) -> Vec<(&'static str, &'static str, String, Value)> {
    let nobody = uuid::Uuid::new_v4();
    vec![
        (
            "add a passkey",
            "POST",
            "/api/v1/passkeys/registrations".into(),
            json!({"name": "我的手机"}),
        ),
        (
            "finish adding a passkey",
            "POST",
            format!("/api/v1/passkeys/registrations/{nobody}"),
            json!({"credential": {}}),
        ),
        (
            "delete a passkey",
            "DELETE",
            format!("/api/v1/passkeys/{nobody}"),
            Value::Null,
        ),
        (
            "bind a device key",
            "PUT",
            format!("/api/v1/permits/{nobody}/device-key"),
            json!({"public_key": "00".repeat(32)}),
        ),
        (
            "change the password",
            "PUT",
            "/api/v1/me/password".into(),
            json!({"current_password": "not-it-2026", "new_password": "Better2026x",
                   "new_password_confirmation": "Better2026x"}),
        ),
        (
            "change the phone",
            "PUT",
            "/api/v1/me/phone".into(),
            json!({"password": "not-it-2026", "new_phone": "13700002222", "sms_code": "000000"}),
        ),
        (
            "claim a permit",
            "POST",
            "/api/v1/permits/claim".into(),
            json!({"permit_number": format!("33010{}", &p.id_number[..11])}),
        ),
    ]
}

async fn send(app: &TestApp, method: &str, path: &str, body: &Value) -> reqwest::Response {
    match method {
        "POST" => app.post(path, body).await,
        "PUT" => app.put(path, body).await,
        "DELETE" => app.delete(path).await,
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn each_sensitive_operation_needs_a_fresh_step_up_and_passes_after_one() {
    let app = TestApp::spawn().await;
    let p = Person::new(301);
    app.register_and_login(&p).await;
    for (name, method, path, body) in sensitive(&p) {
        let r = send(&app, method, &path, &body).await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (status, body["code"].as_str().unwrap()),
            (403, "step_up_required"),
            "{name} without a step-up"
        );
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("确认身份"),
            "{name}: plain words: {message}"
        );
    }
    app.step_up(&p.phone).await;
    for (name, method, path, body) in sensitive(&p) {
        let (status, code) = code_of(send(&app, method, &path, &body).await).await;
        assert_ne!(
            code, "step_up_required",
            "{name} after a step-up ({status})"
        );
        assert!(status < 500, "{name}: {status} {code}");
    }
}

#[tokio::test]
async fn a_step_up_older_than_the_window_no_longer_counts() {
    // A window of 0: every step-up has expired by the time the next request arrives.
    let app = TestApp::spawn_with(|c| c.step_up_fresh_secs = 0).await;
    let p = Person::new(302);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;
    for (name, method, path, body) in sensitive(&p) {
        assert_eq!(
            code_of(send(&app, method, &path, &body).await).await,
            (403, "step_up_required".into()),
            "{name} after an expired step-up"
        );
    }
}

#[tokio::test]
async fn an_account_with_a_passkey_steps_up_with_it_and_the_first_passkey_needs_an_sms_code() {
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    let app = TestApp::spawn().await;
    let p = Person::new(303);
    app.register_and_login(&p).await;
    // No passkey yet: the passkey step-up is refused, the SMS one is the way.
    assert_eq!(
        code_of(
            app.post("/api/v1/sessions/current/step-up/passkey", &json!({}))
                .await
        )
        .await,
        (422, "no_passkey".into())
    );
    // The person does not retype their phone: without one, the code goes to the account's.
    let sent = common::flow::json_of(
        app.post(
            "/api/v1/sms-codes",
            &json!({"phone": null, "purpose": "step_up"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        sent["phone"].as_str().unwrap(),
        format!("{}****{}", &p.phone[..3], &p.phone[7..])
    );
    let code = app.last_sms_code(&p.phone).await;
    app.step_up_with(&code).await;
    // A phone that is not text is refused as such, not read as "absent".
    let (status, code) = code_of(
        app.post(
            "/api/v1/sms-codes",
            &json!({"phone": 13800000000u64, "purpose": "step_up"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{code}");
    assert_eq!(code, "invalid_type");
    // Signed out, a code without a phone goes nowhere.
    let anonymous = app.another_device();
    assert_eq!(
        code_of(
            anonymous
                .post(
                    "/api/v1/sms-codes",
                    &json!({"purpose": "step_up", "captcha": anonymous.solve_captcha().await})
                )
                .await
        )
        .await
        .0,
        422
    );
    let mut authenticator = SoftPasskey::new(true);
    common::flow::register_passkey(&app, &app.client, &mut authenticator).await;
    // Now the account has a passkey: an SMS code no longer steps up.
    let code = app.sms_code(&p.phone, "step_up").await;
    assert_eq!(
        code_of(
            app.post(
                "/api/v1/sessions/current/step-up",
                &json!({"sms_code": code})
            )
            .await
        )
        .await,
        (422, "passkey_required".into())
    );
    let r = common::flow::step_up_with_passkey(&app, &app.client, &mut authenticator).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["fresh_for"], 300);
}

#[tokio::test]
async fn the_full_presentation_needs_a_device_a_step_up_passed_on() {
    // With a window of 0 freshness never helps: only the seen device does.
    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        c.step_up_fresh_secs = 0;
    })
    .await;
    let place = place(&app).await;
    let me = Person::new(304);
    app.register_and_login(&me).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let id = submitted(&app, &place).await;
    // No step-up is ever fresh here, so the clerk could not issue over HTTP: the counter's
    // issue runs as its use case (the staff gate has its own test in staff.rs).
    common::flow::checked_in(&app, &clerk, &id, &place.qingbo).await;
    let account = app
        .state
        .storage
        .account_by_username("clerk")
        .await
        .unwrap();
    let permit = permit_api::credentials::service::issue(
        &*app.state.storage,
        permit_api::identity::model::Staff {
            account_id: account.id,
            role: account.role,
        },
        id.parse().unwrap(),
        &app.state.policy.name_zh,
        permit_api::platform::clock::Clock::now(&*app.clock),
    )
    .await
    .unwrap();
    let pid = permit.id.to_string();
    let code = app.sms_code(&me.phone, "step_up").await;
    let r = app
        .post(
            &format!("/api/v1/permits/{pid}/step-up"),
            &json!({"sms_code": code}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("permit_device=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let full = format!("/api/v1/permits/{pid}/qr?format=text&presentation=full");
    let basic = format!("/api/v1/permits/{pid}/qr?format=text&presentation=basic");
    let slip = format!("/api/v1/permits/{pid}/slip.pdf");
    assert_eq!(
        app.get(&full).await.status(),
        200,
        "the device stepped up on"
    );
    assert_eq!(app.get(&slip).await.status(), 200);

    // The same account on a device never stepped up on: basic yes, full and the slip no.
    let phone = app.another_device();
    assert_eq!(phone.login(&me, None).await.status(), 200);
    assert_eq!(phone.get(&basic).await.status(), 200);
    for path in [&full, &slip] {
        assert_eq!(
            code_of(phone.get(path).await).await,
            (403, "step_up_required".into()),
            "{path}"
        );
    }
    phone.step_up(&me.phone).await;
    assert_eq!(phone.get(&full).await.status(), 200, "seen after a step-up");
    assert_eq!(phone.get(&slip).await.status(), 200);
}

#[tokio::test]
async fn wrong_step_up_codes_lock_the_account_out_even_for_the_right_code() {
    let app = TestApp::spawn().await;
    let p = Person::new(305);
    app.register_and_login(&p).await;
    for _ in 0..5 {
        assert_eq!(
            code_of(
                app.post(
                    "/api/v1/sessions/current/step-up",
                    &json!({"sms_code": "000000"})
                )
                .await
            )
            .await,
            (422, "invalid_sms_code".into())
        );
    }
    let code = app.sms_code(&p.phone, "step_up").await;
    let r = app
        .post(
            "/api/v1/sessions/current/step-up",
            &json!({"sms_code": code}),
        )
        .await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    assert!(body["retry_after"].as_u64().unwrap() > 0);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("身份确认失败次数过多")
    );
    // The lock is the account's, whichever step-up endpoint asks.
    let other = app.another_device();
    assert_eq!(other.login(&p, None).await.status(), 200);
    assert_eq!(
        code_of(
            other
                .post(
                    "/api/v1/sessions/current/step-up",
                    &json!({"sms_code": code})
                )
                .await
        )
        .await
        .1,
        "too_many_attempts"
    );
    // Another account is not affected.
    let q = Person::new(306);
    let third = app.another_device();
    third.register_and_login(&q).await;
    third.step_up(&q.phone).await;
}

#[tokio::test]
async fn failed_passkey_step_ups_lock_the_account_out() {
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    let app = TestApp::spawn().await;
    let p = Person::new(307);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;
    let mut authenticator = SoftPasskey::new(true);
    common::flow::register_passkey(&app, &app.client, &mut authenticator).await;
    let mut stranger = SoftPasskey::new(true);
    for _ in 0..5 {
        let r = common::flow::step_up_with_passkey(&app, &app.client, &mut stranger).await;
        assert_eq!(code_of(r).await, (422, "passkey_rejected".into()));
    }
    let r = common::flow::step_up_with_passkey(&app, &app.client, &mut authenticator).await;
    assert_eq!(code_of(r).await, (429, "too_many_attempts".into()));
}

#[tokio::test]
async fn wrong_permit_numbers_lock_claims_out() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let p = Person::new(308);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    common::flow::verify_real_name(&clerk, &p.id_number).await;
    for n in 0..5 {
        assert_eq!(
            code_of(
                app.post(
                    "/api/v1/permits/claim",
                    &json!({"permit_number": format!("330102000000000{n}")})
                )
                .await
            )
            .await,
            (404, "not_found".into())
        );
    }
    let r = app
        .post(
            "/api/v1/permits/claim",
            &json!({"permit_number": "3301020000000009"}),
        )
        .await;
    let body = json_of(r, 429).await;
    assert_eq!(body["code"], "too_many_attempts");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("认领失败次数过多")
    );
}

/// A staff session under `adjust`: ended at its first use after sign-in; a resident's is not.
async fn staff_session_ends_at_once(name: &str, adjust: fn(&mut Config)) {
    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        adjust(c);
    })
    .await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    assert_eq!(
        code_of(clerk.get("/api/v1/me").await).await,
        (401, "unauthenticated".into()),
        "{name}"
    );
    // It stays ended: the session was removed, not merely refused once.
    assert_eq!(clerk.get("/api/v1/me").await.status(), 401, "{name}");
    let p = Person::new(309);
    app.register_and_login(&p).await;
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        200,
        "{name}: resident"
    );
}

#[tokio::test]
async fn staff_sessions_end_when_idle_or_too_old_and_residents_do_not_idle_out() {
    staff_session_ends_at_once("idle", |c| c.staff_idle_secs = 0).await;
    staff_session_ends_at_once("too old", |c| c.staff_session_secs = 0).await;
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    for _ in 0..3 {
        assert_eq!(clerk.get("/api/v1/me").await.status(), 200);
    }
}
