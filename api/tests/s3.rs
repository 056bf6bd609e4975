//! Proof files in an S3 bucket (`files_url = s3://bucket/prefix`), against an S3-compatible
//! server over HTTP: `make test` runs moto's server at PERMIT_TEST_S3_URL. Without that variable
//! the test says so and passes.
//!
//! This binary holds this one test on purpose: the S3 client takes its endpoint and credentials
//! from the standard AWS variables (`AmazonS3Builder::from_env`), set here for the process.

mod common;

use common::Person;
use common::TestApp;
use common::flow::{json_of, place, tiny_pdf};
use serde_json::json;

#[tokio::test]
async fn proof_files_are_kept_in_an_s3_bucket_under_the_prefix() {
    let Some(endpoint) = std::env::var("PERMIT_TEST_S3_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: PERMIT_TEST_S3_URL is not set (make test starts an S3 server)");
        return;
    };
    // SAFETY: set before the server starts, in a test binary with no other test running.
    unsafe {
        std::env::set_var("AWS_ENDPOINT", &endpoint);
        std::env::set_var("AWS_ALLOW_HTTP", "true");
        std::env::set_var("AWS_ACCESS_KEY_ID", "permit-test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "permit-test");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
    let http = reqwest::Client::new();
    let bucket = format!(
        "permit-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let made = http
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3 server is reachable");
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );

    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        c.files_url = Some(format!("s3://{bucket}/proof"));
    })
    .await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(9)).await;
    let mut body = common::flow::step1(&place);
    body["condition"] = json!("employment");
    let a = json_of(app.post("/api/v1/applications", &body).await, 201).await;
    let files = format!(
        "/api/v1/applications/{}/materials",
        a["id"].as_str().unwrap()
    );
    let kept = json_of(app.upload(&files, "合同.pdf", tiny_pdf()).await, 201).await;
    let dropped = json_of(app.upload(&files, "草稿.pdf", tiny_pdf()).await, 201).await;

    // The file comes back byte for byte through the API.
    let r = app
        .get(&format!("{files}/{}", kept["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), tiny_pdf());

    // The bucket itself, asked over the S3 API, holds both under the prefix; a deleted
    // material's object goes too.
    let listing = || async {
        http.get(format!("{endpoint}/{bucket}?list-type=2"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let keys = |xml: &str| {
        xml.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_string()))
            .collect::<Vec<_>>()
    };
    let before = keys(&listing().await);
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(before.iter().all(|k| k.starts_with("proof/")), "{before:?}");
    let r = app
        .delete(&format!("{files}/{}", dropped["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), 204);
    let after = keys(&listing().await);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(before.contains(&after[0]));
}
