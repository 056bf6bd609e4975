//! The staff lists come a page at a time (keyset: `limit`, 50 unless given, 1 to 200, and the
//! previous page's cursor), in a stable order: walking the pages gives every row exactly once,
//! even when many rows share a timestamp (the tests make them share one). SQLite by default,
//! PostgreSQL + Redis with PERMIT_TEST_BACKEND=postgres.

mod common;

use chrono::{DateTime, Utc};
use common::flow::{place, staff, step1, submitted};
use common::{Person, TestApp, code_of, flow::json_of};
use permit_api::platform::audit::AuditEntry;
use serde_json::{Value, json};

/// Runs `sql` (binding one time, `$1`) on the server's own database, behind its back: the
/// tests give rows equal timestamps, which the running clock never does.
async fn same_time(app: &TestApp, sql: &str, at: DateTime<Utc>) {
    if app.backend == "postgres" {
        let url = app.state.config.database_url.as_ref().unwrap().expose();
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
    } else {
        let file = app.data_dir().join("permit.sqlite");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
    }
}

/// Every page of `path` (which has a query already), `limit` rows each, following `cursor`
/// (the query parameter) from `next` (the answer's field); the ids in the order served.
async fn walk(client: &TestApp, path: &str, limit: u32, cursor: &str, next: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut at: Option<String> = None;
    for _ in 0..100 {
        let mut url = format!("{path}&limit={limit}");
        if let Some(c) = &at {
            url.push_str(&format!("&{cursor}={}", urlencode(c)));
        }
        let page = json_of(client.get(&url).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize, "{page}");
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match page.get(next).and_then(Value::as_str) {
            Some(c) => {
                assert_eq!(items.len(), limit as usize, "only the last page is short");
                at = Some(c.to_string());
            }
            None => return ids,
        }
    }
    panic!("{path}: the pages never end");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

fn once_each(ids: &[String], all: usize, what: &str) {
    let mut seen = ids.to_vec();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), ids.len(), "{what}: a row came twice: {ids:?}");
    assert_eq!(ids.len(), all, "{what}: a row was skipped: {ids:?}");
}

#[tokio::test]
async fn audit_pages_give_every_entry_once_even_at_one_instant() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let at = Utc::now();
    for n in 0..7 {
        app.state
            .storage
            .audit(&AuditEntry {
                at,
                staff_id: uuid::Uuid::new_v4(),
                action: "test_entry".into(),
                object_type: "test".into(),
                object_id: n.to_string(),
                detail: String::new(),
            })
            .await
            .unwrap();
    }
    let everything = json_of(admin.get("/api/v1/staff/audit?limit=200").await, 200).await;
    assert!(everything.get("next_before").is_none(), "{everything}");
    let all = everything["items"].as_array().unwrap().len();
    assert!(all >= 7);
    // The log has no ids in its answer: walk it by the object ids the test wrote.
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut url = "/api/v1/staff/audit?limit=3".to_string();
        if let Some(c) = &before {
            url.push_str(&format!("&before={}", urlencode(c)));
        }
        let page = json_of(admin.get(&url).await, 200).await;
        let items = page["items"].as_array().unwrap();
        seen.extend(items.iter().cloned());
        match page["next_before"].as_str() {
            Some(c) => before = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), all, "every entry once");
    let mut ours: Vec<&str> = seen
        .iter()
        .filter(|e| e["action"] == "test_entry")
        .map(|e| e["object_id"].as_str().unwrap())
        .collect();
    ours.sort();
    assert_eq!(ours, ["0", "1", "2", "3", "4", "5", "6"]);
    // Newest first.
    let times: Vec<&str> = seen.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let parsed: Vec<DateTime<Utc>> = times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Bad pages are a clear 422, never a 500.
    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=201", "invalid_limit"),
        ("before=yesterday", "invalid_cursor"),
    ] {
        assert_eq!(
            code_of(admin.get(&format!("/api/v1/staff/audit?{query}")).await).await,
            (422, code.into()),
            "{query}"
        );
    }
}

#[tokio::test]
async fn queue_pages_give_every_application_once_even_at_one_instant() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    for n in 0..5 {
        let person = Person::new(300 + n);
        let mut body = step1(&place);
        body["applicant_name"] = json!(person.real_name);
        body["applicant_id_number"] = json!(person.id_number);
        body["phone"] = json!(person.phone);
        body["condition"] = json!("residence");
        json_of(clerk.post("/api/v1/staff/walk-ins", &body).await, 200).await;
    }
    same_time(
        &app,
        "UPDATE applications SET submitted_at = $1 WHERE status <> 'draft'",
        Utc::now(),
    )
    .await;
    let ids = walk(
        &clerk,
        "/api/v1/staff/applications?status=checked_in",
        2,
        "after",
        "next_after",
    )
    .await;
    once_each(&ids, 5, "queue");
    let one_page = walk(
        &clerk,
        "/api/v1/staff/applications?status=checked_in",
        200,
        "after",
        "next_after",
    )
    .await;
    assert_eq!(ids, one_page, "the same order whatever the page size");
    assert_eq!(
        code_of(clerk.get("/api/v1/staff/applications?after=nope").await).await,
        (422, "invalid_cursor".into())
    );
}

#[tokio::test]
async fn appointment_pages_give_every_appointment_once_even_at_one_instant() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let mut day = None;
    for n in 0..3 {
        let resident = app.another_device();
        resident.register_and_login(&Person::new(320 + n)).await;
        let id = submitted(&resident, &place).await;
        let first = common::flow::available_days(&resident, &id).await[0];
        let day = *day.get_or_insert(first);
        json_of(
            resident
                .put(
                    &format!("/api/v1/applications/{id}/appointment"),
                    &json!({"date": day}),
                )
                .await,
            200,
        )
        .await;
    }
    same_time(&app, "UPDATE appointments SET created_at = $1", Utc::now()).await;
    let path = format!(
        "/api/v1/staff/appointments?service_point_id={}&date={}",
        place.qingbo,
        day.unwrap()
    );
    let ids = walk(&clerk, &path, 2, "after", "next_after").await;
    once_each(&ids, 3, "appointments");
    assert_eq!(ids, walk(&clerk, &path, 50, "after", "next_after").await);
}

#[tokio::test]
async fn permit_pages_give_every_permit_once_even_at_one_instant() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let person = Person::new(340);
    let mut body = step1(&place);
    body["applicant_name"] = json!(person.real_name);
    body["applicant_id_number"] = json!(person.id_number);
    body["phone"] = json!(person.phone);
    body["condition"] = json!("residence");
    for _ in 0..3 {
        let a = json_of(clerk.post("/api/v1/staff/walk-ins", &body).await, 200).await;
        let id = a["id"].as_str().unwrap();
        json_of(
            clerk
                .post(
                    &format!("/api/v1/staff/applications/{id}/issue"),
                    &json!({}),
                )
                .await,
            200,
        )
        .await;
    }
    same_time(&app, "UPDATE permits SET created_at = $1", Utc::now()).await;
    let path = format!("/api/v1/staff/permits?id_number={}", person.id_number);
    let ids = walk(&clerk, &path, 2, "before", "next_before").await;
    once_each(&ids, 3, "permits");
    assert_eq!(ids, walk(&clerk, &path, 200, "before", "next_before").await);
}
