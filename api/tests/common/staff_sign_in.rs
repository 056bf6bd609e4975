//! A clerk's or administrator's sign-in as the PWA does it, with a software passkey: the
//! password, then the passkey assertion, or at the first sign-in the enrolment code and a new
//! passkey. Shared by the API tests (common/flow.rs) and the fuzz's session maker
//! (examples/staff_session.rs).

use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

/// How a staff sign-in ended: the final answer (200 with the session cookie set in `client`'s
/// jar, or the first refusal met on the way).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    origin: &str,
    username: &str,
    password: &str,
    enrolment_code: &str,
    passkey: &mut SoftPasskey,
) -> reqwest::Response {
    let api = |path: &str| format!("{base}/api/v1{path}");
    let origin_url = url::Url::parse(origin).expect("origin");
    let first = client
        .post(api("/sessions"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sign-in");
    if first.status() != 202 {
        return first;
    }
    let next: Value = first.json().await.expect("second factor");
    let ticket = next["ticket"].as_str().expect("ticket").to_string();
    let credential = if next["enrolment_required"] == true {
        let r = client
            .post(api("/sessions/enrolment"))
            .json(&json!({"ticket": ticket, "enrolment_code": enrolment_code}))
            .send()
            .await
            .expect("enrolment");
        if r.status() != 200 {
            return r;
        }
        let options: Value = r.json().await.expect("creation options");
        let options = serde_json::from_value(options["options"].clone()).expect("options");
        let created = passkey
            .do_registration(origin_url, options)
            .expect("software passkey registers");
        serde_json::to_value(created).expect("credential")
    } else {
        let options = serde_json::from_value(next["options"].clone()).expect("options");
        match passkey.do_authentication(origin_url, options) {
            Ok(c) => serde_json::to_value(c).expect("credential"),
            // Not this passkey's account: a well-formed answer the server refuses.
            Err(_) => json!({}),
        }
    };
    client
        .post(api("/sessions/second-factor"))
        .json(&json!({"ticket": ticket, "credential": credential}))
        .send()
        .await
        .expect("second factor")
}
