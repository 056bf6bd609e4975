//! The HTTP contract does not move when permitd's inside does: the OpenAPI document permitd
//! serves is compared with the one kept in `fixtures/openapi.json` (paths, methods, parameters,
//! schemas and responses; key order aside). A deliberate API change rewrites the fixture with
//! `PERMIT_UPDATE_OPENAPI_FIXTURE=1 cargo test -p permit-api --test openapi` and shows in review.

use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openapi.json");

fn served() -> Value {
    let text = permit_api::platform::app::api_service().spec();
    serde_json::from_str(&text).expect("the served document is JSON")
}

/// Every JSON pointer where the two documents differ, so a failure names what moved.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match g.get(k) {
                    Some(gv) => differences(&p, wv, gv, out),
                    None => out.push(format!("missing {p}")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("added {path}/{k}"));
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                differences(&format!("{path}/{i}"), wv, gv, out);
            }
        }
        _ if want == got => {}
        _ => out.push(format!("changed {path}: {want} -> {got}")),
    }
}

#[test]
fn the_served_openapi_document_matches_the_fixture() {
    let got = served();
    if std::env::var("PERMIT_UPDATE_OPENAPI_FIXTURE").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&got).expect("serialise") + "\n";
        std::fs::write(FIXTURE, text).expect("write the fixture");
    }
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(FIXTURE).expect("the fixture is in the repository"),
    )
    .expect("the fixture is JSON");
    let mut diff = Vec::new();
    differences("", &want, &got, &mut diff);
    assert!(
        diff.is_empty(),
        "the OpenAPI document changed:\n{}",
        diff.join("\n")
    );
}

#[test]
fn the_comparison_sees_a_changed_response() {
    // The check itself must notice a change, or the test above proves nothing.
    let want = served();
    let mut got = want.clone();
    let first_path = got["paths"]
        .as_object_mut()
        .and_then(|p| p.values_mut().next())
        .expect("the document has paths");
    first_path
        .as_object_mut()
        .expect("a path item")
        .insert("trace".into(), Value::Bool(true));
    let mut diff = Vec::new();
    differences("", &want, &got, &mut diff);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].starts_with("added /paths/"), "{diff:?}");
}
