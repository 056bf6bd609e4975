//! The retention policy (issue 14): data is built through the API, the server clock is moved,
//! a jobs round runs, and the rows and the object-store files are gone exactly when due and
//! not a day earlier. On SQLite with the in-process store by default, on PostgreSQL with Redis
//! under `PERMIT_TEST_BACKEND=postgres` (with a concurrency test of two rounds at once).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::flow::{json_of, place, staff, step1, submitted, tiny_pdf};
use common::{Person, TestApp};
use object_store::path::Path as ObjectPath;
use permit_api::platform::clock::Clock;
use permit_api::platform::jobs::{Round, run_once};
use serde_json::json;
use uuid::Uuid;

/// Raw SQL on the server's database, for what the API does not show (object keys, erased
/// columns) and for bulk data.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    async fn open(app: &TestApp) -> Raw {
        match app.state.config.database_url.as_ref() {
            Some(url) => Raw::Postgres(sqlx::PgPool::connect(url.expose()).await.unwrap()),
            None => Raw::Sqlite(
                sqlx::SqlitePool::connect(&format!(
                    "sqlite://{}",
                    app.data_dir().join("permit.sqlite").display()
                ))
                .await
                .unwrap(),
            ),
        }
    }

    /// A count with one id parameter.
    async fn count(&self, sql: &str, id: Uuid) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await,
            Raw::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await,
        }
        .unwrap()
    }

    /// The object keys of an application's proof files.
    async fn keys(&self, application: Uuid) -> Vec<String> {
        let sql = "SELECT object_key FROM materials WHERE application_id = $1 ORDER BY object_key";
        match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).bind(application).fetch_all(p).await,
            Raw::Postgres(p) => sqlx::query_scalar(sql).bind(application).fetch_all(p).await,
        }
        .unwrap()
    }

    /// A proof file's row, as an upload writes it, for bytes the test put in the store itself.
    async fn insert_material(&self, application: Uuid, key: &str) {
        let sql = "INSERT INTO materials (id, application_id, object_key, kind, size_bytes, file_name, sha256, created_at) \
                   VALUES ($1, $2, $3, 'pdf', 1, 'x.pdf', 'x', $4)";
        let (id, now) = (Uuid::new_v4(), Utc::now());
        match self {
            Raw::Sqlite(p) => sqlx::query(sql)
                .bind(id)
                .bind(application)
                .bind(key)
                .bind(now)
                .execute(p)
                .await
                .map(|_| ()),
            Raw::Postgres(p) => sqlx::query(sql)
                .bind(id)
                .bind(application)
                .bind(key)
                .bind(now)
                .execute(p)
                .await
                .map(|_| ()),
        }
        .unwrap()
    }

    async fn exec(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Raw::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            Raw::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap()
    }
}

async fn file_exists(app: &TestApp, key: &str) -> bool {
    match app.state.files.head(&ObjectPath::from(key)).await {
        Ok(_) => true,
        Err(object_store::Error::NotFound { .. }) => false,
        Err(e) => panic!("object store: {e}"),
    }
}

async fn round(app: &TestApp, at: DateTime<Utc>) -> Round {
    run_once(&app.state, at).await.expect("a jobs round")
}

fn id(s: &str) -> Uuid {
    s.parse().unwrap()
}

const MATERIALS: &str = "SELECT COUNT(*) FROM materials WHERE application_id = $1";
const APPLICATIONS: &str = "SELECT COUNT(*) FROM applications WHERE id = $1";

#[tokio::test]
async fn proof_files_go_90_days_after_the_application_ends_and_not_a_day_earlier() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let raw = Raw::open(&app).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;

    // Issued: booked, passed, checked in on its day and issued (the clock moves to that day).
    let holder = app.another_device();
    holder.register_and_login(&Person::new(41)).await;
    let issued = submitted(&holder, &place).await;
    common::flow::issue_permit(&holder, &clerk, &issued, &place.qingbo).await;
    let issued_at = app.clock.now();

    // Cancelled by the applicant after submitting, and returned by the clerk and left alone.
    let other = app.another_device();
    other.register_and_login(&Person::new(42)).await;
    let cancelled = submitted(&other, &place).await;
    json_of(
        other
            .post(
                &format!("/api/v1/applications/{cancelled}/cancel"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    let cancelled_at = app.clock.now();
    let third = app.another_device();
    third.register_and_login(&Person::new(43)).await;
    let returned = submitted(&third, &place).await;
    json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{returned}/review"),
                &json!({"decision": "return", "note": "请补充社保证明"}),
            )
            .await,
        200,
    )
    .await;
    let returned_at = app.clock.now();
    // In progress: submitted, never due.
    let fourth = app.another_device();
    fourth.register_and_login(&Person::new(44)).await;
    let open = submitted(&fourth, &place).await;

    let keys = |a: &str| raw.keys(id(a));
    let (issued_keys, cancelled_keys, returned_keys, open_keys) = (
        keys(&issued).await,
        keys(&cancelled).await,
        keys(&returned).await,
        keys(&open).await,
    );
    for k in issued_keys
        .iter()
        .chain(&cancelled_keys)
        .chain(&returned_keys)
        .chain(&open_keys)
    {
        assert!(file_exists(&app, k).await, "uploaded: {k}");
    }
    assert_eq!(issued_keys.len(), 1);

    // A day before the issued one's 90 days: everything is still there.
    let r = round(&app, issued_at + Duration::days(89)).await;
    assert_eq!(r.retention.proof_files, 0, "{r:?}");
    assert_eq!(raw.count(MATERIALS, id(&issued)).await, 1);
    assert!(file_exists(&app, &issued_keys[0]).await);

    // Just past them: the issued and the cancelled lose their files; the permit's application
    // row stays (the permit names it), and so does the cancelled one's.
    let r = round(
        &app,
        issued_at.max(cancelled_at) + Duration::days(90) + Duration::minutes(1),
    )
    .await;
    assert_eq!(r.retention.proof_files, 2, "{r:?}");
    assert_eq!(r.retention.proof_files_failed, 0);
    for (a, k) in [(&issued, &issued_keys), (&cancelled, &cancelled_keys)] {
        assert_eq!(raw.count(MATERIALS, id(a)).await, 0);
        assert!(!file_exists(&app, &k[0]).await, "deleted from the store");
        assert_eq!(raw.count(APPLICATIONS, id(a)).await, 1);
    }
    let permits = json_of(holder.get("/api/v1/permits").await, 200).await;
    assert_eq!(permits.as_array().unwrap().len(), 1, "the permit is kept");

    // The returned one counts as ended 30 days after its return: a day before its 120 days it
    // keeps its file, just after it loses it (the application stays: it may be resubmitted).
    let r = round(&app, returned_at + Duration::days(119)).await;
    assert_eq!(r.retention.proof_files, 0, "{r:?}");
    assert!(file_exists(&app, &returned_keys[0]).await);
    let r = round(
        &app,
        returned_at + Duration::days(120) + Duration::minutes(1),
    )
    .await;
    assert_eq!(r.retention.proof_files, 1, "{r:?}");
    assert!(!file_exists(&app, &returned_keys[0]).await);
    assert_eq!(raw.count(APPLICATIONS, id(&returned)).await, 1);

    // The application in progress keeps its file years later.
    let r = round(&app, issued_at + Duration::days(3 * 365)).await;
    assert_eq!(r.retention.proof_files, 0, "{r:?}");
    assert_eq!(raw.count(MATERIALS, id(&open)).await, 1);
    assert!(file_exists(&app, &open_keys[0]).await);
    // The audit log is append-only and the retention job never touched it: the clerk's
    // reads and decisions are all there.
    let audit = match &raw {
        Raw::Sqlite(p) => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
            .fetch_one(p)
            .await
            .unwrap(),
        Raw::Postgres(p) => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
            .fetch_one(p)
            .await
            .unwrap(),
    };
    assert!(audit > 0);
}

#[tokio::test]
async fn a_draft_goes_with_its_files_30_days_after_it_was_started_and_a_missing_file_is_no_error() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let raw = Raw::open(&app).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(51)).await;
    let started = app.clock.now();
    let draft = json_of(app.post("/api/v1/applications", &step1(&place)).await, 201).await;
    let draft = draft["id"].as_str().unwrap().to_string();
    let files = format!("/api/v1/applications/{draft}/materials");
    json_of(app.upload(&files, "a.pdf", tiny_pdf()).await, 201).await;
    json_of(app.upload(&files, "b.pdf", tiny_pdf()).await, 201).await;
    // A draft the applicant withdrew the next day: still 30 days from its start.
    let other = app.another_device();
    other.register_and_login(&Person::new(52)).await;
    let withdrawn = json_of(
        other.post("/api/v1/applications", &step1(&place)).await,
        201,
    )
    .await;
    let withdrawn = withdrawn["id"].as_str().unwrap().to_string();
    json_of(
        other
            .upload(
                &format!("/api/v1/applications/{withdrawn}/materials"),
                "c.pdf",
                tiny_pdf(),
            )
            .await,
        201,
    )
    .await;
    json_of(
        other
            .post(
                &format!("/api/v1/applications/{withdrawn}/cancel"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    let draft_keys = raw.keys(id(&draft)).await;
    let withdrawn_keys = raw.keys(id(&withdrawn)).await;
    // One of the draft's files is already gone from the store (deleted by hand, lost): the
    // round deletes its row all the same.
    app.state
        .files
        .delete(&ObjectPath::from(draft_keys[0].as_str()))
        .await
        .unwrap();

    let r = round(&app, started + Duration::days(29)).await;
    assert_eq!((r.drafts_expired, r.retention.drafts), (0, 0), "{r:?}");
    assert_eq!(raw.count(MATERIALS, id(&draft)).await, 2);
    assert!(file_exists(&app, &withdrawn_keys[0]).await);
    json_of(app.get(&format!("/api/v1/applications/{draft}")).await, 200).await;

    let r = round(&app, started + Duration::days(30) + Duration::minutes(10)).await;
    assert_eq!(r.drafts_expired, 1, "{r:?}");
    assert_eq!(r.retention.drafts, 2, "{r:?}");
    assert_eq!(r.retention.proof_files, 3, "{r:?}");
    for (a, keys) in [(&draft, &draft_keys), (&withdrawn, &withdrawn_keys)] {
        assert_eq!(raw.count(APPLICATIONS, id(a)).await, 0);
        assert_eq!(raw.count(MATERIALS, id(a)).await, 0);
        for k in keys {
            assert!(!file_exists(&app, k).await);
        }
    }
    assert_eq!(
        app.get(&format!("/api/v1/applications/{draft}"))
            .await
            .status(),
        404
    );
    // The applicant was told, and the notice says what went.
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    let notice = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "draft_expired")
        .expect("told in the app")
        .clone();
    assert!(
        notice["body"].as_str().unwrap().contains("已删除"),
        "{notice}"
    );
}

#[tokio::test]
async fn sms_bodies_go_after_30_days_and_notifications_after_a_year() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let raw = Raw::open(&app).await;
    let place = place(&app).await;
    let me = Person::new(61);
    app.register_and_login(&me).await;
    let a = submitted(&app, &place).await;
    let day = common::flow::available_days(&app, &a).await[0];
    json_of(
        app.put(
            &format!("/api/v1/applications/{a}/appointment"),
            &json!({"date": day}),
        )
        .await,
        200,
    )
    .await;
    // The round sends the booking's SMS through the development sink.
    let sent_at = app.clock.now();
    let r = round(&app, sent_at).await;
    assert!(r.sms_sent >= 1, "{r:?}");
    let booked = |state: &'static str| {
        format!(
            "SELECT COUNT(*) FROM notifications WHERE application_id = $1 AND kind = 'booking_confirmed' {state}"
        )
    };
    assert_eq!(
        raw.count(
            &booked("AND sms_state = 'sent' AND sms_phone IS NOT NULL AND sms_params IS NOT NULL"),
            id(&a)
        )
        .await,
        1
    );

    let r = round(&app, sent_at + Duration::days(29)).await;
    assert_eq!(r.retention.sms_bodies, 0, "{r:?}");
    assert_eq!(
        raw.count(&booked("AND sms_phone IS NOT NULL"), id(&a))
            .await,
        1
    );
    let r = round(&app, sent_at + Duration::days(30) + Duration::minutes(1)).await;
    assert!(r.retention.sms_bodies >= 1, "{r:?}");
    assert_eq!(
        raw.count(
            &booked("AND sms_phone IS NULL AND sms_params IS NULL AND sms_error_detail IS NULL AND sms_erased_at IS NOT NULL AND sms_state = 'sent'"),
            id(&a)
        )
        .await,
        1
    );
    // The in-app notice stays, and a second round erases nothing more.
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "booking_confirmed"),
        "{inbox}"
    );
    let r = round(&app, sent_at + Duration::days(31)).await;
    assert_eq!(r.retention.sms_bodies, 0, "{r:?}");

    // A year: a day before, the notice is there; just after, it is gone.
    let r = round(&app, sent_at + Duration::days(364)).await;
    assert_eq!(r.retention.notifications, 0, "{r:?}");
    let r = round(&app, sent_at + Duration::days(365) + Duration::minutes(1)).await;
    assert!(r.retention.notifications >= 1, "{r:?}");
    assert_eq!(raw.count(&booked(""), id(&a)).await, 0);
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert!(
        !inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "booking_confirmed"),
        "{inbox}"
    );
}

#[tokio::test]
async fn expired_sessions_and_ceremonies_leave_the_ephemeral_store() {
    for (name, store) in common::ephemeral_backends().await {
        let ttl = std::time::Duration::from_millis(200);
        store
            .put("session:retention-test", "{}", ttl)
            .await
            .unwrap();
        store
            .put("webauthn-registration:retention-test", "{}", ttl)
            .await
            .unwrap();
        store
            .put("session:kept", "{}", std::time::Duration::from_secs(60))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let purged = store.purge_expired().await.unwrap();
        if name == "memory" {
            assert_eq!(purged, 2, "{name}: both expired entries dropped now");
        }
        assert_eq!(
            store.ttl("session:retention-test").await.unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            store
                .get("webauthn-registration:retention-test")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.get("session:kept").await.unwrap().as_deref(),
            Some("{}"),
            "{name}"
        );
        assert_eq!(
            store.purge_expired().await.unwrap(),
            0,
            "{name}: nothing left to drop"
        );
    }
    // Redis itself no longer holds the keys (not merely hides them): EXISTS answers 0.
    if let Some(url) = common::redis_url() {
        let prefix = format!("permit-test:{}:", Uuid::new_v4().simple());
        let store = permit_api::platform::ephemeral::open(Some(&url), &prefix)
            .await
            .unwrap();
        store
            .put("session:x", "{}", std::time::Duration::from_millis(100))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let exists: i64 = redis::cmd("EXISTS")
            .arg(format!("{prefix}session:x"))
            .query_async(&mut c)
            .await
            .unwrap();
        assert_eq!(exists, 0);
    }
}

/// Two rounds at once on PostgreSQL: every due row is deleted once (the counts add up to what
/// was due), both finish, and neither waits for the other's locks.
#[tokio::test]
async fn two_rounds_at_once_delete_each_row_once_and_both_finish() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    if app.backend != "postgres" {
        eprintln!("skipped: PERMIT_TEST_BACKEND=postgres runs this one");
        return;
    }
    let raw = Raw::open(&app).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(71)).await;
    let a = submitted(&app, &place).await;
    json_of(
        app.post(&format!("/api/v1/applications/{a}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    let ended = app.clock.now();
    // 300 more proof files of the cancelled application, with their bytes, and 1000 old
    // notifications: several batches each.
    const FILES: usize = 300;
    for n in 0..FILES {
        let key = format!("materials/{}/bulk{n:04}", id(&a).simple());
        app.state
            .files
            .put(&ObjectPath::from(key.as_str()), tiny_pdf().into())
            .await
            .unwrap();
        raw.insert_material(id(&a), &key).await;
    }
    raw.exec(
        "INSERT INTO notifications (id, account_id, kind, title, body, created_at, sms_state) \
         SELECT gen_random_uuid(), account_id, 'bulk', 't', 'b', now() - interval '2 years', 'none' \
         FROM applications LIMIT 1",
    )
    .await;
    raw.exec(
        "INSERT INTO notifications (id, account_id, kind, title, body, created_at, sms_state) \
         SELECT gen_random_uuid(), n.account_id, 'bulk', 't', 'b', now() - interval '2 years', 'none' \
         FROM notifications n, generate_series(1, 999) WHERE n.kind = 'bulk'",
    )
    .await;
    let keys = raw.keys(id(&a)).await;
    assert_eq!(keys.len(), FILES + 1);

    let at = ended + Duration::days(91);
    let policy = app.state.config.retention;
    let go = || {
        permit_api::privacy::retention::service::apply(
            &*app.state.storage,
            &*app.state.files,
            &*app.state.ephemeral,
            &policy,
            at,
        )
    };
    let started = std::time::Instant::now();
    let (one, two) = tokio::join!(go(), go());
    let (one, two) = (one.expect("first round"), two.expect("second round"));
    assert_eq!(
        one.proof_files + two.proof_files,
        FILES + 1,
        "{one:?} {two:?}"
    );
    assert_eq!(one.proof_files_failed + two.proof_files_failed, 0);
    assert!(
        one.notifications + two.notifications >= 1000,
        "{one:?} {two:?}"
    );
    assert_eq!(raw.count(MATERIALS, id(&a)).await, 0);
    for k in keys.iter().step_by(37) {
        assert!(!file_exists(&app, k).await, "{k}");
    }
    eprintln!(
        "two rounds at once: {one:?} and {two:?} in {:?}",
        started.elapsed()
    );
}

/// An S3 bucket on the test server (`PERMIT_TEST_S3_URL`, moto under `make test`), built from
/// explicit settings rather than the `AWS_*` environment, so this binary's other tests are
/// untouched.
fn s3_store(endpoint: &str, bucket: &str) -> std::sync::Arc<dyn object_store::ObjectStore> {
    let quick = object_store::RetryConfig {
        backoff: object_store::BackoffConfig::default(),
        max_retries: 0,
        retry_timeout: std::time::Duration::from_secs(2),
    };
    std::sync::Arc::new(
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_bucket_name(bucket)
            .with_access_key_id("permit-test")
            .with_secret_access_key("permit-test")
            .with_region("us-east-1")
            .with_retry(quick)
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_allow_http(true)
                    .with_connect_timeout(std::time::Duration::from_secs(1)),
            )
            .build()
            .unwrap(),
    )
}

/// Proof files in an S3 bucket: deleted when due and not a day earlier; a key already gone is
/// no error; a store that cannot be reached keeps the rows for the next round.
#[tokio::test]
async fn in_an_s3_bucket_files_go_when_due_and_a_failed_delete_keeps_the_row() {
    let Some(endpoint) = std::env::var("PERMIT_TEST_S3_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: PERMIT_TEST_S3_URL is not set (make test starts an S3 server)");
        return;
    };
    let bucket = format!(
        "permit-retention-{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    let made = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3 server is reachable");
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    let s3 = s3_store(&endpoint, &bucket);

    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let raw = Raw::open(&app).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(81)).await;
    let a = submitted(&app, &place).await;
    json_of(
        app.post(&format!("/api/v1/applications/{a}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    let ended = app.clock.now();
    // The bytes the server stored, copied into the bucket under the same keys, plus a row
    // whose object was never there.
    let mut keys = raw.keys(id(&a)).await;
    for k in &keys {
        let path = ObjectPath::from(k.as_str());
        let bytes = app
            .state
            .files
            .get(&path)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        s3.put(&path, bytes.into()).await.unwrap();
    }
    let lost = format!("materials/{}/lost", id(&a).simple());
    raw.insert_material(id(&a), &lost).await;
    keys.push(lost);
    let apply = |files: std::sync::Arc<dyn object_store::ObjectStore>, at: DateTime<Utc>| {
        let state = app.state.clone();
        async move {
            permit_api::privacy::retention::service::apply(
                &*state.storage,
                &*files,
                &*state.ephemeral,
                &state.config.retention,
                at,
            )
            .await
            .unwrap()
        }
    };
    let in_s3 = |k: String| {
        let s3 = s3.clone();
        async move {
            match s3.head(&ObjectPath::from(k.as_str())).await {
                Ok(_) => true,
                Err(object_store::Error::NotFound { .. }) => false,
                Err(e) => panic!("S3: {e}"),
            }
        }
    };

    let swept = apply(s3.clone(), ended + Duration::days(89)).await;
    assert_eq!(swept.proof_files, 0, "{swept:?}");
    assert!(in_s3(keys[0].clone()).await);

    // Due, but the store is unreachable: nothing is deleted, the rows stay.
    let down = s3_store("http://127.0.0.1:9", &bucket);
    let swept = apply(down, ended + Duration::days(91)).await;
    assert_eq!(
        (swept.proof_files, swept.proof_files_failed),
        (0, 2),
        "{swept:?}"
    );
    assert_eq!(raw.count(MATERIALS, id(&a)).await, 2);

    // The next round reaches it: the object and the row go; the lost one's row goes too.
    let swept = apply(s3.clone(), ended + Duration::days(91)).await;
    assert_eq!(
        (swept.proof_files, swept.proof_files_failed),
        (2, 0),
        "{swept:?}"
    );
    assert_eq!(raw.count(MATERIALS, id(&a)).await, 0);
    assert!(!in_s3(keys[0].clone()).await);
}
