//! Real SMS delivery: the Alibaba Cloud and Tencent Cloud adapters against a local server that
//! checks requests as the providers do (it recomputes the signature from what it received,
//! with its own code) and answers as they do: success with a message id, throttling, a bad
//! template, or nothing in time. Then the outbox's handling of those answers, the SMS codes'
//! `503 sms_unavailable`, the refusal to start without a provider outside demo and
//! development mode, and the rule that a code is sent only when the last one is spent.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use common::flow::json_of;
use common::{Person, TestApp, code_of};
use hmac::{Hmac, Mac};
use permit_api::notifications::model::NewNotification;
use permit_api::notifications::service as notifications;
use permit_api::notifications::sms::{SMS_KINDS, SmsMessage, gateway};
use permit_api::platform::config::{Config, Secret, SmsProvider, SmsTemplates};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Request, Response, Route, handler};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEY_ID: &str = "LTAI-test-key-id";
const SECRET: &str = "test-secret-never-logged";
const SIGN_NAME: &str = "居住证服务平台";
const APP_ID: &str = "1400000001";

/// How the fake provider answers the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Success,
    Throttled,
    BadTemplate,
    /// Answers only after the client's timeout.
    Late,
}

/// What the fake provider took from a request whose signature and headers were right.
#[derive(Clone, Debug)]
struct Received {
    phone: String,
    sign_name: String,
    template: String,
    /// Alibaba: the JSON object's pairs; Tencent: the array's values, named by position.
    params: Vec<(String, String)>,
}

#[derive(Default)]
struct Fake {
    reply: Option<Reply>,
    received: Vec<Received>,
    /// Requests refused for a wrong signature or header, with why.
    refused: Vec<String>,
    sent: u32,
}

#[derive(Clone)]
struct FakeProvider {
    url: String,
    state: Arc<Mutex<Fake>>,
}

impl FakeProvider {
    async fn start() -> FakeProvider {
        let state = Arc::new(Mutex::new(Fake::default()));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let port = acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("socket address")
            .port();
        let routes = Route::new().at("/", fake_provider).data(state.clone());
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(routes));
        FakeProvider {
            url: format!("http://127.0.0.1:{port}/"),
            state,
        }
    }
    fn reply(&self, reply: Reply) {
        self.state.lock().unwrap().reply = Some(reply);
    }
    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
    fn refused(&self) -> Vec<String> {
        self.state.lock().unwrap().refused.clone()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hmac(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn header<'a>(req: &'a Request, name: &str) -> &'a str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// RFC 3986 encoding, written again here so the check does not share the adapter's code.
fn rfc3986(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Alibaba's V3 check: the canonical request rebuilt from the request as received.
fn check_aliyun(req: &Request, body: &[u8]) -> Result<Received, String> {
    let auth = header(req, "authorization");
    let rest = auth.strip_prefix("ACS3-HMAC-SHA256 ").ok_or("algorithm")?;
    let fields: BTreeMap<&str, &str> = rest
        .split(',')
        .filter_map(|f| f.trim().split_once('='))
        .collect();
    if fields.get("Credential") != Some(&KEY_ID) {
        return Err("credential".into());
    }
    let signed = fields.get("SignedHeaders").ok_or("signed headers")?;
    for needed in [
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ] {
        if !signed.split(';').any(|h| h == needed) {
            return Err(format!("{needed} not signed"));
        }
    }
    if header(req, "x-acs-action") != "SendSms" || header(req, "x-acs-version") != "2017-05-25" {
        return Err("action or version".into());
    }
    if header(req, "x-acs-content-sha256") != sha256_hex(body) {
        return Err("body hash".into());
    }
    let date = header(req, "x-acs-date");
    let when = chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|_| format!("date {date}"))?;
    if (Utc::now().naive_utc() - when).num_minutes().abs() > 15 {
        return Err("stale date".into());
    }
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let params: BTreeMap<String, String> = pairs.iter().cloned().collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&");
    let headers: String = signed
        .split(';')
        .map(|h| format!("{h}:{}\n", header(req, h).trim()))
        .collect();
    let canonical = format!(
        "{}\n{}\n{query}\n{headers}\n{signed}\n{}",
        req.method(),
        req.uri().path(),
        sha256_hex(body)
    );
    let expected = hex::encode(hmac(
        SECRET.as_bytes(),
        &format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes())),
    ));
    if fields.get("Signature") != Some(&expected.as_str()) {
        return Err("signature".into());
    }
    let template_params: serde_json::Map<String, Value> =
        serde_json::from_str(params.get("TemplateParam").ok_or("TemplateParam")?)
            .map_err(|_| "TemplateParam is not JSON")?;
    Ok(Received {
        phone: params.get("PhoneNumbers").cloned().unwrap_or_default(),
        sign_name: params.get("SignName").cloned().unwrap_or_default(),
        template: params.get("TemplateCode").cloned().unwrap_or_default(),
        params: template_params
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
            .collect(),
    })
}

/// Tencent's TC3 check, likewise.
fn check_tencent(req: &Request, body: &[u8]) -> Result<Received, String> {
    if header(req, "content-type") != "application/json; charset=utf-8" {
        return Err("content type".into());
    }
    if header(req, "x-tc-action") != "SendSms"
        || header(req, "x-tc-version") != "2021-01-11"
        || header(req, "x-tc-region") != "ap-shanghai"
    {
        return Err("action, version or region".into());
    }
    let timestamp: i64 = header(req, "x-tc-timestamp")
        .parse()
        .map_err(|_| "timestamp")?;
    if (Utc::now().timestamp() - timestamp).abs() > 300 {
        return Err("stale timestamp".into());
    }
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let auth = header(req, "authorization");
    let rest = auth.strip_prefix("TC3-HMAC-SHA256 ").ok_or("algorithm")?;
    let fields: BTreeMap<&str, &str> = rest.split(", ").filter_map(|f| f.split_once('=')).collect();
    let scope = format!("{date}/sms/tc3_request");
    if fields.get("Credential") != Some(&format!("{KEY_ID}/{scope}").as_str()) {
        return Err("credential".into());
    }
    let signed = fields.get("SignedHeaders").ok_or("signed headers")?;
    for needed in ["content-type", "host"] {
        if !signed.split(';').any(|h| h == needed) {
            return Err(format!("{needed} not signed"));
        }
    }
    let headers: String = signed
        .split(';')
        .map(|h| format!("{h}:{}\n", header(req, h).trim().to_ascii_lowercase()))
        .collect();
    let canonical = format!("POST\n/\n\n{headers}\n{signed}\n{}", sha256_hex(body));
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = hmac(
        &hmac(&hmac(format!("TC3{SECRET}").as_bytes(), &date), "sms"),
        "tc3_request",
    );
    if fields.get("Signature") != Some(&hex::encode(hmac(&key, &to_sign)).as_str()) {
        return Err("signature".into());
    }
    let body: Value = serde_json::from_slice(body).map_err(|_| "body is not JSON")?;
    if body["SmsSdkAppId"] != APP_ID {
        return Err("app id".into());
    }
    Ok(Received {
        phone: body["PhoneNumberSet"][0]
            .as_str()
            .unwrap_or_default()
            .into(),
        sign_name: body["SignName"].as_str().unwrap_or_default().into(),
        template: body["TemplateId"].as_str().unwrap_or_default().into(),
        params: body["TemplateParamSet"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, v)| ((i + 1).to_string(), v.as_str().unwrap_or_default().into()))
            .collect(),
    })
}

#[handler]
async fn fake_provider(req: &Request, body: Vec<u8>, state: Data<&Arc<Mutex<Fake>>>) -> Response {
    let aliyun = req.headers().contains_key("x-acs-action");
    let checked = if aliyun {
        check_aliyun(req, &body)
    } else {
        check_tencent(req, &body)
    };
    let received = match checked {
        Ok(r) => r,
        Err(why) => {
            state.lock().unwrap().refused.push(why);
            let body = if aliyun {
                json!({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."})
            } else {
                json!({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "signature"}, "RequestId": "r"}})
            };
            return poem::web::Json(body)
                .with_status(poem::http::StatusCode::BAD_REQUEST)
                .into_response();
        }
    };
    let (reply, serial) = {
        let mut s = state.lock().unwrap();
        s.received.push(received.clone());
        s.sent += 1;
        (s.reply.unwrap_or(Reply::Success), s.sent)
    };
    if reply == Reply::Late {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    let body = match (aliyun, reply) {
        (true, Reply::Success | Reply::Late) => {
            json!({"Code": "OK", "Message": "OK", "BizId": format!("900619746936498{serial}^0"), "RequestId": "F655A8D5"})
        }
        (true, Reply::Throttled) => {
            json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": "F655A8D6"})
        }
        (true, Reply::BadTemplate) => {
            json!({"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板", "RequestId": "F655A8D7"})
        }
        (false, Reply::Success | Reply::Late) => json!({"Response": {
            "SendStatusSet": [{"SerialNo": format!("5000:10457106691570536578{serial}"),
                "PhoneNumber": received.phone, "Fee": 1, "SessionContext": "",
                "Code": "Ok", "Message": "send success", "IsoCode": "CN"}],
            "RequestId": "a0aabda6"}}),
        (false, Reply::Throttled) => json!({"Response": {
            "SendStatusSet": [{"SerialNo": "", "PhoneNumber": received.phone, "Fee": 0,
                "SessionContext": "", "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                "Message": "the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit",
                "IsoCode": "CN"}],
            "RequestId": "a0aabda7"}}),
        (false, Reply::BadTemplate) => json!({"Response": {
            "Error": {"Code": "FailedOperation.TemplateIncorrectOrUnapproved",
                "Message": "template is not approved or request content does not match the approved template content"},
            "RequestId": "a0aabda8"}}),
    };
    poem::web::Json(body).into_response()
}

/// Template ids: `T-<kind>` for Alibaba, a number per kind for Tencent (whose ids are numbers).
fn templates(provider: SmsProvider) -> SmsTemplates {
    SmsTemplates(
        SMS_KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let id = match provider {
                    SmsProvider::Tencent => (1_000_000 + i).to_string(),
                    _ => format!("T-{k}"),
                };
                (k.to_string(), id)
            })
            .collect(),
    )
}

fn template_of(provider: SmsProvider, kind: &str) -> String {
    templates(provider).0[kind].clone()
}

/// A production configuration (no demo, no development mode) with the provider pointed at the
/// fake.
fn with_provider(config: &mut Config, provider: SmsProvider, fake: &FakeProvider) {
    config.dev = false;
    config.demo = false;
    config.sms_provider = Some(provider);
    config.sms_access_key_id = Some(KEY_ID.into());
    config.sms_access_key_secret = Some(Secret::new(SECRET));
    config.sms_sign_name = Some(SIGN_NAME.into());
    config.sms_sdk_app_id = Some(APP_ID.into());
    config.sms_region = "ap-shanghai".into();
    config.sms_endpoint = Some(fake.url.clone());
    config.sms_templates = templates(provider);
    // The late answer comes after 5 s; waiting a fifth of that is plenty on a loaded machine.
    config.sms_timeout_ms = 1000;
}

fn review_passed() -> SmsMessage {
    SmsMessage {
        kind: "review_passed".into(),
        params: vec![
            ("name".into(), "张三".into()),
            ("number".into(), "SQ20261203000001".into()),
        ],
        text: "【居住证】张三，您的居住证申请（编号SQ20261203000001）已通过初审".into(),
    }
}

#[tokio::test]
async fn each_adapter_is_signed_as_its_provider_checks_and_reads_every_answer() {
    for provider in [SmsProvider::Aliyun, SmsProvider::Tencent] {
        let fake = FakeProvider::start().await;
        let mut config = Config::default();
        with_provider(&mut config, provider, &fake);
        let sms = gateway(&config).expect("the gateway is built");

        let delivered = sms
            .send("13812345678", &review_passed())
            .await
            .unwrap_or_else(|e| panic!("{provider:?}: {e:?} {:?}", fake.refused()));
        assert!(fake.refused().is_empty(), "{:?}", fake.refused());
        let id = delivered.message_id.expect("a message id");
        match provider {
            SmsProvider::Aliyun => assert!(id.starts_with("900619746936498"), "{id}"),
            _ => assert!(id.starts_with("5000:"), "{id}"),
        }
        let got = fake.received().pop().unwrap();
        assert_eq!(got.sign_name, SIGN_NAME);
        assert_eq!(got.template, template_of(provider, "review_passed"));
        match provider {
            SmsProvider::Aliyun => {
                assert_eq!(got.phone, "13812345678");
                let params: BTreeMap<_, _> = got.params.into_iter().collect();
                assert_eq!(params["name"], "张三");
                assert_eq!(params["number"], "SQ20261203000001");
            }
            _ => {
                assert_eq!(got.phone, "+8613812345678");
                assert_eq!(
                    got.params,
                    [
                        ("1".to_string(), "张三".to_string()),
                        ("2".to_string(), "SQ20261203000001".to_string())
                    ]
                );
            }
        }

        fake.reply(Reply::Throttled);
        let e = sms.send("13812345678", &review_passed()).await.unwrap_err();
        assert!(e.transient, "{provider:?}: throttling is retried: {e:?}");
        fake.reply(Reply::BadTemplate);
        let e = sms.send("13812345678", &review_passed()).await.unwrap_err();
        assert!(!e.transient, "{provider:?}: a bad template is not: {e:?}");
        assert!(
            e.code.contains("TEMPLATE") || e.code.contains("Template"),
            "{e:?}"
        );
        fake.reply(Reply::Late);
        let e = sms.send("13812345678", &review_passed()).await.unwrap_err();
        assert_eq!((e.code.as_str(), e.transient), ("timeout", true), "{e:?}");
        assert!(fake.refused().is_empty(), "{:?}", fake.refused());
    }
}

/// A production app with its SMS going to the fake.
async fn production(provider: SmsProvider) -> (TestApp, FakeProvider) {
    let fake = FakeProvider::start().await;
    let app = TestApp::spawn_with(|c| {
        with_provider(c, provider, &fake);
        // Production generates no keys: the operator creates them first (`permitd keys init`).
        permit_api::platform::data_keys::DataKeys::add_key(&c.keys_dir(), chrono::Utc::now())
            .expect("data keys");
        permit_api::credentials::keys::KeyRing::load_or_create(
            &c.keys_dir(),
            &c.issuer_name,
            chrono::Utc::now(),
        )
        .expect("signing keys");
    })
    .await;
    (app, fake)
}

/// Queues a notice with an SMS for `account`; answers the outbox row.
async fn queue_sms(app: &TestApp, account: uuid::Uuid, phone: &str) -> uuid::Uuid {
    let notice = NewNotification {
        account_id: account,
        kind: "review_passed",
        title: "初审通过".into(),
        body: review_passed().text,
        application_id: None,
        sms_phone: Some(phone.into()),
        sms_params: vec![
            ("name", "张三".into()),
            ("number", "SQ20261203000001".into()),
        ],
    };
    let mut tx = app.state.storage.begin().await.unwrap();
    let id = notifications::queue(&mut tx, &notice, Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn the_outbox_retries_throttling_and_timeouts_and_shows_admins_what_it_gave_up() {
    use permit_api::identity::model::Role;
    use permit_api::identity::service::staff as staff_accounts;
    let (app, fake) = production(SmsProvider::Aliyun).await;
    let (admin, enrolment) = staff_accounts::add(
        &*app.state.storage,
        "sms_admin",
        Role::Admin,
        None,
        "SmsAdmin2026pw!",
        &[],
    )
    .await
    .unwrap();
    let dispatch = |at| {
        let state = app.state.clone();
        async move {
            notifications::dispatch_sms(&*state.storage, &*state.sms, at)
                .await
                .unwrap()
        }
    };
    let delivery = |id| {
        let state = app.state.clone();
        async move {
            notifications::sms_delivery(&*state.storage, id)
                .await
                .unwrap()
        }
    };

    // Throttled, then timed out: each time due again after the outbox's backoff.
    // Whole seconds, so the times read back compare equal on either database.
    let t0 = chrono::DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap();
    let throttled = queue_sms(&app, admin.id, "13812345678").await;
    fake.reply(Reply::Throttled);
    assert_eq!(dispatch(t0).await, 0);
    let d = delivery(throttled).await;
    assert_eq!(d.state, "pending");
    assert_eq!(d.error_code.as_deref(), Some("isv.BUSINESS_LIMIT_CONTROL"));
    assert_eq!(d.next_at, Some(t0 + Duration::minutes(2)));
    fake.reply(Reply::Late);
    let t1 = t0 + Duration::minutes(2);
    assert_eq!(dispatch(t1).await, 0);
    let d = delivery(throttled).await;
    assert_eq!(
        (d.state.as_str(), d.error_code.as_deref()),
        ("pending", Some("timeout"))
    );
    assert_eq!(d.next_at, Some(t1 + Duration::minutes(4)));
    // Back to normal: sent, with the provider's id recorded.
    fake.reply(Reply::Success);
    assert_eq!(dispatch(t1 + Duration::minutes(4)).await, 1);
    let d = delivery(throttled).await;
    assert_eq!(d.state, "sent");
    assert_eq!(d.attempts, 3);
    assert!(
        d.message_id.as_deref().is_some_and(|m| m.ends_with("^0")),
        "{d:?}"
    );
    assert!(d.sent_at.is_some());

    // A bad template is given up at once, and the administrators see it.
    let refused = queue_sms(&app, admin.id, "13912345678").await;
    fake.reply(Reply::BadTemplate);
    let t2 = t1 + Duration::minutes(10);
    assert_eq!(dispatch(t2).await, 0);
    let d = delivery(refused).await;
    assert_eq!((d.state.as_str(), d.attempts), ("failed", 1));
    fake.reply(Reply::Success);
    assert_eq!(dispatch(t2 + Duration::days(1)).await, 0, "never retried");
    assert_eq!(fake.received().len(), 4);

    let admin_app =
        common::flow::staff_with_code(&app, "sms_admin", "SmsAdmin2026pw!", &enrolment.grouped())
            .await;
    let failures = json_of(admin_app.get("/api/v1/admin/sms-failures").await, 200).await;
    let failures = failures.as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["id"], refused.to_string());
    assert_eq!(failures[0]["kind"], "review_passed");
    assert_eq!(failures[0]["phone"], "139****5678");
    assert_eq!(failures[0]["error_code"], "isv.SMS_TEMPLATE_ILLEGAL");
    assert_eq!(failures[0]["attempts"], 1);
    // Not for anyone signed out.
    assert_eq!(app.get("/api/v1/admin/sms-failures").await.status(), 401);
}

#[tokio::test]
async fn outside_development_mode_there_is_no_sink_and_codes_go_to_the_provider() {
    for provider in [SmsProvider::Tencent, SmsProvider::Aliyun] {
        let (app, fake) = production(provider).await;
        assert_eq!(
            app.get("/api/v1/dev/sms?phone=13812345678").await.status(),
            404
        );
        let body = app.sms_request("13812345678", "register").await;
        json_of(app.post("/api/v1/sms-codes", &body).await, 200).await;
        let got = fake
            .received()
            .pop()
            .expect("the code went to the provider");
        assert_eq!(got.template, template_of(provider, "register_code"));
        let code = &got.params[0].1;
        assert!(
            code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
            "{got:?}"
        );
        assert_eq!(got.params[1].1, "5", "minutes");

        // The provider refuses or throttles: a clear 503 with a wait, and no code left standing
        // (the same phone may ask again at once).
        fake.reply(Reply::BadTemplate);
        let body = app.sms_request("13900000000", "register").await;
        let r = app.post("/api/v1/sms-codes", &body).await;
        let retry = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert_eq!(code_of(r).await, (503, "sms_unavailable".into()));
        assert!(retry.is_some_and(|s| s.parse::<u64>().unwrap() > 0));
        fake.reply(Reply::Throttled);
        let body = app.sms_request("13900000000", "register").await;
        assert_eq!(
            code_of(app.post("/api/v1/sms-codes", &body).await).await,
            (503, "sms_unavailable".into())
        );
        fake.reply(Reply::Success);
        let body = app.sms_request("13900000000", "register").await;
        json_of(app.post("/api/v1/sms-codes", &body).await, 200).await;
        assert!(fake.refused().is_empty(), "{:?}", fake.refused());
    }
}

#[tokio::test]
async fn permitd_refuses_to_start_in_production_without_a_real_provider() {
    let fake = FakeProvider::start().await;
    let start = |adjust: &dyn Fn(&mut Config)| {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        adjust(&mut config);
        async move {
            let result = permit_api::platform::app::build_state(config).await;
            drop(dir);
            result.err().map(|e| e.to_string())
        }
    };
    let no_provider = start(&|_| {}).await.expect("refused");
    assert!(no_provider.contains("PERMIT_SMS_PROVIDER"), "{no_provider}");
    let dev = start(&|c| c.sms_provider = Some(SmsProvider::Dev))
        .await
        .expect("refused");
    assert!(dev.contains("PERMIT_SMS_PROVIDER=dev"), "{dev}");
    let no_templates = start(&|c| {
        with_provider(c, SmsProvider::Aliyun, &fake);
        c.sms_templates.0.remove("permit_issued");
        c.sms_templates.0.remove("login_code");
    })
    .await
    .expect("refused");
    assert!(
        no_templates.contains("PERMIT_SMS_TEMPLATES")
            && no_templates.contains("login_code, permit_issued"),
        "{no_templates}"
    );
    let no_app_id = start(&|c| {
        with_provider(c, SmsProvider::Tencent, &fake);
        c.sms_sdk_app_id = None;
    })
    .await
    .expect("refused");
    assert!(no_app_id.contains("PERMIT_SMS_SDK_APP_ID"), "{no_app_id}");
    // The secret is never in what permitd prints about its configuration.
    let mut config = Config::default();
    with_provider(&mut config, SmsProvider::Aliyun, &fake);
    assert!(!format!("{config:?}").contains(SECRET));
    // Development mode keeps the sink by default.
    assert_eq!(start(&|c| c.dev = true).await, None);
}

#[tokio::test]
async fn a_code_is_sent_again_only_once_the_last_one_is_used_or_burnt() {
    let app = TestApp::spawn().await;
    let person = Person::new(41);
    let code = app.sms_code(&person.phone, "register").await;
    // The code stands: a new request is refused, saying for how long.
    let body = app.sms_request(&person.phone, "register").await;
    let again = json_of(app.post("/api/v1/sms-codes", &body).await, 429).await;
    assert_eq!(again["code"], "sms_too_frequent");
    let wait = again["retry_after"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 300, "{again}");
    assert_eq!(app.state.sms.sent_to(&person.phone).len(), 1);
    // Another purpose has its own code.
    app.sms_code(&person.phone, "login").await;

    // Used by the registration: a new one may be sent.
    let captcha = app.solve_captcha().await;
    let r = app
        .post(
            "/api/v1/accounts",
            &json!({
                "username": person.username, "password": person.password,
                "password_confirmation": person.password, "real_name": person.real_name,
                "id_number": person.id_number, "sex": person.sex, "phone": person.phone,
                "sms_code": code, "region_code": "330102001", "captcha": captcha,
                "privacy_notice_version": permit_api::privacy::model::NOTICE_VERSION,
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let fresh = app.sms_code(&person.phone, "register").await;

    // Burnt by five wrong guesses: a new one may be sent too.
    let wrong: String = fresh
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect();
    let other = Person::new(42);
    for _ in 0..5 {
        let captcha = app.solve_captcha().await;
        let r = app
            .post(
                "/api/v1/accounts",
                &json!({
                    "username": other.username, "password": other.password,
                    "password_confirmation": other.password, "real_name": other.real_name,
                    "id_number": other.id_number, "sex": other.sex, "phone": person.phone,
                    "sms_code": wrong, "region_code": "330102001", "captcha": captcha,
                    "privacy_notice_version": permit_api::privacy::model::NOTICE_VERSION,
                }),
            )
            .await;
        assert_eq!(r.status(), 422, "{}", r.text().await.unwrap_or_default());
    }
    app.sms_code(&person.phone, "register").await;
}
