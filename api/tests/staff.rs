//! Staff second factor (issue 13): a clerk or administrator signs in with the password and a
//! passkey, enrolled at the first sign-in with the one-time code `permitd staff add` prints;
//! issue, revoke, real-name verification and the release of an ID number need a fresh staff
//! step-up. On SQLite with the in-process store, and on PostgreSQL with Redis
//! (PERMIT_TEST_BACKEND=postgres).

mod common;

use common::flow::{demo_enrolment_code, json_of, staff, step_up_with_passkey};
use common::{TestApp, code_of};
use permit_api::identity::service::staff as staff_accounts;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const CLERK: (&str, &str) = ("clerk", "clerk-demo-2026");

async fn password_step(device: &TestApp, username: &str, password: &str) -> Value {
    json_of(
        device
            .post(
                "/api/v1/sessions",
                &json!({"username": username, "password": password}),
            )
            .await,
        202,
    )
    .await
}

/// The enrolment code step, answered as it is.
async fn enrolment(device: &TestApp, ticket: &str, code: &str) -> reqwest::Response {
    device
        .post(
            "/api/v1/sessions/enrolment",
            &json!({"ticket": ticket, "enrolment_code": code}),
        )
        .await
}

async fn second_factor(device: &TestApp, ticket: &str, credential: Value) -> reqwest::Response {
    device
        .post(
            "/api/v1/sessions/second-factor",
            &json!({"ticket": ticket, "credential": credential}),
        )
        .await
}

fn registration(passkey: &mut SoftPasskey, options: &Value) -> Value {
    let options = serde_json::from_value(options["options"].clone()).unwrap();
    let created = passkey
        .do_registration(url::Url::parse(common::ORIGIN).unwrap(), options)
        .unwrap();
    serde_json::to_value(created).unwrap()
}

fn assertion(passkey: &mut SoftPasskey, next: &Value) -> Value {
    let options = serde_json::from_value(next["options"].clone()).unwrap();
    match passkey.do_authentication(url::Url::parse(common::ORIGIN).unwrap(), options) {
        Ok(c) => serde_json::to_value(c).unwrap(),
        Err(_) => json!({}),
    }
}

#[tokio::test]
async fn a_clerk_enrols_a_passkey_with_the_one_time_code_then_signs_in_with_password_and_passkey() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let device = app.another_device();
    // The password alone opens no session: the first step says a passkey is to be enrolled.
    let first = password_step(&device, CLERK.0, CLERK.1).await;
    assert_eq!(first["code"], "second_factor_required");
    assert_eq!(first["enrolment_required"], true);
    assert!(first["options"].is_null());
    assert_eq!(code_of(device.get("/api/v1/me").await).await.0, 401);
    let ticket = first["ticket"].as_str().unwrap();
    // A session cannot be had by skipping the code.
    assert_eq!(
        code_of(second_factor(&device, ticket, json!({})).await).await,
        (422, "invalid_enrolment_code".into())
    );
    // That spent the ticket: the password comes again.
    assert_eq!(
        code_of(enrolment(&device, ticket, demo_enrolment_code(CLERK.0)).await).await,
        (401, "second_factor_expired".into())
    );
    let first = password_step(&device, CLERK.0, CLERK.1).await;
    let ticket = first["ticket"].as_str().unwrap();
    // A wrong code, and a malformed one, are refused on the field, and the ticket stays.
    for wrong in ["2345-6789-ABCD-EFGH", "not a code"] {
        assert_eq!(
            code_of(enrolment(&device, ticket, wrong).await).await,
            (422, "invalid_enrolment_code".into()),
            "{wrong}"
        );
    }
    // The right one, typed loosely, gives the options for a new passkey.
    let loose = demo_enrolment_code(CLERK.0)
        .to_lowercase()
        .replace('-', " ");
    let options = json_of(enrolment(&device, ticket, &loose).await, 200).await;
    let mut passkey = SoftPasskey::new(true);
    let credential = registration(&mut passkey, &options);
    let me = json_of(
        second_factor(&device, ticket, credential.clone()).await,
        200,
    )
    .await;
    assert_eq!(me["role"], "clerk");
    assert_eq!(
        json_of(device.get("/api/v1/me").await, 200).await["username"],
        "clerk"
    );
    // The ticket and the code are spent.
    assert_eq!(
        code_of(second_factor(&device, ticket, credential).await).await,
        (401, "second_factor_expired".into())
    );
    let again = app.another_device();
    let next = password_step(&again, CLERK.0, CLERK.1).await;
    assert_eq!(next["enrolment_required"], false, "the passkey is enrolled");
    assert_eq!(
        code_of(
            enrolment(
                &again,
                next["ticket"].as_str().unwrap(),
                demo_enrolment_code(CLERK.0)
            )
            .await
        )
        .await,
        (409, "passkey_enrolled".into())
    );
    // Another authenticator's answer is refused as a wrong password is.
    let mut stranger = SoftPasskey::new(true);
    assert_eq!(
        code_of(
            second_factor(
                &again,
                next["ticket"].as_str().unwrap(),
                assertion(&mut stranger, &next)
            )
            .await
        )
        .await,
        (401, "invalid_credentials".into())
    );
    assert_eq!(code_of(again.get("/api/v1/me").await).await.0, 401);
    // The enrolled passkey signs in.
    let next = password_step(&again, CLERK.0, CLERK.1).await;
    let me = json_of(
        second_factor(
            &again,
            next["ticket"].as_str().unwrap(),
            assertion(&mut passkey, &next),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(me["role"], "clerk");
    // A wrong password is still a wrong password, with no ticket.
    assert_eq!(
        code_of(
            again
                .post(
                    "/api/v1/sessions",
                    &json!({"username": "clerk", "password": "wrong-2026-pw"})
                )
                .await
        )
        .await,
        (401, "invalid_credentials".into())
    );
}

#[tokio::test]
async fn wrong_enrolment_codes_lock_the_account_name_as_wrong_passwords_do() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let device = app.another_device();
    let first = password_step(&device, CLERK.0, CLERK.1).await;
    let ticket = first["ticket"].as_str().unwrap();
    for _ in 0..5 {
        assert_eq!(
            code_of(enrolment(&device, ticket, "2345-6789-ABCD-EFGH").await).await,
            (422, "invalid_enrolment_code".into())
        );
    }
    // The fifth wrong code armed the lock: the right one, and even the password, wait now.
    assert_eq!(
        code_of(enrolment(&device, ticket, demo_enrolment_code(CLERK.0)).await)
            .await
            .1,
        "too_many_attempts"
    );
    assert_eq!(
        code_of(
            device
                .post(
                    "/api/v1/sessions",
                    &json!({"username": CLERK.0, "password": CLERK.1})
                )
                .await
        )
        .await
        .1,
        "too_many_attempts"
    );
}

#[tokio::test]
async fn a_new_enrolment_code_removes_the_old_passkeys_and_ends_the_session() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let clerk = staff(&app, CLERK.0, CLERK.1).await;
    assert_eq!(code_of(clerk.get("/api/v1/me").await).await.0, 200);
    let account = app
        .state
        .storage
        .account_by_username("clerk")
        .await
        .unwrap();
    let code = staff_accounts::reset_enrolment(
        &*app.state.storage,
        &*app.state.ephemeral,
        "clerk",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(
        app.state
            .storage
            .passkeys_of(account.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(code_of(clerk.get("/api/v1/me").await).await.0, 401);
    // The next sign-in enrols again, with the new code only.
    let device = app.another_device();
    let first = password_step(&device, CLERK.0, CLERK.1).await;
    assert_eq!(first["enrolment_required"], true);
    let ticket = first["ticket"].as_str().unwrap();
    assert_eq!(
        code_of(enrolment(&device, ticket, demo_enrolment_code(CLERK.0)).await).await,
        (422, "invalid_enrolment_code".into())
    );
    json_of(enrolment(&device, ticket, &code.grouped()).await, 200).await;
    // A resident is not staff: no code is made for them.
    assert!(matches!(
        staff_accounts::reset_enrolment(
            &*app.state.storage,
            &*app.state.ephemeral,
            "nobody-here",
            chrono::Utc::now()
        )
        .await,
        Err(staff_accounts::StaffError::UnknownStaff)
    ));
}

#[tokio::test]
async fn issue_revoke_real_name_and_release_need_a_fresh_staff_step_up() {
    // With a window of 0 no step-up ever counts, so each gate shows.
    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        c.step_up_fresh_secs = 0;
    })
    .await;
    let clerk = staff(&app, CLERK.0, CLERK.1).await;
    let nobody = uuid::Uuid::new_v4();
    for (what, path, body) in [
        (
            "issue",
            format!("/api/v1/staff/applications/{nobody}/issue"),
            json!({}),
        ),
        (
            "revoke",
            format!("/api/v1/staff/permits/{nobody}/revoke"),
            json!({"reason": "fraud"}),
        ),
        (
            "real-name verification",
            format!("/api/v1/staff/accounts/{nobody}/real-name"),
            json!({"id_number": "330102199001017714"}),
        ),
        (
            "release of an ID number",
            "/api/v1/staff/id-number-releases".to_string(),
            json!({"id_number": "330102199001017714"}),
        ),
    ] {
        assert_eq!(
            code_of(clerk.post(&path, &body).await).await,
            (403, "step_up_required".into()),
            "{what}"
        );
    }
}

/// The session's step-up is fresh: a release is looked at (nobody holds this number), not
/// refused for a step-up.
async fn assert_fresh(staff: &TestApp) {
    let (status, code) = code_of(
        staff
            .post(
                "/api/v1/staff/id-number-releases",
                &json!({"id_number": "330102199001017714"}),
            )
            .await,
    )
    .await;
    assert_ne!(code, "step_up_required", "{status}");
}

#[tokio::test]
async fn a_staff_sign_in_is_a_step_up_and_a_staff_member_steps_up_with_the_passkey_only() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let clerk = staff(&app, CLERK.0, CLERK.1).await;
    // Fresh from the sign-in.
    assert_fresh(&clerk).await;
    // An SMS step-up is not theirs: the passkey is.
    assert_eq!(
        code_of(
            clerk
                .post(
                    "/api/v1/sessions/current/step-up",
                    &json!({"sms_code": "123456"})
                )
                .await
        )
        .await,
        (422, "passkey_required".into())
    );
    let mut passkey = app.staff_passkeys.lock().unwrap().remove("clerk").unwrap();
    let r = step_up_with_passkey(&app, &clerk.client, &mut passkey).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // The last passkey of a staff account stays: it is the second factor.
    let keys = json_of(clerk.get("/api/v1/passkeys").await, 200).await;
    let only = keys[0]["id"].as_str().unwrap();
    assert_eq!(
        code_of(clerk.delete(&format!("/api/v1/passkeys/{only}")).await).await,
        (409, "last_passkey".into())
    );
    // Signing in with the passkey alone (user verification is two factors) starts fresh too.
    let device = app.another_device();
    let started = json_of(
        device
            .post("/api/v1/sessions/passkey", &json!({"username": "clerk"}))
            .await,
        200,
    )
    .await;
    let credential = assertion(&mut passkey, &started);
    json_of(
        device
            .post(
                &format!(
                    "/api/v1/sessions/passkey/{}",
                    started["id"].as_str().unwrap()
                ),
                &json!({"credential": credential}),
            )
            .await,
        200,
    )
    .await;
    assert_fresh(&device).await;
}
