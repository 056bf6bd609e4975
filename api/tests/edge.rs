//! The HTTP edge: who the client is behind a proxy, strict JSON text, `/metrics` access, and
//! bad input that must never become a 5xx.

mod common;

use common::flow::{json_of, place, staff, step1};
use common::{Person, TestApp, code_of};
use serde_json::{Value, json};

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

/// Spends the 120 captcha challenges an address has in an hour, one client address per
/// challenge as `forwarded_for` names it.
async fn spend_captcha_allowance(app: &TestApp, forwarded_for: impl Fn(u32) -> String) {
    for i in 1..=120 {
        assert_eq!(
            challenge_as(app, &forwarded_for(i)).await,
            200,
            "challenge {i}"
        );
    }
}

/// A permitd behind one trusted proxy, 127.0.0.1.
async fn behind_a_proxy() -> TestApp {
    TestApp::spawn_with(|c| {
        c.trusted_proxies =
            permit_api::platform::proxy::TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await
}

#[tokio::test]
async fn a_forwarding_header_from_an_untrusted_peer_is_ignored() {
    // No trusted proxies (the default): every made-up client address counts against the peer.
    let app = TestApp::spawn().await;
    spend_captcha_allowance(&app, |i| format!("198.51.100.{i}")).await;
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
    let app = behind_a_proxy().await;
    // The client made up "6.6.6.x"; the proxy appended the real address to the right.
    spend_captcha_allowance(&app, |i| format!("6.6.6.{i}, 198.51.100.1")).await;
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

#[tokio::test]
async fn an_ipv6_client_has_one_allowance_for_its_whole_64() {
    let app = behind_a_proxy().await;
    // A client picking a new address of its /64 for each request still spends one allowance.
    spend_captcha_allowance(&app, |i| format!("2001:db8:5:6::{i:x}")).await;
    assert_eq!(
        challenge_as(&app, "2001:db8:5:6:ffff::1").await,
        429,
        "the same /64 has used its allowance"
    );
    assert_eq!(
        challenge_as(&app, "2001:db8:5:7::1").await,
        200,
        "the next /64 is another client"
    );
}

// ---------- strict JSON text ----------

async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn sms_sent_to(app: &TestApp, phone: &str) -> usize {
    let sent: Value = app
        .get(&format!("/api/v1/dev/sms?phone={phone}"))
        .await
        .json()
        .await
        .unwrap();
    sent.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_json_number_is_not_a_phone_and_no_sms_is_sent() {
    let app = TestApp::spawn().await;
    for phone in [json!(13812345678u64), json!(-13800000000i64), json!(true)] {
        let (status, body) = error_of(
            app.post(
                "/api/v1/sms-codes",
                &json!({"phone": phone, "purpose": "register"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{phone}: {body}");
        assert_eq!(body["code"], "invalid_type", "{body}");
        assert_eq!(body["field"], "phone", "{body}");
    }
    assert_eq!(sms_sent_to(&app, "13812345678").await, 0);
    // The same digits as text, with a minus in front, are no phone number either.
    let (status, body) = error_of(
        app.post(
            "/api/v1/sms-codes",
            &json!({"phone": "-13800000000", "purpose": "register"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("phone")),
        "{body}"
    );
    assert_eq!(sms_sent_to(&app, "13800000000").await, 0);
    // A control character in a query parameter names the parameter.
    let (status, body) = error_of(app.get("/api/v1/dev/sms?phone=138%001234").await).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("control_character"), Some("phone"))
    );
}

#[tokio::test]
async fn a_control_character_in_a_name_or_an_address_is_refused_with_its_field() {
    // On PostgreSQL a NUL used to reach the database and fail with SQLSTATE 22021 (a 503).
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(71)).await;
    for (field, value) in [
        ("address_detail", "四宜路61号\u{0}2幢"),
        ("address_detail", "四宜路\n61号"),
        ("applicant_name", "张\u{1b}[31m三"),
        ("employer", "杭州\u{7f}公司"),
    ] {
        let mut body = step1(&place);
        body[field] = json!(value);
        let (status, err) = error_of(app.post("/api/v1/applications", &body).await).await;
        assert_eq!(status, 422, "{field}: {err}");
        assert_eq!(err["code"], "control_character", "{err}");
        assert_eq!(err["field"], field, "{err}");
    }
    let mut body = step1(&place);
    body["address_detail"] = json!(61);
    let (status, err) = error_of(app.post("/api/v1/applications", &body).await).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("invalid_type")),
        "{err}"
    );
    // The same body without them is taken.
    json_of(app.post("/api/v1/applications", &step1(&place)).await, 201).await;

    // A registration is refused before any captcha or SMS code is looked at.
    let mut registration = json!({
        "username": "li71", "password": "Li2026password", "password_confirmation": "Li2026password",
        "real_name": "李\u{0}四", "id_number": "330102199001017711", "sex": "male",
        "phone": "13900000071", "sms_code": "000000", "region_code": "330102001", "captcha": "x",
        "privacy_notice_version": permit_api::privacy::model::NOTICE_VERSION,
    });
    let (status, err) = error_of(app.post("/api/v1/accounts", &registration).await).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (422, Some("real_name")),
        "{err}"
    );
    registration["real_name"] = json!("李四");
    registration["sms_code"] = json!(123456);
    let (status, err) = error_of(app.post("/api/v1/accounts", &registration).await).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (422, Some("sms_code")),
        "{err}"
    );
}

#[tokio::test]
async fn only_a_multi_line_field_takes_line_breaks() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let article = json!({"slug": "edge-lines", "kind": "guide", "title": "标题",
        "summary": "摘要", "body": "第一段\n\n\t第二段"});
    let created = json_of(admin.post("/api/v1/articles", &article).await, 201).await;
    assert_eq!(created["body"], "第一段\n\n\t第二段");
    let mut titled = article.clone();
    titled["slug"] = json!("edge-lines-2");
    titled["title"] = json!("标题\n第二行");
    let (status, err) = error_of(admin.post("/api/v1/articles", &titled).await).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (422, Some("title")),
        "{err}"
    );
    titled["title"] = json!("标题");
    titled["body"] = json!("正文\u{0}");
    let (status, err) = error_of(admin.post("/api/v1/articles", &titled).await).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (422, Some("body")),
        "{err}"
    );
}

// ---------- deleting what is still in use ----------

#[tokio::test]
async fn a_service_point_still_in_use_cannot_be_deleted() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(72)).await;
    json_of(app.post("/api/v1/applications", &step1(&place)).await, 201).await;
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let (status, err) = error_of(
        admin
            .delete(&format!("/api/v1/service-points/{}", place.qingbo))
            .await,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("in_use")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("不能删除"),
        "{err}"
    );
    // Nothing was deleted: the point is still listed, its clerk still serves it.
    let point = app
        .get(&format!("/api/v1/service-points/{}", place.qingbo))
        .await;
    assert_eq!(point.status(), 200);
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let me = json_of(clerk.get("/api/v1/me").await, 200).await;
    assert_eq!(me["service_points"][0], place.qingbo.as_str());
    // A point nobody uses is deleted.
    assert_eq!(
        admin
            .delete(&format!("/api/v1/service-points/{}", place.hubin))
            .await
            .status(),
        204
    );
}

// ---------- a revoked permit ----------

#[tokio::test]
async fn a_revoked_permit_shows_no_qr_and_prints_no_slip() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let me = Person::new(73);
    app.register_and_login(&me).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let id = common::flow::submitted(&app, &place).await;
    let permit = common::flow::issue_permit(&app, &clerk, &id, &place.qingbo).await;
    let pid = permit["id"].as_str().unwrap().to_string();
    common::flow::into_wallet(&app, &me.phone, &pid).await;
    let qr = |presentation: &str| {
        format!("/api/v1/permits/{pid}/qr?presentation={presentation}&format=text")
    };
    assert_eq!(app.get(&qr("full")).await.status(), 200);
    json_of(
        clerk
            .post(
                &format!("/api/v1/staff/permits/{pid}/revoke"),
                &json!({"reason": "cancellation", "note": "本人申请注销\n已核对"}),
            )
            .await,
        200,
    )
    .await;
    for presentation in ["full", "basic"] {
        assert_eq!(
            code_of(app.get(&qr(presentation)).await).await,
            (409, "already_revoked".into()),
            "{presentation}"
        );
    }
    assert_eq!(
        code_of(app.get(&format!("/api/v1/permits/{pid}/slip.pdf")).await).await,
        (409, "already_revoked".into())
    );
}

// ---------- /metrics ----------

const METRICS_TOKEN: &str = "metrics-token-for-tests";

async fn metrics_status(app: &TestApp, base: &str, token: Option<&str>) -> u16 {
    let mut req = app.client.get(format!("{base}/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn metrics_are_not_public_by_default() {
    let app = TestApp::spawn().await;
    assert_eq!(metrics_status(&app, &app.address, None).await, 404);
    assert_eq!(
        metrics_status(&app, &app.address, Some(METRICS_TOKEN)).await,
        404
    );
}

#[tokio::test]
async fn metrics_on_the_main_listener_need_the_token() {
    let app = TestApp::spawn_with(|c| {
        c.metrics_token = Some(permit_api::platform::config::Secret::new(METRICS_TOKEN));
    })
    .await;
    assert_eq!(metrics_status(&app, &app.address, None).await, 401);
    assert_eq!(
        metrics_status(&app, &app.address, Some("metrics-token-for-test")).await,
        401
    );
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("permit_http_requests_total")
    );
}

#[tokio::test]
async fn a_separate_metrics_listener_takes_metrics_off_the_main_one() {
    use poem::listener::{Acceptor, Listener, TcpListener};
    let app = TestApp::spawn_with(|c| {
        c.metrics_listen = Some("127.0.0.1:9".parse().unwrap());
        c.metrics_token = Some(permit_api::platform::config::Secret::new(METRICS_TOKEN));
    })
    .await;
    assert_eq!(
        metrics_status(&app, &app.address, Some(METRICS_TOKEN)).await,
        404
    );
    // The metrics listener, as `serve` starts it, on a port of its own.
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    let routes = permit_api::platform::app::metrics_routes(app.state.clone());
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(routes));
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(metrics_status(&app, &base, None).await, 401);
    assert_eq!(metrics_status(&app, &base, Some(METRICS_TOKEN)).await, 200);
    let other = app
        .client
        .get(format!("{base}/api/v1/captcha"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
}
