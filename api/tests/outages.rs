//! Outages answer promptly and heal by themselves: with PostgreSQL or Redis behind a TCP proxy
//! that stops moving bytes (a network that swallows packets: connections stay open, nothing
//! arrives), every request answers `503 service_unavailable` with `Retry-After` within the
//! configured limits instead of waiting, and once the proxy forwards again requests succeed
//! without a restart. Needs PERMIT_TEST_POSTGRES_URL and PERMIT_TEST_REDIS_URL (the machine's
//! servers are never stopped: only the proxy in front of them pauses); skipped otherwise.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Person, TestApp};
use permit_api::platform::config::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy to `upstream` that can be paused: paused, it still accepts connections but
/// holds every byte (nothing is lost; it goes through when the proxy resumes).
struct Proxy {
    address: SocketAddr,
    paused: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (paused, _) = watch::channel(false);
        let gate = paused.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let gate = gate.subscribe();
                tokio::spawn(async move {
                    let mut open = gate.clone();
                    if open.wait_for(|p| !*p).await.is_err() {
                        return;
                    }
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        pipe(client_read, server_write, gate.clone()),
                        pipe(server_read, client_write, gate),
                    );
                });
            }
        });
        Proxy { address, paused }
    }

    fn pause(&self) {
        self.paused.send_replace(true);
    }

    fn resume(&self) {
        self.paused.send_replace(false);
    }
}

/// Copies one direction; what was read while paused waits for the proxy to resume.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut gate: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if gate.wait_for(|p| !*p).await.is_err() {
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

fn socket_of(url: &str) -> SocketAddr {
    let url = url::Url::parse(url).unwrap();
    let host = url.host_str().unwrap().to_string();
    let port = url.port_or_known_default().unwrap();
    std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .unwrap()
        .next()
        .unwrap()
}

fn through(url: &str, proxy: &Proxy) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.address.port())).unwrap();
    url.to_string()
}

/// The answer to `GET path`, with how long it took; the client gives up after 30 s, far past
/// any configured limit, so a hang fails the test instead of stalling it.
async fn timed_get(app: &TestApp, path: &str) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let r = app
        .client
        .get(app.url(path))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer, not a hang");
    (r, started.elapsed())
}

async fn assert_unavailable(app: &TestApp, path: &str, what: &str) {
    let (r, took) = timed_get(app, path).await;
    assert_eq!(r.status(), 503, "{what}: {path}");
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{what}: {path} has Retry-After"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    if path.starts_with("/api/") {
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "service_unavailable", "{what}: {path}");
    }
    println!("{what}: {path} answered 503 after {took:?}");
}

/// Recovery needs no restart: the same request succeeds again once the service answers (a
/// count of tries, each a full round trip, not a time limit).
async fn assert_recovers(app: &TestApp, path: &str, what: &str) {
    let started = Instant::now();
    for _ in 0..60 {
        let (r, _) = timed_get(app, path).await;
        if r.status() == 200 {
            println!(
                "{what}: {path} answered 200 again after {:?}",
                started.elapsed()
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{what}: {path} never answered 200 again");
}

#[tokio::test]
async fn outages_answer_503_with_retry_after_promptly_and_heal_by_themselves() {
    let (Some(admin), Some(redis)) = (common::postgres_admin_url(), common::redis_url()) else {
        eprintln!("skipped: needs PERMIT_TEST_POSTGRES_URL and PERMIT_TEST_REDIS_URL");
        return;
    };
    let database = common::fresh_postgres(&admin).await;
    let pg = Proxy::start(socket_of(&database)).await;
    let rd = Proxy::start(socket_of(&redis)).await;
    let (database_via, redis_via) = (through(&database, &pg), through(&redis, &rd));
    let app = TestApp::spawn_with(|c| {
        c.database_url = Some(Secret::new(database_via));
        c.redis_url = Some(Secret::new(redis_via));
        c.redis_prefix = format!("permit-test:{}:", uuid::Uuid::new_v4().simple());
        c.db_acquire_timeout_ms = 1500;
        c.db_statement_timeout_ms = 3000;
        c.redis_timeout_ms = 1500;
        c.jobs_interval_secs = 0;
    })
    .await;
    app.register_and_login(&Person::new(41)).await;
    assert_eq!(timed_get(&app, "/api/v1/me").await.0.status(), 200);
    assert_eq!(timed_get(&app, "/api/v1/regions").await.0.status(), 200);

    pg.pause();
    for path in [
        "/api/v1/regions",
        "/api/v1/me",
        "/api/v1/service-points",
        "/readyz",
    ] {
        assert_unavailable(&app, path, "PostgreSQL hangs").await;
    }
    // Again, with the connections of the first answers gone: still prompt.
    assert_unavailable(&app, "/api/v1/regions", "PostgreSQL hangs").await;
    pg.resume();
    assert_recovers(&app, "/api/v1/regions", "PostgreSQL back").await;
    assert_recovers(&app, "/api/v1/me", "PostgreSQL back").await;
    assert_recovers(&app, "/readyz", "PostgreSQL back").await;

    rd.pause();
    for path in ["/api/v1/me", "/readyz"] {
        assert_unavailable(&app, path, "Redis hangs").await;
    }
    assert_unavailable(&app, "/api/v1/me", "Redis hangs").await;
    rd.resume();
    assert_recovers(&app, "/api/v1/me", "Redis back").await;
    assert_recovers(&app, "/readyz", "Redis back").await;
    // The session survived the outage: nothing was lost.
    let body: serde_json::Value = timed_get(&app, "/api/v1/me").await.0.json().await.unwrap();
    assert!(body["username"].is_string(), "{body}");
}
