//! Guessing paths under concurrency: passwords, SMS codes and current-password checks are
//! counted before they are checked, so parallel guesses cannot get past their limits.

mod common;

use common::{Person, TestApp, code_of};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// Fires `n` sign-ins at once and counts the answers by code.
async fn parallel_sign_ins(app: &TestApp, bodies: Vec<Value>) -> Vec<(u16, String)> {
    join_all(
        bodies
            .iter()
            .map(|body| async move { code_of(app.post("/api/v1/sessions", body).await).await }),
    )
    .await
}

fn count(answers: &[(u16, String)], status: u16, code: &str) -> usize {
    answers
        .iter()
        .filter(|(s, c)| *s == status && c == code)
        .count()
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_get_five_password_checks() {
    let app = TestApp::spawn().await;
    let p = Person::new(1);
    assert_eq!(app.register(&p).await.status(), 201);
    let wrong = json!({"username": p.username, "password": "Wrong2026pw"});
    let answers = parallel_sign_ins(&app, vec![wrong; 50]).await;
    // Only the account's five free failures were checked; the rest were refused unchecked.
    assert_eq!(
        count(&answers, 401, "invalid_credentials"),
        5,
        "{answers:?}"
    );
    assert_eq!(count(&answers, 429, "too_many_attempts"), 45, "{answers:?}");
    // The right password waits too.
    assert_eq!(
        code_of(app.login(&p, None).await).await,
        (429, "too_many_attempts".into())
    );
    // The refusals did not use up the address: another account still gets its answer.
    let q = Person::new(2);
    assert_eq!(app.register(&q).await.status(), 201);
    assert_eq!(
        code_of(app.login(&q, None).await).await,
        (401, "sms_code_required".into())
    );
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_from_one_address_get_twenty_checks() {
    let app = TestApp::spawn().await;
    let bodies = (0..50)
        .map(|n| json!({"username": format!("guess{n}"), "password": "Wrong2026pw"}))
        .collect();
    let answers = parallel_sign_ins(&app, bodies).await;
    assert_eq!(
        count(&answers, 401, "invalid_credentials"),
        20,
        "{answers:?}"
    );
    assert_eq!(count(&answers, 429, "too_many_attempts"), 30, "{answers:?}");
}

/// Every digit moved by one: surely not the code.
fn wrong_code(code: &str) -> String {
    code.chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect()
}

#[tokio::test]
async fn parallel_wrong_current_passwords_are_locked_out_like_sign_in() {
    let app = TestApp::spawn().await;
    let p = Person::new(3);
    app.register_and_login(&p).await;
    // Both forms need a fresh step-up first; the guesses are counted after it.
    app.step_up(&p.phone).await;
    let wrong = json!({
        "current_password": "Wrong2026pw",
        "new_password": "Newer2026pw",
        "new_password_confirmation": "Newer2026pw",
    });
    let answers: Vec<(u16, String)> = join_all(
        (0..50).map(|_| async { code_of(app.put("/api/v1/me/password", &wrong).await).await }),
    )
    .await;
    assert_eq!(count(&answers, 422, "wrong_password"), 5, "{answers:?}");
    assert_eq!(count(&answers, 429, "too_many_attempts"), 45, "{answers:?}");
    // The right password waits too.
    let right = json!({
        "current_password": p.password,
        "new_password": "Newer2026pw",
        "new_password_confirmation": "Newer2026pw",
    });
    assert_eq!(
        code_of(app.put("/api/v1/me/password", &right).await).await,
        (429, "too_many_attempts".into())
    );
}

#[tokio::test]
async fn wrong_passwords_and_codes_on_a_phone_change_count_together() {
    let app = TestApp::spawn().await;
    let p = Person::new(4);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;
    let new_phone = "13900000004";
    let code = app.sms_code(new_phone, "change_phone").await;
    for _ in 0..3 {
        let r = app
            .put(
                "/api/v1/me/phone",
                &json!({"password": "Wrong2026pw", "new_phone": new_phone, "sms_code": code}),
            )
            .await;
        assert_eq!(code_of(r).await, (422, "wrong_password".into()));
    }
    for _ in 0..2 {
        let r = app
            .put(
                "/api/v1/me/phone",
                &json!({"password": p.password, "new_phone": new_phone, "sms_code": wrong_code(&code)}),
            )
            .await;
        assert_eq!(code_of(r).await, (422, "invalid_sms_code".into()));
    }
    // Five wrong secrets: even the right password and code now wait.
    let r = app
        .put(
            "/api/v1/me/phone",
            &json!({"password": p.password, "new_phone": new_phone, "sms_code": code}),
        )
        .await;
    assert_eq!(code_of(r).await, (429, "too_many_attempts".into()));
}

#[tokio::test]
async fn a_right_current_password_clears_the_count() {
    let app = TestApp::spawn().await;
    let p = Person::new(5);
    app.register_and_login(&p).await;
    app.step_up(&p.phone).await;
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new, "new_password_confirmation": new});
    for _ in 0..4 {
        let r = app
            .put("/api/v1/me/password", &change("Wrong2026pw", "Newer2026pw"))
            .await;
        assert_eq!(code_of(r).await.1, "wrong_password");
    }
    let r = app
        .put("/api/v1/me/password", &change(&p.password, "Newer2026pw"))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // The change starts a new session, which steps up afresh for the next change.
    app.step_up(&p.phone).await;
    // Counting starts again: four more wrong ones are still answered as wrong.
    for _ in 0..4 {
        let r = app
            .put(
                "/api/v1/me/password",
                &change("Wrong2026pw", "Newest2026pw"),
            )
            .await;
        assert_eq!(code_of(r).await.1, "wrong_password");
    }
}

/// With one password hasher and no wait, a flood of sign-ins is partly told to come back
/// (503 `busy` with Retry-After), never a 500, and the rest get their ordinary answer.
#[tokio::test]
async fn a_flood_of_sign_ins_past_the_hashers_answers_busy_with_retry_after() {
    let app = TestApp::spawn_with(|c| {
        c.password_hash_concurrency = 1;
        c.password_hash_wait_ms = 0;
    })
    .await;
    let answers = join_all((0..30).map(|n| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/api/v1/sessions",
                    &json!({"username": format!("flood{n}"), "password": "Wrong2026pw"}),
                )
                .await;
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let (status, code) = code_of(r).await;
            (status, code, retry_after)
        }
    }))
    .await;
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(
        busy.iter()
            .all(|(_, code, wait)| code == "busy" && wait.is_some_and(|w| w >= 1)),
        "{answers:?}"
    );
    let ordinary = answers
        .iter()
        .filter(|(s, c, _)| {
            (*s == 401 && c == "invalid_credentials") || (*s == 429 && c == "too_many_attempts")
        })
        .count();
    assert!(ordinary >= 1, "{answers:?}");
    assert_eq!(busy.len() + ordinary, answers.len(), "{answers:?}");
    // Busy answers checked nothing, so they did not use up the address's free failures.
    let checked = answers.iter().filter(|a| a.0 == 401).count();
    let r = app
        .post(
            "/api/v1/sessions",
            &json!({"username": "after_flood", "password": "Wrong2026pw"}),
        )
        .await;
    let expected = if checked < 20 { 401 } else { 429 };
    assert_eq!(r.status(), expected, "{answers:?}");
}

#[tokio::test]
async fn an_sms_code_needs_a_solved_captcha_unless_a_session_asks_for_its_own_use() {
    let app = TestApp::spawn().await;
    let phone = "13912300001";
    let send = |body: Value| {
        let app = &app;
        async move { code_of(app.post("/api/v1/sms-codes", &body).await).await }
    };
    // Signed out, without a captcha (missing or empty): refused, nothing sent.
    assert_eq!(
        send(json!({"phone": phone, "purpose": "register"})).await,
        (422, "captcha_required".into())
    );
    assert_eq!(
        send(json!({"phone": phone, "purpose": "register", "captcha": " "})).await,
        (422, "captcha_required".into())
    );
    assert_eq!(
        send(json!({"phone": phone, "purpose": "register", "captcha": "bm90IGEgc29sdXRpb24="}))
            .await,
        (422, "invalid_captcha".into())
    );
    let sink: Value = app
        .get(&format!("/api/v1/dev/sms?phone={phone}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sink.as_array().map(Vec::len), Some(0), "nothing was sent");
    // With a solved captcha: sent; the same solution does not send a second code.
    let captcha = app.solve_captcha().await;
    let with = json!({"phone": phone, "purpose": "register", "captcha": captcha});
    assert_eq!(send(with.clone()).await.0, 200);
    assert_eq!(send(with).await, (422, "captcha_replayed".into()));
    // Signed in: no captcha for the codes that serve the account itself, a new phone's and
    // a step-up code to its own phone.
    let p = Person::new(6);
    app.register_and_login(&p).await;
    assert_eq!(
        send(json!({"phone": "13912300002", "purpose": "change_phone"}))
            .await
            .0,
        200
    );
    assert_eq!(
        send(json!({"phone": p.phone, "purpose": "step_up"}))
            .await
            .0,
        200
    );
    // A session is no way to send codes to strangers without a captcha: a step-up code goes
    // to the account's own phone only, and registration and sign-in codes cost a captcha.
    assert_eq!(
        send(json!({"phone": "13912300003", "purpose": "step_up"})).await,
        (422, "not_own_phone".into())
    );
    assert_eq!(
        send(json!({"phone": "13912300003", "purpose": "register"})).await,
        (422, "captcha_required".into())
    );
    let sink: Value = app
        .get("/api/v1/dev/sms?phone=13912300003")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sink.as_array().map(Vec::len), Some(0), "nothing was sent");
}
