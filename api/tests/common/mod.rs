//! The test harness: `TestApp::spawn()` starts permitd in-process on port 0 with a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database) and a fresh ephemeral store
//! (in-process, or a unique Redis key prefix), and gives typed request helpers.
#![allow(dead_code)]

pub mod flow;
pub mod staff_sign_in;

use std::sync::Arc;

use permit_api::platform::app;
use permit_api::platform::config::{Config, Secret};
use permit_api::platform::ephemeral::{self, Ephemeral};
use permit_api::platform::storage::{self, Storage};
use poem::listener::{Acceptor, Listener, TcpListener};
use serde_json::{Value, json};

/// The PostgreSQL server's admin URL, when the run includes PostgreSQL. Under CI it must.
pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("PERMIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI requires PERMIT_TEST_POSTGRES_URL (the Makefile sets it)");
    }
    url
}

pub fn redis_url() -> Option<String> {
    let url = std::env::var("PERMIT_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI requires PERMIT_TEST_REDIS_URL (the Makefile sets it)");
    }
    url
}

/// Creates an empty database for one test and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("permit_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

/// A fresh development set of personal-data keys, for a store a test opens by itself.
pub fn data_keys() -> Arc<permit_api::platform::data_keys::DataKeys> {
    let dir = std::env::temp_dir().join(format!(
        "permit-test-keys-{}",
        uuid::Uuid::new_v4().simple()
    ));
    Arc::new(
        permit_api::platform::data_keys::DataKeys::load(&dir, true).expect("development data keys"),
    )
}

/// SQLite always; PostgreSQL too when the run includes it. The temporary directory, when there
/// is one, must outlive the storage.
pub async fn storage_backends() -> Vec<(&'static str, Arc<dyn Storage>, Option<tempfile::TempDir>)>
{
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = storage::open(None, dir.path(), data_keys())
        .await
        .expect("open SQLite");
    let mut out = vec![("sqlite", sqlite, Some(dir))];
    if let Some(admin) = postgres_admin_url() {
        let url = fresh_postgres(&admin).await;
        let pg = storage::open(
            Some(&url),
            std::path::Path::new("/nonexistent"),
            data_keys(),
        )
        .await
        .expect("open PostgreSQL");
        out.push(("postgres", pg, None));
    }
    out
}

/// [`storage_backends`] with each database's URL, for a test that changes rows underneath.
pub async fn storage_backends_with_urls() -> Vec<(
    &'static str,
    Arc<dyn Storage>,
    Option<tempfile::TempDir>,
    String,
)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = storage::open(None, dir.path(), data_keys())
        .await
        .expect("open SQLite");
    let sqlite_url = format!("sqlite://{}", dir.path().join("permit.sqlite").display());
    let mut out = vec![("sqlite", sqlite, Some(dir), sqlite_url)];
    if let Some(admin) = postgres_admin_url() {
        let url = fresh_postgres(&admin).await;
        let pg = storage::open(
            Some(&url),
            std::path::Path::new("/nonexistent"),
            data_keys(),
        )
        .await
        .expect("open PostgreSQL");
        out.push(("postgres", pg, None, url));
    }
    out
}

/// Runs one statement on the database at `url` (SQLite or PostgreSQL), beside the storage.
pub async fn execute_sql(url: &str, sql: &'static str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("SQLite");
        sqlx::query(sql).execute(&pool).await.expect(sql);
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL");
        sqlx::query(sql).execute(&pool).await.expect(sql);
        pool.close().await;
    }
}

/// In-process always; Redis too when the run includes it (each with its own key prefix).
pub async fn ephemeral_backends() -> Vec<(&'static str, Arc<dyn Ephemeral>)> {
    let mut out: Vec<(&'static str, Arc<dyn Ephemeral>)> =
        vec![("memory", ephemeral::open(None, "").await.expect("memory"))];
    if let Some(url) = redis_url() {
        let prefix = format!("permit-test:{}:", uuid::Uuid::new_v4().simple());
        out.push((
            "redis",
            ephemeral::open(Some(&url), &prefix)
                .await
                .expect("Redis is reachable"),
        ));
    }
    out
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: &'static str,
    /// The running server's state, for driving background jobs at a chosen time.
    pub state: permit_api::platform::state::AppState,
    /// The server's clock: tests move it instead of sleeping.
    pub clock: Arc<permit_api::platform::clock::ShiftedClock>,
    /// The software passkeys staff enrolled on this server, by account name, so a later
    /// sign-in (from any device of the test) answers with the same one.
    pub staff_passkeys: StaffPasskeys,
    _data_dir: Arc<tempfile::TempDir>,
}

pub type StaffPasskeys = Arc<
    std::sync::Mutex<
        std::collections::HashMap<String, webauthn_authenticator_rs::softpasskey::SoftPasskey>,
    >,
>;

pub const ORIGIN: &str = "http://localhost:8080";

impl TestApp {
    /// The backend comes from `PERMIT_TEST_BACKEND`: `sqlite` (default, with the in-process
    /// store) or `postgres` (with Redis).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config {
            data_dir: data_dir.path().to_path_buf(),
            dev: true,
            captcha_difficulty: 200,
            // Scenarios send several codes to one phone in a second; the interval has its own test.
            sms_resend_interval_secs: 0,
            // Debug-build argon2 on shared cores is slow: scenarios that sign in many at once
            // queue for the hashers rather than being told to come back (that has its own test).
            password_hash_wait_ms: 60_000,
            webauthn_rp_id: "localhost".into(),
            webauthn_origin: ORIGIN.into(),
            ..Config::default()
        };
        let backend = match std::env::var("PERMIT_TEST_BACKEND").as_deref() {
            Ok("postgres") => {
                let admin =
                    postgres_admin_url().expect("PERMIT_TEST_POSTGRES_URL for the postgres run");
                config.database_url = Some(Secret::new(fresh_postgres(&admin).await));
                config.redis_url = Some(Secret::new(
                    redis_url().expect("PERMIT_TEST_REDIS_URL for the postgres run"),
                ));
                config.redis_prefix = format!("permit-test:{}:", uuid::Uuid::new_v4().simple());
                "postgres"
            }
            _ => "sqlite",
        };
        adjust(&mut config);
        let state = app::build_state(config).await.expect("permitd starts");
        let clock = Arc::new(permit_api::platform::clock::ShiftedClock::default());
        Self::serve(state, clock, backend, Arc::new(data_dir)).await
    }

    /// Another permitd instance on this one's database, Redis and keys directory, with its own
    /// port, process state and cookie jar, on this one's clock.
    pub async fn second_instance(&self) -> TestApp {
        let config = (*self.state.config).clone();
        let state = app::build_state(config)
            .await
            .expect("a second instance starts");
        let mut other = Self::serve(
            state,
            self.clock.clone(),
            self.backend,
            self._data_dir.clone(),
        )
        .await;
        // The staff enrolled their passkeys once, on whichever instance.
        other.staff_passkeys = self.staff_passkeys.clone();
        other
    }

    async fn serve(
        mut state: permit_api::platform::state::AppState,
        clock: Arc<permit_api::platform::clock::ShiftedClock>,
        backend: &'static str,
        data_dir: Arc<tempfile::TempDir>,
    ) -> TestApp {
        state.clock = clock.clone();
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let port = acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("socket address")
            .port();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app::routes(state.clone())));
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: Self::new_client(),
            backend,
            state,
            clock,
            staff_passkeys: StaffPasskeys::default(),
            _data_dir: data_dir,
        }
    }

    /// The server's data directory (SQLite file, keys, proof files).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// The same server seen from another device (its own cookie jar).
    pub fn another_device(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: Self::new_client(),
            backend: self.backend,
            state: self.state.clone(),
            clock: self.clock.clone(),
            staff_passkeys: self.staff_passkeys.clone(),
            _data_dir: self._data_dir.clone(),
        }
    }

    /// This device (its cookie jar) talking to another instance.
    pub fn same_device_on(&self, instance: &TestApp) -> TestApp {
        TestApp {
            client: self.client.clone(),
            ..instance.another_device()
        }
    }

    pub fn new_client() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A request carrying an `Idempotency-Key`.
    pub async fn send_with_key(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Uploads one proof file as multipart field `file`.
    pub async fn upload(&self, path: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("image/jpeg")
            .expect("mime");
        self.client
            .post(self.url(path))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Fetches a captcha challenge and solves it the way the PWA's worker does.
    pub async fn solve_captcha(&self) -> String {
        let c: Value = self
            .get("/api/v1/captcha")
            .await
            .json()
            .await
            .expect("challenge");
        let number = altcha_lib_rs::solve_challenge(
            c["challenge"].as_str().unwrap(),
            c["salt"].as_str().unwrap(),
            None,
            Some(c["maxnumber"].as_u64().unwrap()),
            0,
        )
        .expect("solvable");
        let payload = json!({
            "algorithm": c["algorithm"], "challenge": c["challenge"], "number": number,
            "salt": c["salt"], "signature": c["signature"],
        });
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(payload.to_string())
    }

    /// The body of `POST /sms-codes`, as the PWA sends it: with a solved captcha, except for a
    /// signed-in session's own step-up or new-phone code.
    pub async fn sms_request(&self, phone: &str, purpose: &str) -> Value {
        let own_use = matches!(purpose, "step_up" | "change_phone");
        if own_use && self.get("/api/v1/me").await.status() == 200 {
            json!({"phone": phone, "purpose": purpose})
        } else {
            json!({"phone": phone, "purpose": purpose, "captcha": self.solve_captcha().await})
        }
    }

    /// Asks for an SMS code and reads it from the development sink.
    pub async fn sms_code(&self, phone: &str, purpose: &str) -> String {
        let body = self.sms_request(phone, purpose).await;
        let r = self.post("/api/v1/sms-codes", &body).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        self.last_sms_code(phone).await
    }

    pub async fn last_sms_code(&self, phone: &str) -> String {
        let messages: Value = self
            .get(&format!("/api/v1/dev/sms?phone={phone}"))
            .await
            .json()
            .await
            .expect("sink");
        let text = messages
            .as_array()
            .and_then(|m| m.last())
            .expect("a message")["text"]
            .as_str()
            .unwrap()
            .to_string();
        text.chars()
            .collect::<Vec<_>>()
            .windows(6)
            .map(|w| w.iter().collect::<String>())
            .find(|w| w.chars().all(|c| c.is_ascii_digit()))
            .expect("a 6-digit code")
    }

    /// A complete, valid registration body for `person` (captcha and SMS code included).
    pub async fn registration(&self, person: &Person) -> Value {
        let captcha = self.solve_captcha().await;
        let code = self.sms_code(&person.phone, "register").await;
        json!({
            "username": person.username, "password": person.password,
            "password_confirmation": person.password, "real_name": person.real_name,
            "id_number": person.id_number, "sex": person.sex, "phone": person.phone,
            "sms_code": code, "region_code": "330102001", "captcha": captcha,
            "privacy_notice_version": permit_api::privacy::model::NOTICE_VERSION,
        })
    }

    pub async fn register(&self, person: &Person) -> reqwest::Response {
        let body = self.registration(person).await;
        self.post("/api/v1/accounts", &body).await
    }

    /// Registers and signs in (answering the first-login SMS code).
    pub async fn register_and_login(&self, person: &Person) {
        let r = self.register(person).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let r = self.login(person, None).await;
        assert_eq!(r.status(), 401);
        let code = self.last_sms_code(&person.phone).await;
        let r = self.login(person, Some(&code)).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }

    /// Steps the session up with an SMS code sent to `phone` (an account without a passkey),
    /// so the operations that need a fresh step-up may go ahead.
    pub async fn step_up(&self, phone: &str) {
        let code = self.sms_code(phone, "step_up").await;
        self.step_up_with(&code).await;
    }

    /// Steps the session up with an SMS code already sent.
    pub async fn step_up_with(&self, code: &str) {
        let r = self
            .post(
                "/api/v1/sessions/current/step-up",
                &json!({"sms_code": code}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }

    pub async fn login(&self, person: &Person, sms_code: Option<&str>) -> reqwest::Response {
        self.post(
            "/api/v1/sessions",
            &json!({"username": person.username, "password": person.password, "sms_code": sms_code}),
        )
        .await
    }
}

/// ISO 7064 MOD 11-2 check character.
pub fn id_with_check(first17: &str) -> String {
    format!(
        "{first17}{}",
        permit_api::identity::model::check_character(first17).unwrap()
    )
}

#[derive(Clone)]
pub struct Person {
    pub username: String,
    pub password: String,
    pub real_name: String,
    pub id_number: String,
    pub sex: &'static str,
    pub phone: String,
}

impl Person {
    /// A distinct valid person for each `n`.
    pub fn new(n: u32) -> Person {
        Person {
            username: format!("zhang{n}"),
            password: "Zhang2026pw".into(),
            real_name: "张小明".into(),
            id_number: id_with_check(&format!("33010219900101{:02}1", n % 100)),
            sex: "male",
            phone: format!("138{:08}", 10_000_000 + n),
        }
    }
}

/// The error code of a JSON error response.
pub async fn code_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (
        status,
        body["code"].as_str().unwrap_or("<no code>").to_string(),
    )
}
