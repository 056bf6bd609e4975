//! API scenarios against a running permitd (SQLite + in-process store by default; PostgreSQL +
//! Redis with PERMIT_TEST_BACKEND=postgres).

mod common;

use common::flow::{json_of, register_passkey};
use common::{ORIGIN, Person, TestApp, code_of, id_with_check};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

// ---------- registration ----------

/// Two family members register one after the other on the same Wi-Fi (one address): each
/// gets a code and an account; the limits are per phone, and the address's allows a household.
#[tokio::test]
async fn two_people_on_one_network_register_back_to_back() {
    let app = TestApp::spawn().await;
    for n in [61, 62, 63] {
        let device = app.another_device();
        let r = device.register(&Person::new(n)).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
}

#[tokio::test]
async fn registering_signs_in_and_a_first_password_login_asks_for_an_sms_code_and_me_is_masked() {
    let app = TestApp::spawn().await;
    let p = Person::new(1);
    let r = app.register(&p).await;
    assert_eq!(r.status(), 201);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["username"], p.username.as_str());
    assert_eq!(me["role"], "resident");
    assert_eq!(me["real_name_verified"], false);
    // The phone was just proved: this device is signed in at once.
    let me: Value = json_of(app.get("/api/v1/me").await, 200).await;
    assert_eq!(me["username"], p.username.as_str());

    // A password sign-in (another device) asks for a login code first.
    let r = app.login(&p, None).await;
    let (status, code) = code_of(r).await;
    assert_eq!((status, code.as_str()), (401, "sms_code_required"));
    let sms = app.last_sms_code(&p.phone).await;
    let r = app.login(&p, Some(&sms)).await;
    assert_eq!(r.status(), 200);

    let me: Value = app.get("/api/v1/me").await.json().await.unwrap();
    let masked = me["id_number_masked"].as_str().unwrap();
    assert_eq!(masked.len(), 18);
    assert!(masked.contains("********"));
    assert_eq!(&masked[..6], &p.id_number[..6]);
    assert_eq!(
        me["phone_masked"],
        format!("{}****{}", &p.phone[..3], &p.phone[7..])
    );

    // The SMS code is needed only the first time.
    let other = TestApp::new_client();
    let r = other
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": p.username, "password": p.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Applies `change` to a valid registration and expects `status` and `code`; afterwards the
/// account name is still free (nothing was half-written).
async fn refused(app: &TestApp, n: u32, change: impl FnOnce(&mut Value), status: u16, code: &str) {
    let p = Person::new(n);
    let mut body = app.registration(&p).await;
    change(&mut body);
    let r = app.post("/api/v1/accounts", &body).await;
    assert_eq!(code_of(r).await, (status, code.to_string()), "case {code}");
    // Nothing written: the same person registers cleanly afterwards (after the SMS minute).
    let taken = app
        .post("/api/v1/accounts", &json!({"username": p.username}))
        .await;
    assert_eq!(
        taken.status(),
        400,
        "incomplete body is a 400, not a conflict"
    );
}

#[tokio::test]
async fn every_invalid_registration_field_gets_a_stable_4xx_code() {
    let app = TestApp::spawn().await;
    let wrong_check = {
        let good = id_with_check("33010219900101021");
        let last = good.chars().last().unwrap();
        let other = if last == '1' { '2' } else { '1' };
        format!("{}{}", &good[..17], other)
    };
    refused(
        &app,
        10,
        |b| b["id_number"] = json!(wrong_check),
        422,
        "invalid_id_number_check_digit",
    )
    .await;
    refused(
        &app,
        11,
        |b| b["id_number"] = json!(id_with_check("33010219900230011")),
        422,
        "invalid_id_number_birth_date",
    )
    .await;
    refused(
        &app,
        12,
        |b| b["id_number"] = json!("3301021990"),
        422,
        "invalid_id_number",
    )
    .await;
    refused(
        &app,
        13,
        |b| b["sex"] = json!("female"),
        422,
        "id_number_sex_mismatch",
    )
    .await;
    refused(
        &app,
        14,
        |b| b["phone"] = json!("12345"),
        422,
        "invalid_phone",
    )
    .await;
    refused(
        &app,
        15,
        |b| {
            b["password"] = json!("ab1");
            b["password_confirmation"] = json!("ab1");
        },
        422,
        "password_too_short",
    )
    .await;
    refused(
        &app,
        16,
        |b| {
            b["password"] = json!("abcdefghij");
            b["password_confirmation"] = json!("abcdefghij");
        },
        422,
        "password_too_weak",
    )
    .await;
    refused(
        &app,
        17,
        |b| b["password_confirmation"] = json!("Different123"),
        422,
        "password_mismatch",
    )
    .await;
    refused(
        &app,
        18,
        |b| b["username"] = json!("1x"),
        422,
        "invalid_username",
    )
    .await;
    refused(
        &app,
        19,
        |b| b["real_name"] = json!("张"),
        422,
        "invalid_real_name",
    )
    .await;
    refused(
        &app,
        20,
        |b| b["region_code"] = json!("999999"),
        422,
        "unknown_region",
    )
    .await;
    refused(
        &app,
        21,
        |b| b["sms_code"] = json!("000000x"),
        422,
        "invalid_sms_code",
    )
    .await;
    refused(
        &app,
        22,
        |b| b["captcha"] = json!("bm90IGpzb24="),
        422,
        "invalid_captcha",
    )
    .await;
    refused(
        &app,
        23,
        |b| b["sex"] = json!("other"),
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn a_captcha_solution_and_an_sms_code_work_once() {
    let app = TestApp::spawn().await;
    let a = Person::new(30);
    let body = app.registration(&a).await;
    assert_eq!(app.post("/api/v1/accounts", &body).await.status(), 201);

    // Replayed captcha, with everything else fresh.
    let b = Person::new(31);
    let mut again = app.registration(&b).await;
    again["captcha"] = body["captcha"].clone();
    assert_eq!(
        code_of(app.post("/api/v1/accounts", &again).await).await,
        (422, "captcha_replayed".into())
    );

    // Reused SMS code: same phone as `a`, a fresh captcha, the code `a` already spent. (`b`'s
    // own code still stands, so no new one could be asked for yet.)
    let mut reuse = again.clone();
    reuse["captcha"] = json!(app.solve_captcha().await);
    reuse["phone"] = json!(a.phone);
    reuse["sms_code"] = body["sms_code"].clone();
    assert_eq!(
        code_of(app.post("/api/v1/accounts", &reuse).await).await,
        (422, "invalid_sms_code".into())
    );
}

#[tokio::test]
async fn captcha_challenges_are_limited_per_address_at_120_an_hour() {
    let app = TestApp::spawn().await;
    for i in 1..=120 {
        let r = app.get("/api/v1/captcha").await;
        assert_eq!(r.status(), 200, "challenge {i} is within the allowance");
    }
    let r = app.get("/api/v1/captcha").await;
    assert_eq!(r.status(), 429);
    let header: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    let wait = body["retry_after"].as_u64().expect("retry_after");
    assert!((1..=3600).contains(&wait), "wait {wait}");
    // HTTP clients and proxies read the same wait from the header.
    assert_eq!(header, wait);
}

#[tokio::test]
async fn an_expired_sms_code_is_refused() {
    let app = TestApp::spawn_with(|c| c.sms_code_lifetime_secs = 1).await;
    let p = Person::new(40);
    let body = app.registration(&p).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        code_of(app.post("/api/v1/accounts", &body).await).await,
        (422, "invalid_sms_code".into())
    );
}

#[tokio::test]
async fn duplicate_account_name_or_id_number_is_a_conflict() {
    let app = TestApp::spawn().await;
    let a = Person::new(50);
    assert_eq!(app.register(&a).await.status(), 201);

    let mut same_name = Person::new(51);
    same_name.username = a.username.clone();
    assert_eq!(
        code_of(app.register(&same_name).await).await,
        (409, "username_taken".into())
    );

    let mut same_id = Person::new(52);
    same_id.id_number = a.id_number.clone();
    assert_eq!(
        code_of(app.register(&same_id).await).await,
        (409, "id_number_taken".into())
    );
}

#[tokio::test]
async fn registration_says_a_name_or_id_number_is_taken_only_after_the_sms_code() {
    let app = TestApp::spawn().await;
    let a = Person::new(53);
    assert_eq!(app.register(&a).await.status(), 201);

    let free = Person::new(54);
    let mut same_name = Person::new(55);
    same_name.username = a.username.clone();
    let mut same_id = Person::new(56);
    same_id.id_number = a.id_number.clone();

    // A wrong code: the same answer whether the name and ID number are free or taken.
    let mut answers = Vec::new();
    let mut bodies = Vec::new();
    for p in [&free, &same_name, &same_id] {
        let mut body = app.registration(p).await;
        let right = body["sms_code"].as_str().unwrap().to_string();
        body["sms_code"] = json!(if right == "000000" {
            "111111"
        } else {
            "000000"
        });
        let r = app.post("/api/v1/accounts", &body).await;
        let status = r.status().as_u16();
        answers.push((status, r.json::<Value>().await.unwrap()));
        body["sms_code"] = json!(right);
        bodies.push(body);
    }
    assert_eq!(answers[0].0, 422);
    assert_eq!(answers[0].1["code"], "invalid_sms_code");
    assert_eq!(
        answers[1], answers[0],
        "a taken name tells nothing before the code"
    );
    assert_eq!(
        answers[2], answers[0],
        "a taken ID number tells nothing before the code"
    );

    // The right code: now the conflict is said, with what to do.
    let mut name_body = bodies[1].clone();
    name_body["captcha"] = json!(app.solve_captcha().await);
    let r = app.post("/api/v1/accounts", &name_body).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "username_taken");
    assert_eq!(body["field"], "username");
    assert!(body["message"].as_str().unwrap().contains("换一个账号名"));

    let mut id_body = bodies[2].clone();
    id_body["captcha"] = json!(app.solve_captcha().await);
    let r = app.post("/api/v1/accounts", &id_body).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "id_number_taken");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("直接登录") && message.contains("受理点"),
        "{message}"
    );
    // The code was spent by that answer: a second probe needs a fresh SMS.
    id_body["captcha"] = json!(app.solve_captcha().await);
    assert_eq!(
        code_of(app.post("/api/v1/accounts", &id_body).await).await,
        (422, "invalid_sms_code".into())
    );
}

#[tokio::test]
async fn sms_codes_are_limited_to_one_a_minute_per_phone() {
    let app = TestApp::spawn_with(|c| c.sms_resend_interval_secs = 60).await;
    let body = app.sms_request("13912345678", "register").await;
    assert_eq!(app.post("/api/v1/sms-codes", &body).await.status(), 200);
    let body = app.sms_request("13912345678", "register").await;
    let r = app.post("/api/v1/sms-codes", &body).await;
    let (status, code) = code_of(r).await;
    assert_eq!((status, code.as_str()), (429, "sms_too_frequent"));
    let body = app.sms_request("13912345679", "register").await;
    assert_eq!(
        app.post("/api/v1/sms-codes", &body).await.status(),
        200,
        "per phone"
    );
    let body = app.sms_request("1391234", "register").await;
    assert_eq!(
        code_of(app.post("/api/v1/sms-codes", &body).await).await,
        (422, "invalid_phone".into())
    );
}

// ---------- sign-in ----------

#[tokio::test]
async fn wrong_password_and_unknown_account_answer_alike_and_back_off() {
    let app = TestApp::spawn().await;
    let p = Person::new(60);
    app.register_and_login(&p).await;

    let wrong = app
        .post(
            "/api/v1/sessions",
            &json!({"username": p.username, "password": "Wrong12345"}),
        )
        .await;
    let wrong_status = wrong.status();
    let wrong_body: Value = wrong.json().await.unwrap();
    let unknown = app
        .post(
            "/api/v1/sessions",
            &json!({"username": "nobody_here", "password": "Wrong12345"}),
        )
        .await;
    assert_eq!(unknown.status(), wrong_status);
    assert_eq!(unknown.json::<Value>().await.unwrap(), wrong_body);
    assert_eq!(wrong_body["code"], "invalid_credentials");

    for _ in 0..5 {
        app.post(
            "/api/v1/sessions",
            &json!({"username": p.username, "password": "Wrong12345"}),
        )
        .await;
    }
    // Locked now, even with the right password; the answer says how long to wait.
    let r = app.login(&p, None).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    assert!(body["retry_after"].as_u64().unwrap() >= 1);
    // Another account is not locked.
    let q = Person::new(61);
    assert_eq!(app.register(&q).await.status(), 201);
    assert_eq!(
        code_of(app.login(&q, None).await).await.1,
        "sms_code_required"
    );
}

#[tokio::test]
async fn failures_from_one_ip_back_off_across_account_names() {
    let app = TestApp::spawn().await;
    // 20 free failures per IP, each on a different account name (so no account locks).
    for n in 0..20 {
        let r = app
            .post(
                "/api/v1/sessions",
                &json!({"username": format!("guess{n}"), "password": "Wrong12345"}),
            )
            .await;
        assert_eq!(
            code_of(r).await,
            (401, "invalid_credentials".into()),
            "attempt {n}"
        );
    }
    // The twentieth used up the address's free failures: the next one waits.
    let r = app
        .post(
            "/api/v1/sessions",
            &json!({"username": "another", "password": "Wrong12345"}),
        )
        .await;
    assert_eq!(
        code_of(r).await,
        (429, "too_many_attempts".into()),
        "the IP is locked out"
    );
}

#[tokio::test]
async fn a_new_login_ends_the_older_session_with_a_fresh_id() {
    let app = TestApp::spawn().await;
    let p = Person::new(70);
    app.register_and_login(&p).await;
    assert_eq!(app.get("/api/v1/me").await.status(), 200);

    let phone = TestApp::new_client();
    let r = phone
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": p.username, "password": p.password, "remember_me": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        cookie.contains("Max-Age="),
        "remember me keeps the session: {cookie}"
    );

    let (status, code) = code_of(app.get("/api/v1/me").await).await;
    assert_eq!(
        (status, code.as_str()),
        (401, "unauthenticated"),
        "older session ended"
    );
    assert_eq!(
        phone
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let r = phone
        .delete(app.url("/api/v1/sessions/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        phone
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn change_password_and_change_phone() {
    let app = TestApp::spawn().await;
    let mut p = Person::new(80);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;

    let r = app.put("/api/v1/me/password", &json!({"current_password": "nope12345", "new_password": "Better2026x", "new_password_confirmation": "Better2026x"})).await;
    assert_eq!(code_of(r).await, (422, "wrong_password".into()));
    let r = app.put("/api/v1/me/password", &json!({"current_password": p.password, "new_password": "Better2026x", "new_password_confirmation": "Better2026x"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        200,
        "this session continues with a fresh id"
    );
    assert_eq!(
        code_of(app.login(&p, None).await).await.1,
        "invalid_credentials"
    );
    p.password = "Better2026x".into();
    assert_eq!(app.login(&p, None).await.status(), 200);
    app.step_up(&p.phone).await;

    let new_phone = "13700001111";
    let code = app.sms_code(new_phone, "change_phone").await;
    let r = app
        .put(
            "/api/v1/me/phone",
            &json!({"password": p.password, "new_phone": new_phone, "sms_code": code}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["phone_masked"], "137****1111");
    // After a phone change the next login asks for a code again, sent to the new phone.
    let fresh = TestApp::new_client();
    let r = fresh
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": p.username, "password": p.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (401, "sms_code_required".into()));
    let code = app.last_sms_code(new_phone).await;
    let r = fresh
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": p.username, "password": p.password, "sms_code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

// ---------- passkeys ----------

async fn passkey_login(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    authenticator: &mut SoftPasskey,
) -> reqwest::Response {
    let started: Value = client
        .post(app.url("/api/v1/sessions/passkey"))
        .json(&json!({"username": username}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let credential = match authenticator.do_authentication(Url::parse(ORIGIN).unwrap(), options) {
        Ok(c) => serde_json::to_value(c).unwrap(),
        // The authenticator holds no matching credential: send a well-formed but foreign one.
        Err(_) => json!({}),
    };
    client
        .post(app.url(&format!(
            "/api/v1/sessions/passkey/{}",
            started["id"].as_str().unwrap()
        )))
        .json(&json!({"credential": credential}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn passkeys_register_list_sign_in_and_delete() {
    let app = TestApp::spawn().await;
    let p = Person::new(90);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;
    let mut authenticator = SoftPasskey::new(true);
    let key = register_passkey(&app, &app.client, &mut authenticator).await;
    assert_eq!(key["name"], "我的手机");

    let list: Value = app.get("/api/v1/passkeys").await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let device = TestApp::new_client();
    let r = passkey_login(&app, &device, &p.username, &mut authenticator).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let me: Value = device
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], p.username.as_str());

    // Another account cannot delete this passkey: it does not exist for them.
    let q = Person::new(91);
    let other = app.another_device();
    other.register_and_login(&q).await;
    other.step_up(&q.phone).await;
    let r = other
        .delete(&format!("/api/v1/passkeys/{}", key["id"].as_str().unwrap()))
        .await;
    assert_eq!(code_of(r).await, (404, "not_found".into()));

    // Deleting needs a fresh step-up, here with the passkey itself.
    let path = format!("/api/v1/passkeys/{}", key["id"].as_str().unwrap());
    let r = device.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(code_of(r).await, (403, "step_up_required".into()));
    let r = common::flow::step_up_with_passkey(&app, &device, &mut authenticator).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    let r = device
        .delete(app.url(&format!("/api/v1/passkeys/{}", key["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = passkey_login(
        &app,
        &TestApp::new_client(),
        &p.username,
        &mut authenticator,
    )
    .await;
    assert_eq!(code_of(r).await.0, 401);
}

#[tokio::test]
async fn passkey_sign_in_does_not_reveal_whether_an_account_exists() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/sessions/passkey",
            &json!({"username": "nobody_here"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let started: Value = r.json().await.unwrap();
    assert!(started["options"]["publicKey"]["challenge"].is_string());
    let r = app
        .post(
            &format!(
                "/api/v1/sessions/passkey/{}",
                started["id"].as_str().unwrap()
            ),
            &json!({"credential": {}}),
        )
        .await;
    assert_eq!(code_of(r).await, (401, "invalid_credentials".into()));
}

/// Starts a passkey sign-in for `username` and finishes it with `credential`.
async fn passkey_attempt(app: &TestApp, username: &str, credential: Value) -> (u16, Value) {
    let r = app
        .post("/api/v1/sessions/passkey", &json!({"username": username}))
        .await;
    assert_eq!(r.status(), 200, "start for {username}");
    let started: Value = r.json().await.unwrap();
    let r = app
        .post(
            &format!(
                "/api/v1/sessions/passkey/{}",
                started["id"].as_str().unwrap()
            ),
            &json!({"credential": credential}),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn passkey_sign_in_fails_alike_for_no_account_no_passkey_and_a_malformed_assertion() {
    let app = TestApp::spawn().await;
    let without = Person::new(92);
    app.register_and_login(&without).await;
    let with = Person::new(93);
    let device = app.another_device();
    device.register_and_login(&with).await;
    device.step_up(&with.phone).await;
    let mut authenticator = SoftPasskey::new(true);
    register_passkey(&device, &device.client, &mut authenticator).await;

    let cases = [
        ("nobody_here", json!({})),
        (without.username.as_str(), json!({})),
        (
            with.username.as_str(),
            json!({"id": 7, "response": "garbage"}),
        ),
    ];
    let anonymous = app.another_device();
    let mut first = Vec::new();
    for (username, credential) in &cases {
        // The account's backoff answers five failures and locks at the fifth, so each counted
        // exactly one if five are answered and the sixth attempt is locked out.
        for attempt in 1..=5 {
            let answer = passkey_attempt(&anonymous, username, credential.clone()).await;
            assert_eq!(answer.0, 401, "{username} attempt {attempt}: {}", answer.1);
            if attempt == 1 {
                first.push(answer);
            }
        }
        let r = anonymous
            .post("/api/v1/sessions/passkey", &json!({"username": username}))
            .await;
        assert_eq!(
            code_of(r).await,
            (429, "too_many_attempts".into()),
            "{username} is locked after the fifth failure"
        );
        // The same backoff as password sign-in: the account name is locked there too.
        let r = anonymous
            .post(
                "/api/v1/sessions",
                &json!({"username": username, "password": "Whatever2026"}),
            )
            .await;
        assert_eq!(code_of(r).await, (429, "too_many_attempts".into()));
    }
    assert_eq!(first[0].1["code"], "invalid_credentials");
    assert_eq!(
        first[1], first[0],
        "an account without a passkey answers alike"
    );
    assert_eq!(first[2], first[0], "a malformed assertion answers alike");
}

// ---------- roles and the directory ----------

#[tokio::test]
async fn demo_directory_is_public_and_only_administrators_edit_it() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let points: Value = app
        .get("/api/v1/service-points")
        .await
        .json()
        .await
        .unwrap();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 7);
    assert_eq!(points[0]["name"], "清波派出所受理点");
    assert_eq!(points[0]["opens_saturday"], true);
    let qingbo: Value = app
        .get("/api/v1/service-points?region=330102001")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(qingbo.as_array().unwrap().len(), 1);

    let streets: Value = app
        .get("/api/v1/regions?parent=330102")
        .await
        .json()
        .await
        .unwrap();
    assert!(streets.as_array().unwrap().len() >= 14);
    let policies: Value = app
        .get("/api/v1/articles?kind=policy")
        .await
        .json()
        .await
        .unwrap();
    assert!(!policies.as_array().unwrap().is_empty());
    assert!(
        policies
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] == "policy")
    );
    let slug = policies[0]["slug"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/articles/{slug}")).await.status(),
        200
    );

    let new_point = json!({"number": 8, "district_code": "330102", "street_code": "330102004", "police_station": "测试派出所",
        "name": "测试受理点", "scope": "测试", "address": "测试路1号", "phone": "87000000", "hours": "9:00-17:00"});
    // Anonymous: 401. Resident: 403. Administrator: 201.
    assert_eq!(
        code_of(app.post("/api/v1/service-points", &new_point).await).await,
        (401, "unauthenticated".into())
    );
    let p = Person::new(100);
    app.register_and_login(&p).await;
    assert_eq!(
        code_of(app.post("/api/v1/service-points", &new_point).await).await,
        (403, "forbidden".into())
    );

    let admin = common::flow::staff(&app, "admin", "admin-demo-2026")
        .await
        .client;
    let r = admin
        .post(app.url("/api/v1/service-points"))
        .json(&new_point)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let mut edited = new_point.clone();
    edited["hours"] = json!("8:30-17:00");
    let r = admin
        .put(app.url(&format!(
            "/api/v1/service-points/{}",
            created["id"].as_str().unwrap()
        )))
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["hours"], "8:30-17:00");
    let mut bad = new_point.clone();
    bad["name"] = json!("");
    let r = admin
        .post(app.url("/api/v1/service-points"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (422, "invalid_field".into()));

    let article =
        json!({"slug": slug, "kind": "guide", "title": "标题", "summary": "摘要", "body": "正文"});
    let r = admin
        .post(app.url("/api/v1/articles"))
        .json(&article)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (409, "slug_taken".into()));
    let r = admin
        .delete(app.url(&format!(
            "/api/v1/service-points/{}",
            created["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let clerk = common::flow::staff(&app, "clerk", "clerk-demo-2026").await;
    let me = common::flow::json_of(clerk.get("/api/v1/me").await, 200).await;
    assert_eq!(me["role"], "clerk");
    assert_eq!(me["service_points"].as_array().unwrap().len(), 1);
}

// ---------- the HTTP surface ----------

#[tokio::test]
async fn health_metrics_spec_and_docs() {
    let token = "metrics-token-0123456789";
    let app = TestApp::spawn_with(|c| {
        c.metrics_token = Some(permit_api::platform::config::Secret::new(token));
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["database"]["ok"], true);
    assert_eq!(ready["ephemeral"]["ok"], true);
    assert_eq!(ready["database"]["backend"], app.backend);
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/captcha",
        "/sms-codes",
        "/dev/sms",
        "/accounts",
        "/sessions",
        "/sessions/current",
        "/me",
        "/passkeys/registrations",
        "/passkeys/registrations/{id}",
        "/sessions/passkey",
        "/sessions/passkey/{id}",
        "/service-points",
        "/articles",
        "/articles/{id}",
    ] {
        assert!(paths.contains_key(path), "spec lacks {path}");
    }
    assert_eq!(app.get("/docs").await.status(), 200);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("permit_http_requests_total"), "{metrics}");
}

#[tokio::test]
async fn errors_are_json_with_stable_codes_and_headers_are_safe() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/no-such-thing").await;
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(code_of(r).await, (404, "not_found".into()));

    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (400, "invalid_request".into()));

    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (413, "payload_too_large".into()));

    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("origin", "https://evil.example")
        .json(&json!({"username": "a", "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (403, "csrf_rejected".into()));
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"username": "a", "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (403, "csrf_rejected".into()));
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("origin", ORIGIN)
        .json(&json!({"username": "abcd", "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(r).await,
        (401, "invalid_credentials".into()),
        "our own origin passes"
    );
}

#[tokio::test]
async fn the_development_sms_sink_exists_only_in_demo_or_development_mode() {
    // In development mode the sink shows what was sent, with its kind. Outside it permitd does
    // not start without a real provider, and with one `/dev/sms` is 404 (sms_gateways.rs).
    let app = TestApp::spawn().await;
    let body = app.sms_request("13912340000", "register").await;
    assert_eq!(app.post("/api/v1/sms-codes", &body).await.status(), 200);
    let sent = json_of(app.get("/api/v1/dev/sms?phone=13912340000").await, 200).await;
    assert_eq!(sent[0]["kind"], "register_code", "{sent}");
    let dir = tempfile::tempdir().unwrap();
    let production = permit_api::platform::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let refused = permit_api::platform::app::build_state(production)
        .await
        .err()
        .expect("no start without an SMS provider");
    assert!(
        refused.to_string().contains("PERMIT_SMS_PROVIDER"),
        "{refused}"
    );
}

/// The PWA is served from permitd (make test builds it first): the shell revalidated, client
/// routes falling back to it, hashed assets immutable, unknown API paths still JSON.
#[tokio::test]
async fn the_pwa_shell_is_served_with_a_fallback_for_client_routes() {
    let app = TestApp::spawn().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    // Vant's icon font is inlined as a data: URL.
    assert!(csp.contains("font-src 'self' data:"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline'; script")
            && !csp.contains("script-src 'self' 'unsafe-inline'")
    );
    let shell = r.text().await.unwrap();
    let r = app.get("/applications/some-client-route").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), shell);
    let asset = shell
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("the shell loads a hashed script");
    let r = app.get(asset).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let plain = r.bytes().await.unwrap();
    // Compressed at build time: brotli when accepted, gzip otherwise, identity when refused.
    for (accept, coding) in [
        ("gzip, deflate, br", Some("br")),
        ("gzip", Some("gzip")),
        ("br;q=0, gzip;q=0.5", Some("gzip")),
        ("identity", None),
    ] {
        let r = app
            .client
            .get(app.url(asset))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["vary"], "Accept-Encoding");
        assert_eq!(
            r.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            coding,
            "{accept}"
        );
        let body = r.bytes().await.unwrap();
        let decoded = match coding {
            Some("br") => {
                let mut out = Vec::new();
                brotli_decompressor::BrotliDecompress(&mut &body[..], &mut out).unwrap();
                out
            }
            Some(_) => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
                    .unwrap();
                out
            }
            None => body.to_vec(),
        };
        assert_eq!(decoded, plain, "{accept}");
        if coding.is_some() {
            assert!(body.len() < plain.len() / 2, "{accept}: {}", body.len());
        }
    }
    assert_eq!(app.get("/assets/missing-0000.js").await.status(), 404);
    let r = app.get("/manifest.webmanifest").await;
    assert_eq!(r.headers()["content-type"], "application/manifest+json");
    let r = app.get("/api/v1/no-such-thing").await;
    assert_eq!(code_of(r).await, (404, "not_found".into()));
}

#[tokio::test]
async fn every_administrator_edit_is_in_the_audit_log() {
    use common::flow::{json_of, staff};
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let region = json!({"parent_code": "330102", "name": "审计街道", "level": "street"});
    json_of(admin.put("/api/v1/regions/330102099", &region).await, 200).await;
    let point = json!({"number": 9, "district_code": "330102", "street_code": "330102099",
        "police_station": "审计派出所", "name": "审计受理点", "scope": "测试",
        "address": "测试路9号", "phone": "87000009", "hours": "9:00-17:00"});
    let created = json_of(admin.post("/api/v1/service-points", &point).await, 201).await;
    let point_id = created["id"].as_str().unwrap().to_string();
    json_of(
        admin
            .put(&format!("/api/v1/service-points/{point_id}"), &point)
            .await,
        200,
    )
    .await;
    let opening = json!({"open_weekdays": [1, 2, 3, 4, 5], "sessions": ["morning"],
        "capacity_morning": 5, "capacity_afternoon": 0});
    json_of(
        admin
            .put(
                &format!("/api/v1/service-points/{point_id}/opening"),
                &opening,
            )
            .await,
        200,
    )
    .await;
    let capacity = admin
        .put(
            &format!("/api/v1/service-points/{point_id}/capacity/2027-03-01/morning"),
            &json!({"capacity": 3}),
        )
        .await;
    assert_eq!(capacity.status(), 204);
    let year = json!({"days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]});
    assert_eq!(
        admin.put("/api/v1/calendar/2027", &year).await.status(),
        204
    );
    let article = json!({"slug": "audit-guide", "kind": "guide", "title": "标题",
        "summary": "摘要", "body": "正文"});
    let written = json_of(admin.post("/api/v1/articles", &article).await, 201).await;
    let article_id = written["id"].as_str().unwrap().to_string();
    json_of(
        admin
            .put(&format!("/api/v1/articles/{article_id}"), &article)
            .await,
        200,
    )
    .await;
    for path in [
        format!("/api/v1/articles/{article_id}"),
        format!("/api/v1/service-points/{point_id}"),
    ] {
        assert_eq!(admin.delete(&path).await.status(), 204, "{path}");
    }

    let log = json_of(admin.get("/api/v1/staff/audit?limit=200").await, 200).await;
    let entries: Vec<(String, String, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (text("action"), text("object_type"), text("object_id"))
        })
        .collect();
    let expected = [
        ("put_region", "region", "330102099"),
        ("create_service_point", "service_point", point_id.as_str()),
        ("update_service_point", "service_point", point_id.as_str()),
        ("put_opening", "service_point", point_id.as_str()),
        ("put_capacity", "service_point", point_id.as_str()),
        ("put_calendar_year", "calendar", "2027"),
        ("create_article", "article", article_id.as_str()),
        ("update_article", "article", article_id.as_str()),
        ("delete_article", "article", article_id.as_str()),
        ("delete_service_point", "service_point", point_id.as_str()),
    ];
    for (action, object_type, object_id) in expected {
        assert!(
            entries.contains(&(action.into(), object_type.into(), object_id.into())),
            "{action} {object_type} {object_id} in {entries:?}"
        );
    }
}
