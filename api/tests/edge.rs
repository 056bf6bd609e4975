//! The HTTP edge: who the client is behind a proxy, strict JSON text, `/metrics` access, and
//! bad input that must never become a 5xx.

mod common;

use common::{TestApp, code_of};

/// One captcha challenge as a client behind the proxy at `x_forwarded_for`.
async fn challenge_as(app: &TestApp, x_forwarded_for: &str) -> u16 {
    app.client
        .get(app.url("/api/v1/captcha"))
        .header("X-Forwarded-For", x_forwarded_for)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_forwarding_header_from_an_untrusted_peer_is_ignored() {
    // No trusted proxies (the default): every made-up client address counts against the peer.
    let app = TestApp::spawn().await;
    for i in 1..=120 {
        assert_eq!(
            challenge_as(&app, &format!("198.51.100.{i}")).await,
            200,
            "challenge {i}"
        );
    }
    let r = app
        .client
        .get(app.url("/api/v1/captcha"))
        .header("X-Forwarded-For", "203.0.113.200")
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (429, "rate_limited".into()));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies =
            permit_api::platform::proxy::TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    // The client made up "6.6.6.6"; the proxy appended the real address to the right.
    for i in 1..=120 {
        assert_eq!(
            challenge_as(&app, &format!("6.6.6.{i}, 198.51.100.1")).await,
            200,
            "{i}"
        );
    }
    assert_eq!(
        challenge_as(&app, "198.51.100.1").await,
        429,
        "client A has used its allowance"
    );
    assert_eq!(
        challenge_as(&app, "6.6.6.6, 198.51.100.2").await,
        200,
        "client B has its own"
    );
    // Without the header, the proxy itself is the client, with an allowance of its own.
    assert_eq!(app.get("/api/v1/captcha").await.status(), 200);
}
