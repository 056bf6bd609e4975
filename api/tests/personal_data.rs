//! Personal data at rest (issue 14): after a person's whole journey (registration, residence
//! registration, an application with an employer, a booking with an Idempotency-Key, a clerk's
//! search by ID number, the permit issued, its notices), neither database nor the ephemeral
//! store holds their name, ID number, phone, address or employer in any column or key; the
//! stores still answer with them; and without the keys directory the data does not open.

mod common;

use common::flow::{json_of, place, staff, step1, tiny_pdf};
use common::{Person, TestApp};
use serde_json::json;

const ADDRESS: &str = "隐私路88号6幢1201室";
const EMPLOYER: &str = "杭州保密测试科技有限公司";

/// Every row of every table, as text: on PostgreSQL each row as JSON; on SQLite the bytes of
/// the database file and its write-ahead log, as a copy of the file would give them.
async fn raw_database(app: &TestApp) -> String {
    match app.backend {
        "postgres" => {
            use sqlx::Connection;
            let url = app
                .state
                .config
                .database_url
                .as_ref()
                .unwrap()
                .expose()
                .to_string();
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let mut out = String::new();
            for t in tables {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT row_to_json(t)::text FROM \"{t}\" t"
                )))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                for r in rows {
                    out.push_str(&r);
                    out.push('\n');
                }
            }
            out
        }
        _ => {
            let mut bytes = Vec::new();
            for name in ["permit.sqlite", "permit.sqlite-wal"] {
                if let Ok(b) = std::fs::read(app.data_dir().join(name)) {
                    bytes.extend(b);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// Every key and string value of the ephemeral store (Redis under the test's prefix).
async fn raw_ephemeral(app: &TestApp) -> Option<String> {
    let url = app.state.config.redis_url.as_ref()?.expose().to_string();
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pattern = format!("{}*", app.state.config.redis_prefix);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(&pattern)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut out = String::new();
    for k in keys {
        out.push_str(&k);
        out.push('\n');
        let value: redis::RedisResult<Option<String>> =
            redis::cmd("GET").arg(&k).query_async(&mut conn).await;
        if let Ok(Some(v)) = value {
            out.push_str(&v);
            out.push('\n');
        }
    }
    Some(out)
}

#[tokio::test]
async fn no_column_and_no_ephemeral_key_names_the_person() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let me = Person {
        real_name: "欧阳明珠".into(),
        ..Person::new(41)
    };
    app.register_and_login(&me).await;

    let mut reg = json!({"moved_in_on": "2026-01-05", "housing_type": "rented"});
    for (k, v) in step1(&place).as_object().unwrap() {
        if k != "service_point_id" {
            reg[k] = v.clone();
        }
    }
    reg["address_detail"] = json!(ADDRESS);
    json_of(app.post("/api/v1/residence-registrations", &reg).await, 201).await;

    let mut body = step1(&place);
    body["address_detail"] = json!(ADDRESS);
    body["condition"] = json!("employment");
    body["employer"] = json!(EMPLOYER);
    let a = json_of(app.post("/api/v1/applications", &body).await, 201).await;
    let id = a["id"].as_str().unwrap().to_string();
    let number = a["number"].as_str().unwrap().to_string();
    json_of(
        app.upload(
            &format!("/api/v1/applications/{id}/materials"),
            "合同.pdf",
            tiny_pdf(),
        )
        .await,
        201,
    )
    .await;
    // A submit with a key leaves an idempotency record; repeated, it answers the same.
    common::flow::registered_months_ago(&app, &id, 7).await;
    let submit = format!("/api/v1/applications/{id}/submit");
    let first = json_of(
        app.send_with_key(reqwest::Method::POST, &submit, "submit-1", &json!({}))
            .await,
        200,
    )
    .await;
    let again = json_of(
        app.send_with_key(reqwest::Method::POST, &submit, "submit-1", &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["status"], "submitted");

    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let permit = common::flow::issue_permit(&app, &clerk, &id, &place.qingbo).await;
    // The clerk's search by ID number goes through the blind index.
    let found = json_of(
        clerk
            .get(&format!("/api/v1/staff/permits?id_number={}", me.id_number))
            .await,
        200,
    )
    .await;
    assert_eq!(found["items"][0]["id"], permit["id"]);
    let found = json_of(
        clerk
            .get(&format!(
                "/api/v1/staff/accounts?id_number={}",
                me.id_number.to_lowercase()
            ))
            .await,
        200,
    )
    .await;
    assert_eq!(found["real_name"], me.real_name, "the API still reads it");

    // The stores give the plaintext back.
    let detail = json_of(app.get(&format!("/api/v1/applications/{id}")).await, 200).await;
    assert_eq!(detail["employer"], EMPLOYER);
    assert_eq!(detail["address_detail"], ADDRESS);
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert!(
        inbox.to_string().contains(&me.real_name),
        "notices name the person: {inbox}"
    );

    let raw = raw_database(&app).await;
    assert!(raw.contains(&number), "the scan sees the rows");
    assert!(raw.contains("pd1."), "sealed values are there");
    for secret in [
        me.real_name.as_str(),
        me.id_number.as_str(),
        me.phone.as_str(),
        ADDRESS,
        EMPLOYER,
    ] {
        assert!(
            !raw.contains(secret),
            "{} holds {secret} in plaintext",
            app.backend
        );
    }
    if let Some(eph) = raw_ephemeral(&app).await {
        assert!(eph.contains("session:"), "the scan sees the keys: {eph}");
        for secret in [
            me.real_name.as_str(),
            me.id_number.as_str(),
            me.phone.as_str(),
            ADDRESS,
            EMPLOYER,
        ] {
            assert!(!eph.contains(secret), "Redis holds {secret}");
        }
    }
}

#[tokio::test]
async fn the_database_does_not_open_with_another_keys_directory() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let me = Person::new(42);
    app.register_and_login(&me).await;
    let other = tempfile::tempdir().unwrap();
    let keys = permit_api::platform::data_keys::DataKeys::load(other.path(), true).unwrap();
    let url = app
        .state
        .config
        .database_url
        .as_ref()
        .map(|u| u.expose().to_string());
    let opened = permit_api::platform::storage::open(
        url.as_deref(),
        app.data_dir(),
        std::sync::Arc::new(keys),
    )
    .await;
    let err = opened.err().expect("the wrong keys do not open the data");
    assert!(
        err.to_string().contains("cannot seal the personal data"),
        "{err}"
    );
}

#[tokio::test]
async fn rotating_the_data_key_reseals_every_row_and_the_old_ones_still_open() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let me = Person::new(43);
    app.register_and_login(&me).await;
    let keys_dir = app.state.config.keys_dir();
    let before = raw_database(&app).await;
    let new_kid =
        permit_api::platform::data_keys::DataKeys::add_key(&keys_dir, chrono::Utc::now()).unwrap();
    assert!(!before.contains(&format!("pd1.{new_kid}.")));
    let done = permit_api::platform::storage::reseal(&app.state.config)
        .await
        .unwrap();
    assert!(done.total() > 0, "{done:?}");
    let again = permit_api::platform::storage::reseal(&app.state.config)
        .await
        .unwrap();
    assert_eq!(again.total(), 0, "nothing left under the old key");
    if app.backend == "postgres" {
        // SQLite's file keeps freed pages; PostgreSQL's rows are what a dump shows.
        let after = raw_database(&app).await;
        assert!(after.contains(&format!("pd1.{new_kid}.")));
    }
    // The running instance, which loaded only the old key, reads the resealed rows.
    let mine = json_of(app.get("/api/v1/me").await, 200).await;
    assert_eq!(mine["real_name"], me.real_name);
}

#[tokio::test]
async fn rows_from_before_sealing_are_sealed_and_indexed_at_the_next_start() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let me = Person {
        real_name: "司马旧档".into(),
        ..Person::new(44)
    };
    app.register_and_login(&me).await;
    let mine = json_of(app.get("/api/v1/me").await, 200).await;
    let id: uuid::Uuid = mine["id"].as_str().unwrap().parse().unwrap();
    // What an earlier version wrote: plaintext and no blind index.
    let legacy = "UPDATE accounts SET real_name = $1, id_number = $2, phone = $3, id_number_index = NULL WHERE id = $4";
    let url = app
        .state
        .config
        .database_url
        .as_ref()
        .map(|u| u.expose().to_string());
    match &url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(legacy)
                .bind(&me.real_name)
                .bind(&me.id_number)
                .bind(&me.phone)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
        None => {
            let file = app.data_dir().join("permit.sqlite");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            sqlx::query(legacy)
                .bind(&me.real_name)
                .bind(&me.id_number)
                .bind(&me.phone)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    let keys = permit_api::platform::data_keys::DataKeys::load(&app.state.config.keys_dir(), false)
        .unwrap();
    let storage = permit_api::platform::storage::open(
        url.as_deref(),
        app.data_dir(),
        std::sync::Arc::new(keys),
    )
    .await
    .expect("the start-up pass seals the old row");
    let found = storage
        .resident_by_id_number(&me.id_number)
        .await
        .expect("found through the index the pass filled");
    assert_eq!(found.id, id);
    assert_eq!(found.real_name, me.real_name);
    // SQLite zeroes what it overwrites (secure_delete); the write-ahead log still holds the
    // frames until a checkpoint, so the file is read after one.
    if app.backend == "sqlite" {
        let file = app.data_dir().join("permit.sqlite");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
    }
    let raw = raw_database(&app).await;
    assert!(!raw.contains(&me.real_name), "sealed in place");
    assert!(!raw.contains(&me.id_number));
}
