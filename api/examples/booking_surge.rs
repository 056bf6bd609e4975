//! Booking surge: N residents, each with an account and a submitted application, race for the
//! places of ONE morning at 清波派出所受理点 against a running permitd.
//!
//! It seeds straight through `permit_api::platform::storage` (fast, no captcha or SMS), logs every
//! client in over HTTP (each with its own cookie jar and connection), holds them at a barrier
//! and fires all booking requests at once. Then it checks the database: the slot's `booked`
//! column and the booked appointments of that day must both equal the places.
//!
//! ```text
//! cargo run --release -p permit-api --example booking_surge -- \
//!     --base-url http://127.0.0.1:8080 --database-url postgres://.../permit_load_x \
//!     --clients 1000 --places 300
//! ```
//!
//! The database must be fresh and permitd must have loaded the demo directory
//! (`PERMIT_DEMO=true`). Used by `tests/load/booking_surge.sh`. The last line of standard
//! output starting with `SUMMARY_JSON ` is the machine-readable result. The exit status is 0
//! only when booked = places, overbooked = 0, no 5xx and no transport error.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use clap::Parser;
use futures_util::StreamExt;
use permit_api::booking::calendar::Session;
use permit_api::booking::model::opening_of;
use permit_api::booking::service::working_calendar;
use permit_api::casework::applications::model::{
    ApplicationFields, BusinessType, MAX_MATERIALS, MAX_PEOPLE_PER_ACCOUNT, Material,
};
use permit_api::casework::materials::content::MaterialKind;
use permit_api::identity::model::{IdNumber, NewAccount, PhoneNumber, Role, Sex, check_character};
use permit_api::identity::password;
use permit_api::platform::clock::local_date;
use permit_api::platform::storage::{self, Storage};
use serde_json::{Value, json};
use uuid::Uuid;

const POINT_NAME: &str = "清波派出所受理点";
const STREET: &str = "330102001";
const DISTRICT: &str = "330102";
const PASSWORD: &str = "Surge2026load";

#[derive(Parser, Debug)]
#[command(about = "Booking surge against a running permitd")]
struct Args {
    /// Base URL of the running permitd.
    #[arg(
        long,
        env = "PERMIT_LOAD_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
    /// The database that permitd uses (postgres://... or sqlite://path).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// permitd's keys directory: the seeded people are sealed with its personal-data keys.
    #[arg(long, env = "PERMIT_KEYS_DIR")]
    keys_dir: std::path::PathBuf,
    /// Concurrent clients, each with its own account and application.
    #[arg(long, env = "PERMIT_LOAD_CLIENTS", default_value_t = 1000)]
    clients: usize,
    /// Places in the one bookable morning.
    #[arg(long, env = "PERMIT_LOAD_PLACES", default_value_t = 300)]
    places: i32,
    /// Logins in flight at once (each costs one argon2id verification on the server).
    #[arg(long, default_value_t = 64)]
    login_concurrency: usize,
    /// Seeding tasks in flight at once.
    #[arg(long, default_value_t = 16)]
    seed_concurrency: usize,
    /// Label for the report (defaults to the database URL's scheme).
    #[arg(long)]
    label: Option<String>,
    /// Per-request timeout of the booking burst, in seconds (a timeout counts as a transport
    /// error, never as a success).
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Seconds of calendar reads (`GET /applications/{id}/calendar`, every client's read before
    /// booking) before the burst, then as long of `GET /healthz` as the same run's floor; 0 skips.
    #[arg(long, default_value_t = 5)]
    calendar_secs: u64,
    /// Requests in flight at once during the calendar reads.
    #[arg(long, default_value_t = 64)]
    calendar_concurrency: usize,
}

/// Requests per second, latency percentiles and failures of a closed-loop read phase.
struct ReadPhase {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    failures: usize,
}

/// `concurrency` workers request `url_of(i)` (round robin over the clients) back to back for
/// `secs` seconds; anything but a 200 counts as a failure.
async fn read_phase(
    clients: &[Client],
    concurrency: usize,
    secs: u64,
    url_of: impl Fn(&Client) -> String + Sync,
) -> ReadPhase {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let t0 = Instant::now();
    let workers = (0..concurrency.max(1)).map(|_| async {
        let mut lat = Vec::new();
        let mut failures = 0;
        while Instant::now() < deadline {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % clients.len();
            let c = &clients[i];
            let started = Instant::now();
            match c.http.get(url_of(c)).send().await {
                Ok(r) if r.status().is_success() => {
                    if r.bytes().await.is_err() {
                        failures += 1;
                    }
                }
                _ => failures += 1,
            }
            lat.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        (lat, failures)
    });
    let done = futures_util::future::join_all(workers).await;
    let wall = t0.elapsed().as_secs_f64();
    let mut lat: Vec<f64> = done.iter().flat_map(|(l, _)| l.iter().copied()).collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        let rank = ((p / 100.0) * lat.len() as f64).ceil() as usize;
        lat.get(rank.clamp(1, lat.len().max(1)) - 1)
            .copied()
            .unwrap_or(0.0)
    };
    ReadPhase {
        rps: lat.len() as f64 / wall.max(f64::EPSILON),
        p50_ms: pct(50.0),
        p99_ms: pct(99.0),
        failures: done.iter().map(|(_, f)| f).sum(),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Client {
    username: String,
    application_id: Uuid,
    http: reqwest::Client,
}

struct Outcome {
    status: Option<u16>,
    started: Instant,
    latency: Duration,
    body: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("booking_surge: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// A distinct valid GB 11643 number for each `i`: district 330102, a birth date that moves
/// one day per thousand clients, a sequence number and the MOD 11-2 check character.
fn id_number(i: usize) -> (String, Sex) {
    let birth =
        NaiveDate::from_ymd_opt(1975, 1, 1).expect("date") + chrono::Days::new((i / 1000) as u64);
    let seq = i % 1000;
    let first17 = format!("{DISTRICT}{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_character(&first17).expect("17 digits");
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    (format!("{first17}{check}"), sex)
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, BoxError> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(Duration::from_secs(600))
        .timeout(timeout)
        .build()?)
}

async fn run(args: Args) -> Result<bool, BoxError> {
    let label = args.label.clone().unwrap_or_else(|| {
        if args.database_url.starts_with("postgres") {
            "postgres".into()
        } else {
            "sqlite".into()
        }
    });
    let base = args.base_url.trim_end_matches('/').to_string();
    let n = args.clients;
    let places = args.places;
    eprintln!(
        "[{label}] seeding {n} residents and applications into {}",
        redact(&args.database_url)
    );

    // ---- Seed through the storage layer. ----
    let t_seed = Instant::now();
    let keys = permit_api::platform::data_keys::DataKeys::load(&args.keys_dir, false)
        .map_err(|e| format!("keys: {e}"))?;
    let storage = storage::open(
        Some(&args.database_url),
        Path::new("."),
        std::sync::Arc::new(keys),
    )
    .await
    .map_err(|e| format!("open {}: {e}", redact(&args.database_url)))?;
    let point = storage
        .service_points(None)
        .await?
        .into_iter()
        .find(|p| p.name == POINT_NAME)
        .ok_or("清波派出所受理点 not found: start permitd with PERMIT_DEMO=true first")?;
    let community = storage
        .regions_under(Some(STREET))
        .await?
        .into_iter()
        .next()
        .ok_or("no community under 330102001: the demo directory is not loaded")?
        .code;
    // One argon2id hash for everybody: hashing is deliberately slow.
    let hash = password::hash(PASSWORD).map_err(|e| format!("hash: {e}"))?;
    let now = Utc::now();
    let storage_ref: &Arc<dyn Storage> = &storage;
    let seeded: Vec<Result<(String, Uuid), BoxError>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let hash = hash.clone();
            let community = community.clone();
            let point_id = point.id;
            async move {
                let (id, sex) = id_number(i);
                let id = IdNumber::parse(&id).map_err(|e| format!("ID number {id}: {e}"))?;
                let phone = format!("139{i:08}");
                let phone = PhoneNumber::parse(&phone).ok_or_else(|| format!("phone {phone}"))?;
                let username = format!("surge{i:06}");
                let account = storage_ref
                    .create_account(&NewAccount {
                        username: username.clone(),
                        password_hash: hash,
                        role: Role::Resident,
                        real_name: "压测居民".into(),
                        id_number: Some(id.clone()),
                        sex: Some(sex),
                        phone: Some(phone.clone()),
                        region_code: Some(community.clone()),
                        login_sms_required: false,
                    })
                    .await
                    .map_err(|e| format!("create account {username}: {e}"))?;
                let fields = ApplicationFields {
                    business_type: BusinessType::First,
                    applicant_name: "压测居民".into(),
                    applicant_id_number: id,
                    applicant_sex: sex,
                    phone,
                    district_code: DISTRICT.into(),
                    street_code: STREET.into(),
                    address_detail: format!("四宜路61号{}幢{}室", i / 100 + 1, i % 100 + 101),
                    community_code: community,
                    service_point_id: point_id,
                    employer: None,
                    condition: Some("employment".into()),
                };
                let application = permit_api::casework::service::create(
                    &**storage_ref,
                    account.id,
                    &fields,
                    MAX_PEOPLE_PER_ACCOUNT,
                    now,
                )
                .await
                .map_err(|e| format!("create application {i}: {e}"))?;
                storage_ref
                    .add_material(
                        &Material {
                            id: Uuid::new_v4(),
                            application_id: application.id,
                            object_key: format!("load/{}/contract.pdf", application.id),
                            kind: MaterialKind::Pdf,
                            size_bytes: 1024,
                            file_name: "劳动合同.pdf".into(),
                            sha256: "0".repeat(64),
                            created_at: now,
                        },
                        MAX_MATERIALS,
                    )
                    .await
                    .map_err(|e| format!("add material {}: {e}", application.number))?
                    .ok_or_else(|| format!("add material {}: refused", application.number))?;
                storage_ref
                    .submit_application(account.id, application.id, now)
                    .await
                    .map_err(|e| format!("submit {}: {e}", application.number))?
                    .ok_or_else(|| format!("submit {}: not submittable", application.number))?;
                Ok::<_, BoxError>((username, application.id))
            }
        })
        .buffer_unordered(args.seed_concurrency.max(1))
        .collect()
        .await;
    let mut residents = Vec::with_capacity(n);
    for r in seeded {
        residents.push(r?);
    }

    // ---- Exactly `places` places in the window: one morning, 0 everywhere else. ----
    let opening = opening_of(&point)?;
    let calendar = working_calendar(&*storage).await?;
    let window = calendar.booking_window(&opening, local_date(now));
    let day = window
        .first()
        .ok_or("the booking window is empty (calendar years unknown?)")?;
    // Default capacity 0 for both sessions of every day, then `places` on the chosen morning.
    storage.set_opening(point.id, &opening, 0, 0).await?;
    storage
        .set_slot_capacity(point.id, day, Session::Morning, Some(places))
        .await?;
    let seed_secs = t_seed.elapsed().as_secs_f64();
    eprintln!(
        "[{label}] seeded in {seed_secs:.1}s; window {:?} .. {:?}, booking day {day} ({:?}) morning, {places} places",
        window.first(),
        window.last(),
        day.weekday()
    );

    // ---- Log every client in over HTTP. ----
    let t_login = Instant::now();
    let timeout = Duration::from_secs(args.timeout_secs);
    let base_ref = &base;
    let logged: Vec<Result<Client, BoxError>> = futures_util::stream::iter(residents)
        .map(|(username, application_id)| async move {
            let http = http_client(timeout)?;
            let r = http
                .post(format!("{base_ref}/api/v1/sessions"))
                .json(&json!({"username": username, "password": PASSWORD}))
                .send()
                .await
                .map_err(|e| format!("login {username}: {e}"))?;
            let status = r.status();
            if !status.is_success() {
                let body = r.text().await.unwrap_or_default();
                return Err(format!("login {username}: {status} {body}").into());
            }
            // Drain the body so the connection goes back to the client's pool for the burst.
            r.bytes().await?;
            Ok::<_, BoxError>(Client {
                username,
                application_id,
                http,
            })
        })
        .buffer_unordered(args.login_concurrency.max(1))
        .collect()
        .await;
    let mut clients = Vec::with_capacity(n);
    for c in logged {
        clients.push(c?);
    }
    let login_secs = t_login.elapsed().as_secs_f64();
    eprintln!("[{label}] {n} clients logged in in {login_secs:.1}s");

    // ---- What the first client's calendar shows: places only on the chosen morning. ----
    let first = &clients[0];
    let cal: Value = first
        .http
        .get(format!(
            "{base}/api/v1/applications/{}/calendar",
            first.application_id
        ))
        .send()
        .await?
        .json()
        .await?;
    let day_text = day.to_string();
    let bookable: Vec<String> = cal["bookable_days"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut offered = 0i64;
    let mut on_day = None;
    for d in cal["days"].as_array().into_iter().flatten() {
        let remaining = d["remaining"].as_i64().unwrap_or(0);
        offered += remaining;
        if d["date"].as_str() == Some(day_text.as_str()) {
            on_day = Some(remaining);
        }
    }
    if !bookable.contains(&day_text)
        || on_day != Some(i64::from(places))
        || offered != i64::from(places)
    {
        return Err(format!(
            "the calendar over HTTP disagrees with the setup: bookable {bookable:?}, {day_text} remaining {on_day:?}, \
             places offered in the window {offered} (expected {places}): {cal}"
        )
        .into());
    }
    eprintln!(
        "[{label}] calendar over HTTP: bookable {bookable:?}; {offered} places offered, all on {day_text} morning"
    );

    // ---- Calendar reads at a steady pace, then the no-op endpoint as the floor. ----
    let (calendar_reads, floor) = if args.calendar_secs > 0 {
        let cal = read_phase(
            &clients,
            args.calendar_concurrency,
            args.calendar_secs,
            |c| format!("{base}/api/v1/applications/{}/calendar", c.application_id),
        )
        .await;
        let floor = read_phase(
            &clients,
            args.calendar_concurrency,
            args.calendar_secs,
            |_| format!("{base}/healthz"),
        )
        .await;
        eprintln!(
            "[{label}] calendar reads: {:.0} req/s (p50 {:.1} ms, p99 {:.1} ms, {} failed); /healthz {:.0} req/s",
            cal.rps, cal.p50_ms, cal.p99_ms, cal.failures, floor.rps
        );
        (Some(cal), Some(floor))
    } else {
        (None, None)
    };

    // ---- The surge: everybody at once. ----
    let barrier = Arc::new(tokio::sync::Barrier::new(n + 1));
    let body = json!({"date": day_text, "session": "morning"});
    let mut tasks = Vec::with_capacity(n);
    for c in clients {
        let barrier = barrier.clone();
        let body = body.clone();
        let url = format!(
            "{base}/api/v1/applications/{}/appointment",
            c.application_id
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let started = Instant::now();
            let r = c.http.put(&url).json(&body).send().await;
            let (status, text) = match r {
                Ok(r) => {
                    let s = r.status().as_u16();
                    match r.text().await {
                        Ok(t) => (Some(s), t),
                        Err(e) => (None, format!("{}: reading body after {s}: {e}", c.username)),
                    }
                }
                Err(e) => (None, format!("{}: {e:?}", c.username)),
            };
            Outcome {
                status,
                started,
                latency: started.elapsed(),
                body: text,
            }
        }));
    }
    barrier.wait().await;
    let t0 = Instant::now();
    let mut outcomes = Vec::with_capacity(n);
    for t in tasks {
        outcomes.push(t.await?);
    }
    let wall = outcomes
        .iter()
        .map(|o| (o.started + o.latency).saturating_duration_since(t0))
        .max()
        .unwrap_or_default();

    // ---- Tally. ----
    let mut lat: Vec<f64> = outcomes
        .iter()
        .map(|o| o.latency.as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * lat.len() as f64).ceil() as usize;
        lat[rank.clamp(1, lat.len()) - 1]
    };
    let (mut ok2xx, mut full409, mut other4xx, mut s5xx, mut transport) = (0, 0, 0, 0, 0);
    let mut samples: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        let code = serde_json::from_str::<Value>(&o.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(String::from));
        match o.status {
            Some(s) if (200..300).contains(&s) => ok2xx += 1,
            Some(409) if code.as_deref() == Some("slot_full") => full409 += 1,
            Some(s) => {
                if (500..600).contains(&s) {
                    s5xx += 1;
                } else {
                    other4xx += 1;
                }
                *samples.entry(format!("{s} {}", o.body)).or_default() += 1;
            }
            None => {
                transport += 1;
                // Keep the error kind, not the username, so equal errors group together.
                let kind = o.body.split_once(": ").map(|x| x.1).unwrap_or(&o.body);
                *samples.entry(format!("transport {kind}")).or_default() += 1;
            }
        }
    }
    let throughput = n as f64 / wall.as_secs_f64().max(1e-9);

    // ---- Check the database. ----
    let (slot_booked, slot_capacity, appointments, appointments_anywhere) =
        db_check(&args.database_url, point.id, day).await?;
    let overbooked = (appointments - i64::from(places)).max(0);
    let pass = ok2xx == places as usize
        && i64::from(slot_booked) == i64::from(places)
        && appointments == i64::from(places)
        && appointments_anywhere == appointments
        && overbooked == 0
        && s5xx == 0
        && transport == 0
        && calendar_reads.as_ref().is_none_or(|c| c.failures == 0);

    let summary = json!({
        "backend": label,
        "clients": n,
        "places": places,
        "day": day_text,
        "seed_s": round(seed_secs, 2),
        "login_s": round(login_secs, 2),
        "wall_s": round(wall.as_secs_f64(), 4),
        "throughput_rps": round(throughput, 1),
        "p50_ms": round(pct(50.0), 2),
        "p99_ms": round(pct(99.0), 2),
        "max_ms": round(lat.last().copied().unwrap_or(0.0), 2),
        "booked_2xx": ok2xx,
        "slot_full_409": full409,
        "other_4xx": other4xx,
        "status_5xx": s5xx,
        "transport_errors": transport,
        "db_slot_booked": slot_booked,
        "db_slot_capacity": slot_capacity,
        "db_appointments_booked": appointments,
        "db_appointments_booked_any_day": appointments_anywhere,
        "overbooked": overbooked,
        "calendar_rps": calendar_reads.as_ref().map(|c| round(c.rps, 0)),
        "calendar_p50_ms": calendar_reads.as_ref().map(|c| round(c.p50_ms, 2)),
        "calendar_p99_ms": calendar_reads.as_ref().map(|c| round(c.p99_ms, 2)),
        "calendar_failures": calendar_reads.as_ref().map(|c| c.failures),
        "healthz_rps": floor.as_ref().map(|f| round(f.rps, 0)),
        "pass": pass,
    });

    println!("Booking surge: {label}");
    println!("  {:<28} {}", "backend", label);
    println!("  {:<28} {}", "clients", n);
    println!(
        "  {:<28} {} ({day_text} morning, {POINT_NAME})",
        "places", places
    );
    println!(
        "  {:<28} {:.1} s / {:.1} s",
        "seeding / logins", seed_secs, login_secs
    );
    println!("  {:<28} {:.3} s", "wall time (burst)", wall.as_secs_f64());
    println!("  {:<28} {:.1} req/s", "throughput", throughput);
    println!("  {:<28} {:.1} ms", "p50 latency", pct(50.0));
    println!("  {:<28} {:.1} ms", "p99 latency", pct(99.0));
    println!(
        "  {:<28} {:.1} ms",
        "max latency",
        lat.last().copied().unwrap_or(0.0)
    );
    println!("  {:<28} {}", "booked (2xx)", ok2xx);
    println!("  {:<28} {}", "refused as full (409)", full409);
    println!("  {:<28} {}", "other 4xx", other4xx);
    println!("  {:<28} {}", "5xx", s5xx);
    println!("  {:<28} {}", "transport errors", transport);
    println!(
        "  {:<28} booked column {slot_booked} / capacity {slot_capacity:?}; appointments 'booked' {appointments} (any day: {appointments_anywhere})",
        "database"
    );
    println!("  {:<28} {}", "overbooked", overbooked);
    println!("  {:<28} {}", "result", if pass { "PASS" } else { "FAIL" });
    if !samples.is_empty() {
        println!("  unexpected responses (count, status, body):");
        for (what, count) in samples.iter().take(20) {
            println!("    {count:>5} × {}", truncate(what, 400));
        }
    }
    println!("SUMMARY_JSON {summary}");
    Ok(pass)
}

async fn db_check(
    url: &str,
    point: Uuid,
    day: NaiveDate,
) -> Result<(i32, Option<i32>, i64, i64), BoxError> {
    const SLOT: &str = "SELECT booked, capacity FROM slots WHERE service_point_id = $1 AND day = $2 AND session = 'morning'";
    const ON_DAY: &str = "SELECT COUNT(*) FROM appointments WHERE service_point_id = $1 AND day = $2 AND session = 'morning' AND status = 'booked'";
    const ANYWHERE: &str = "SELECT COUNT(*) FROM appointments WHERE status = 'booked'";
    if url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        let (booked, capacity): (i32, Option<i32>) = sqlx::query_as(SLOT)
            .bind(point)
            .bind(day)
            .fetch_one(&pool)
            .await?;
        let on_day: i64 = sqlx::query_scalar(ON_DAY)
            .bind(point)
            .bind(day)
            .fetch_one(&pool)
            .await?;
        let any: i64 = sqlx::query_scalar(ANYWHERE).fetch_one(&pool).await?;
        Ok((booked, capacity, on_day, any))
    } else {
        use std::str::FromStr;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let (booked, capacity): (i32, Option<i32>) = sqlx::query_as(SLOT)
            .bind(point)
            .bind(day)
            .fetch_one(&pool)
            .await?;
        let on_day: i64 = sqlx::query_scalar(ON_DAY)
            .bind(point)
            .bind(day)
            .fetch_one(&pool)
            .await?;
        let any: i64 = sqlx::query_scalar(ANYWHERE).fetch_one(&pool).await?;
        Ok((booked, capacity, on_day, any))
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
