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
