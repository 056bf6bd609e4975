//! What an operator runs, through the real binary: `permitd check` on an empty, a good and a
//! broken configuration; `permitd backup` while requests are running, `permitd restore` into a
//! new directory, and a permitd started on it that holds the same accounts, application, proof
//! file and permit, whose QR verifies against the restored trust list.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::flow::{json_of, place, staff, step1, submitted, tiny_pdf};
use common::{Person, TestApp};
use permit_api::platform::clock::Clock;
use permit_verifier::ed25519_dalek::VerifyingKey;
use permit_verifier::{StatusList, TrustList, VerifyOptions};
use serde_json::{Value, json};

/// The binary under test, with none of the caller's configuration leaking in.
fn permitd(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_permitd"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PERMIT_") || key == "DATABASE_URL" || key == "REDIS_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.env("PERMIT_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> (bool, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("permitd runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), text)
}

/// The line of `permitd check`'s report about `subject`.
fn line<'a>(report: &'a str, subject: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(subject))
        .unwrap_or_else(|| panic!("no {subject} line in\n{report}"))
}

/// The names in `dir`, without SQLite's own -wal and -shm companions of a database file (whether
/// a closing process removed them depends on how its last connection ended).
fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn check_reports_an_empty_a_good_and_a_broken_configuration() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();

    // Empty: no database, no keys; and check creates neither.
    let (ok, report) = run(permitd(&data).env("PERMIT_DEV", "true").arg("check"));
    assert!(!ok, "{report}");
    assert!(line(&report, "database").starts_with('✗'), "{report}");
    assert!(
        line(&report, "database").contains("permitd migrate"),
        "{report}"
    );
    assert!(line(&report, "keys").starts_with('✗'), "{report}");
    assert!(
        listing(&data).is_empty(),
        "check created {:?}",
        listing(&data)
    );

    // Good: personal-data keys (production needs them before anything opens the database),
    // migrated, a signing key set, development mode on localhost.
    let (ok, out) = run(permitd(&data).arg("migrate"));
    assert!(!ok, "migrate in production needs the data keys: {out}");
    assert!(out.contains("permitd keys init"), "{out}");
    let (ok, out) = run(permitd(&data).args(["keys", "show"]));
    assert!(!ok, "show creates nothing: {out}");
    let (ok, out) = run(permitd(&data).args(["keys", "init"]));
    assert!(ok, "{out}");
    assert!(out.contains("personal-data key"), "{out}");
    let (ok, out) = run(permitd(&data).arg("migrate"));
    assert!(ok, "{out}");
    let (ok, out) = run(permitd(&data).args(["keys", "show"]));
    assert!(ok, "{out}");
    let before = listing(&data);
    let (ok, report) = run(permitd(&data).env("PERMIT_DEV", "true").arg("check"));
    assert!(ok, "{report}");
    let marks: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with('✓') || l.starts_with('✗'))
        .collect();
    assert_eq!(marks.len(), 9, "{report}");
    assert!(marks.iter().all(|l| l.starts_with('✓')), "{report}");
    for subject in [
        "database",
        "redis",
        "files",
        "keys",
        "data-keys",
        "font",
        "sms",
        "webauthn",
        "cookies",
    ] {
        line(&report, subject);
    }
    assert!(report.contains("all 9 checks passed"), "{report}");
    assert_eq!(listing(&data), before, "check changed the data directory");

    // Broken: production mode with an unreachable PostgreSQL and no Redis, a key readable by
    // others, no font, no SMS provider, an RP id of another site, cookies not Secure on https.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("keys/root.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let (ok, report) = run(permitd(&data)
        .env("DATABASE_URL", "postgres://permit@127.0.0.1:1/permit")
        .env("PERMIT_FONT_PATH", root.path().join("no-font.ttf"))
        .env("PERMIT_WEBAUTHN_ORIGIN", "https://permit.example.gov.cn")
        .env("PERMIT_WEBAUTHN_RP_ID", "example.com")
        .arg("check"));
    assert!(!ok, "{report}");
    let failed = |subject: &str, says: &str| {
        let l = line(&report, subject);
        assert!(l.starts_with('✗') && l.contains(says), "{subject}: {l}");
    };
    failed("database", "not reachable");
    failed("redis", "PERMIT_SINGLE_INSTANCE=true");
    #[cfg(unix)]
    failed("keys", "chmod 600");
    failed("font", "no CJK font found");
    failed("sms", "no SMS provider configured (PERMIT_SMS_PROVIDER)");
    failed("webauthn", "PERMIT_WEBAUTHN_RP_ID=permit.example.gov.cn");
    failed("cookies", "PERMIT_SECURE_COOKIES=true");
    assert!(line(&report, "files").starts_with('✓'), "{report}");
    assert!(report.contains("7 of 9 checks failed"), "{report}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `TestApp` for a permitd started as a process on `data_dir` (SQLite, development mode).
struct Process {
    child: std::process::Child,
    app: TestApp,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(data_dir: &Path, like: &TestApp) -> Process {
    let port = free_port();
    let log = std::fs::File::create(data_dir.with_extension("log")).unwrap();
    let child = permitd(data_dir)
        .env("PERMIT_DEV", "true")
        .env("PERMIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("PERMIT_JOBS_INTERVAL_SECS", "0")
        .env("PERMIT_CAPTCHA_DIFFICULTY", "200")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("permitd starts");
    let mut app = like.another_device();
    app.address = format!("http://127.0.0.1:{port}");
    let process = Process { child, app };
    for _ in 0..600 {
        if let Ok(r) = process
            .app
            .client
            .get(process.app.url("/healthz"))
            .send()
            .await
            && r.status() == 200
        {
            return process;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the restored permitd did not answer: {}",
        std::fs::read_to_string(data_dir.with_extension("log")).unwrap_or_default()
    );
}

/// Verifies a QR text offline with the lists `app` serves, at `at`.
async fn verify_with_lists_of(
    app: &TestApp,
    qr: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> (String, permit_verifier::Verification) {
    let json: Value = app
        .get("/api/v1/trust-list?format=json")
        .await
        .json()
        .await
        .unwrap();
    let root_hex = json["root_public_key"].as_str().unwrap().to_string();
    let root: [u8; 32] = hex::decode(&root_hex).unwrap().try_into().unwrap();
    let root = VerifyingKey::from_bytes(&root).unwrap();
    let trust_bytes = app.get("/api/v1/trust-list").await.bytes().await.unwrap();
    let trust = TrustList::from_cose(&trust_bytes, &root).expect("trust list verifies");
    let status_bytes = app.get("/api/v1/status-list").await.bytes().await.unwrap();
    let status = StatusList::from_cose(&status_bytes, &trust).expect("status list verifies");
    let v = permit_verifier::verify(qr, &trust, Some(&status), &VerifyOptions::at(at));
    (root_hex, v)
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_into_a_new_directory_with_the_same_data() {
    // The archive's database is SQLite's; the PostgreSQL run has its own test below.
    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        c.database_url = None;
        c.redis_url = None;
    })
    .await;
    let place = place(&app).await;
    let me = Person::new(41);
    app.register_and_login(&me).await;
    let mut reg = json!({"moved_in_on": "2025-01-05", "housing_type": "own"});
    for (k, v) in step1(&place).as_object().unwrap() {
        if k != "service_point_id" {
            reg[k] = v.clone();
        }
    }
    json_of(app.post("/api/v1/residence-registrations", &reg).await, 201).await;
    let application = submitted(&app, &place).await;
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let permit = common::flow::issue_permit(&app, &clerk, &application, &place.qingbo).await;
    let pid = permit["id"].as_str().unwrap().to_string();
    common::flow::into_wallet(&app, &me.phone, &pid).await;
    let qr = app
        .get(&format!(
            "/api/v1/permits/{pid}/qr?format=text&presentation=full"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(qr.starts_with("RP1:"), "{qr}");
    let (root_before, v) = verify_with_lists_of(&app, &qr, app.clock.now()).await;
    assert_eq!(v.verdict.code(), "valid", "{:?}", v.verdict);
    let detail = json_of(
        app.get(&format!("/api/v1/applications/{application}"))
            .await,
        200,
    )
    .await;
    let material = detail["materials"][0]["id"].as_str().unwrap().to_string();

    // Requests keep writing (drafts with proof files) while the backup runs.
    let other = app.another_device();
    other.register_and_login(&Person::new(42)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let load = {
        let (stop, writes, body) = (stop.clone(), writes.clone(), step1(&place));
        tokio::spawn(async move {
            let mut first = Some(first_tx);
            let mut drafts = 0;
            while !stop.load(Ordering::SeqCst) {
                // Within the per-account allowances (30 applications, 120 files an hour): past
                // them the load goes on reading.
                if drafts == 20 {
                    json_of(other.get("/api/v1/applications").await, 200).await;
                    continue;
                }
                drafts += 1;
                let draft = json_of(other.post("/api/v1/applications", &body).await, 201).await;
                let id = draft["id"].as_str().unwrap().to_string();
                for _ in 0..3 {
                    let path = format!("/api/v1/applications/{id}/materials");
                    json_of(other.upload(&path, "证明.pdf", tiny_pdf()).await, 201).await;
                    writes.fetch_add(1, Ordering::SeqCst);
                    if let Some(tx) = first.take() {
                        let _ = tx.send(());
                    }
                }
                let cancel = format!("/api/v1/applications/{id}/cancel");
                json_of(other.post(&cancel, &json!({})).await, 200).await;
            }
        })
    };
    first_rx.await.expect("the load started");
    let archive_dir = tempfile::tempdir().unwrap();
    let archive = archive_dir.path().join("permit-backup.tar.gz");
    let data = app.data_dir().to_path_buf();
    let backup = tokio::task::spawn_blocking({
        let (data, archive) = (data.clone(), archive.clone());
        move || run(permitd(&data).arg("backup").arg(&archive))
    })
    .await
    .unwrap();
    let during = writes.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    load.await.expect("the load ran without a failed request");
    assert!(backup.0, "{}", backup.1);
    assert!(backup.1.contains("VACUUM INTO"), "{}", backup.1);
    assert!(during >= 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the archive holds the keys: owner only");
    }
    let (ok, out) = run(permitd(&data).arg("backup").arg(&archive));
    assert!(!ok && out.contains("already exists"), "{out}");

    // Restore refuses a directory in use, then fills a new one.
    let (ok, out) = run(permitd(&data).arg("restore").arg(&archive));
    assert!(
        !ok && out.contains("restore only into an empty directory"),
        "{out}"
    );
    let target = tempfile::tempdir().unwrap();
    let restored = target.path().join("data");
    let (ok, out) = run(permitd(&restored).arg("restore").arg(&archive));
    assert!(ok, "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(restored.join("keys/root.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (ok, report) = run(permitd(&restored).env("PERMIT_DEV", "true").arg("check"));
    assert!(ok, "{report}");

    let server = start(&restored, &app).await;
    let new = &server.app;
    // The same accounts: the resident signs in without a first-login code, the clerk too.
    let r = new.login(&me, None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let mine = json_of(new.get("/api/v1/permits").await, 200).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], permit["id"]);
    assert_eq!(mine[0]["number"], permit["number"]);
    let same = json_of(
        new.get(&format!("/api/v1/applications/{application}"))
            .await,
        200,
    )
    .await;
    assert_eq!(same["status"], "issued");
    let file = new
        .get(&format!(
            "/api/v1/applications/{application}/materials/{material}"
        ))
        .await;
    assert_eq!(file.status(), 200);
    let original = app
        .get(&format!(
            "/api/v1/applications/{application}/materials/{material}"
        ))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        file.bytes().await.unwrap(),
        original,
        "the proof file came back"
    );
    // The clerk's passkey came back too: password and the same passkey sign in.
    let clerk_again = new.another_device();
    json_of(
        common::flow::staff_sign_in(&clerk_again, "clerk", "clerk-demo-2026").await,
        200,
    )
    .await;
    json_of(
        clerk_again
            .get(&format!("/api/v1/staff/applications/{application}"))
            .await,
        200,
    )
    .await;

    // The permit's QR, taken before the backup, verifies against the restored trust list
    // (the restored server's clock set to the original's, which had moved to the counter day).
    json_of(
        new.put("/api/v1/dev/clock", &json!({"now": app.clock.now()}))
            .await,
        200,
    )
    .await;
    let (root_after, v) = verify_with_lists_of(new, &qr, app.clock.now()).await;
    assert_eq!(root_after, root_before, "the same root key");
    assert_eq!(v.verdict.code(), "valid", "{:?}", v.verdict);
}

#[tokio::test]
async fn on_postgresql_the_backup_holds_files_and_keys_and_points_to_pg_dump() {
    let Some(admin) = common::postgres_admin_url() else {
        return; // SQLite-only run: the PostgreSQL run covers this (PERMIT_TEST_POSTGRES_URL)
    };
    let url = common::fresh_postgres(&admin).await;
    // `permitd check` on PostgreSQL: an empty database is not migrated; after the start it is,
    // and with Redis configured and reachable both lines pass.
    let scratch = tempfile::tempdir().unwrap();
    let (_, report) = run(permitd(scratch.path())
        .env("DATABASE_URL", &url)
        .arg("check"));
    let l = line(&report, "database");
    assert!(l.starts_with('✗') && l.contains("not applied"), "{report}");
    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        c.database_url = Some(permit_api::platform::config::Secret::new(url.clone()));
        c.redis_url = None;
        // One instance: allowed without Redis.
        c.single_instance = true;
    })
    .await;
    let redis = common::redis_url().expect("the PostgreSQL run has Redis too");
    let (_, report) = run(permitd(scratch.path())
        .env("DATABASE_URL", &url)
        .env("REDIS_URL", &redis)
        .arg("check"));
    assert!(line(&report, "database").starts_with('✓'), "{report}");
    assert!(line(&report, "redis").starts_with('✓'), "{report}");
    let (_, report) = run(permitd(scratch.path())
        .env("DATABASE_URL", &url)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .arg("check"));
    assert!(line(&report, "redis").starts_with('✗'), "{report}");
    let place = place(&app).await;
    let me = Person::new(43);
    app.register_and_login(&me).await;
    let application = submitted(&app, &place).await;
    let data = app.data_dir().to_path_buf();
    let files_before = std::fs::read_dir(data.join("files")).unwrap().count();
    assert!(files_before >= 1);

    let archive_dir = tempfile::tempdir().unwrap();
    let archive = archive_dir.path().join("pg.tar.gz");
    let (ok, out) = run(permitd(&data)
        .env("DATABASE_URL", &url)
        .arg("backup")
        .arg(&archive));
    assert!(ok, "{out}");
    assert!(out.contains("pg_dump"), "{out}");
    assert!(out.contains("1 proof file(s)"), "{out}");

    // Restoring it as SQLite is refused: the archive has no database.
    let target = tempfile::tempdir().unwrap();
    let (ok, out) = run(permitd(&target.path().join("sqlite"))
        .arg("restore")
        .arg(&archive));
    assert!(!ok && out.contains("pg_restore"), "{out}");
    // Next to the same PostgreSQL database, the files and keys come back and permitd serves
    // the application's proof file from them.
    let restored = target.path().join("data");
    let (ok, out) = run(permitd(&restored)
        .env("DATABASE_URL", &url)
        .arg("restore")
        .arg(&archive));
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::read(restored.join("keys/root.key")).unwrap(),
        std::fs::read(data.join("keys/root.key")).unwrap()
    );
    let detail = json_of(
        app.get(&format!("/api/v1/applications/{application}"))
            .await,
        200,
    )
    .await;
    let material = detail["materials"][0]["id"].as_str().unwrap();
    let again = TestApp::spawn_with(|c| {
        c.database_url = Some(permit_api::platform::config::Secret::new(url.clone()));
        c.redis_url = None;
        c.single_instance = true;
        c.data_dir = restored.clone();
    })
    .await;
    let r = again.login(&me, None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let file = again
        .get(&format!(
            "/api/v1/applications/{application}/materials/{material}"
        ))
        .await;
    assert_eq!(file.status(), 200);
    let original = app
        .get(&format!(
            "/api/v1/applications/{application}/materials/{material}"
        ))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap(), original);
}

/// Several instances on PostgreSQL must share sessions, limits and codes: without Redis permitd
/// does not start, unless the operator says only one instance runs.
#[tokio::test]
async fn postgres_without_redis_is_refused_unless_one_instance_runs() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let url = common::fresh_postgres(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let config = |single_instance| permit_api::platform::config::Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(permit_api::platform::config::Secret::new(url.clone())),
        redis_url: None,
        single_instance,
        dev: true,
        ..Default::default()
    };
    let refused = permit_api::platform::app::build_state(config(false))
        .await
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("REDIS_URL"), "{refused}");
    assert!(
        permit_api::platform::app::build_state(config(true))
            .await
            .is_ok(),
        "one instance may keep them in process"
    );
}

/// An ephemeral store that never answers a ping (a Redis behind a dead link).
struct Unanswering(Arc<dyn permit_api::platform::ephemeral::Ephemeral>);

#[async_trait::async_trait]
impl permit_api::platform::ephemeral::Ephemeral for Unanswering {
    async fn ping(&self) -> permit_api::platform::ephemeral::EphemeralResult<()> {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        Ok(())
    }
    fn backend(&self) -> &'static str {
        "unanswering"
    }
    async fn put(
        &self,
        key: &str,
        value: &str,
        ttl: std::time::Duration,
    ) -> permit_api::platform::ephemeral::EphemeralResult<()> {
        self.0.put(key, value, ttl).await
    }
    async fn get(
        &self,
        key: &str,
    ) -> permit_api::platform::ephemeral::EphemeralResult<Option<String>> {
        self.0.get(key).await
    }
    async fn take(
        &self,
        key: &str,
    ) -> permit_api::platform::ephemeral::EphemeralResult<Option<String>> {
        self.0.take(key).await
    }
    async fn put_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: std::time::Duration,
    ) -> permit_api::platform::ephemeral::EphemeralResult<bool> {
        self.0.put_if_absent(key, value, ttl).await
    }
    async fn increment(
        &self,
        key: &str,
        ttl: std::time::Duration,
    ) -> permit_api::platform::ephemeral::EphemeralResult<u64> {
        self.0.increment(key, ttl).await
    }
    async fn ttl(
        &self,
        key: &str,
    ) -> permit_api::platform::ephemeral::EphemeralResult<Option<std::time::Duration>> {
        self.0.ttl(key).await
    }
    async fn delete(&self, key: &str) -> permit_api::platform::ephemeral::EphemeralResult<()> {
        self.0.delete(key).await
    }
    async fn take_attempt(
        &self,
        counter: &str,
        lock: &str,
        rule: &permit_api::platform::ephemeral::AttemptRule,
    ) -> permit_api::platform::ephemeral::EphemeralResult<permit_api::platform::ephemeral::Attempt>
    {
        self.0.take_attempt(counter, lock, rule).await
    }
    async fn give_back(
        &self,
        counter: &str,
        lock: &str,
        ticket: u64,
    ) -> permit_api::platform::ephemeral::EphemeralResult<()> {
        self.0.give_back(counter, lock, ticket).await
    }
    async fn purge_expired(&self) -> permit_api::platform::ephemeral::EphemeralResult<u64> {
        self.0.purge_expired().await
    }
}

/// The readiness probe answers "not ready" within its bound while a backing service hangs,
/// with `Retry-After`, instead of waiting as long as the service does.
#[tokio::test]
async fn readiness_says_not_ready_promptly_when_a_backing_service_hangs() {
    use poem::listener::{Acceptor, Listener};
    let dir = tempfile::tempdir().unwrap();
    let mut state = permit_api::platform::app::build_state(permit_api::platform::config::Config {
        data_dir: dir.path().to_path_buf(),
        dev: true,
        ..Default::default()
    })
    .await
    .expect("permitd starts");
    state.ephemeral = Arc::new(Unanswering(state.ephemeral.clone()));
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    tokio::spawn(
        poem::Server::new_with_acceptor(acceptor).run(permit_api::platform::app::routes(state)),
    );
    let answer = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .expect("an answer, not a hang");
    assert_eq!(answer.status(), 503);
    assert!(answer.headers().contains_key("retry-after"));
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["ephemeral"]["ok"], false);
    assert_eq!(body["database"]["ok"], true);
}
