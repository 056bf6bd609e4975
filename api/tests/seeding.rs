//! First-start seeding is crash-safe and happens once: each seed set (regions, the working-day
//! calendar, the demo directory with its staff) is written in one transaction with its marker,
//! so a seeding that never commits leaves nothing and is redone at the next start, and
//! instances starting at once on an empty database come up with exactly one copy. SQLite
//! always, PostgreSQL too when PERMIT_TEST_POSTGRES_URL is set.

mod common;

use std::path::Path;
use std::sync::Arc;

use permit_api::directory::seed;
use permit_api::platform::app;
use permit_api::platform::config::{Config, Secret};
use permit_api::platform::storage::{self, Storage, claim_marker};

/// One database, twice: SQLite files in one data directory, or one PostgreSQL database, each
/// opened by its own pool as two instances would.
async fn two_handles() -> Vec<(
    &'static str,
    [Arc<dyn Storage>; 2],
    Config,
    tempfile::TempDir,
)> {
    let mut out = Vec::new();
    let sqlite_dir = tempfile::tempdir().unwrap();
    let mut config = instance_config(sqlite_dir.path(), None);
    out.push(("sqlite", handles(&config).await, config.clone(), sqlite_dir));
    if let Some(admin) = common::postgres_admin_url() {
        let dir = tempfile::tempdir().unwrap();
        let url = common::fresh_postgres(&admin).await;
        config = instance_config(dir.path(), Some(url));
        out.push(("postgres", handles(&config).await, config.clone(), dir));
    }
    out
}

/// What each instance of a test starts with: demo mode, one data and keys directory.
fn instance_config(data_dir: &Path, database_url: Option<String>) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        database_url: database_url.map(Secret::new),
        demo: true,
        // Two permitd against one PostgreSQL need a shared Redis for their sessions, not for
        // seeding: the tests start them without one.
        single_instance: true,
        captcha_difficulty: 200,
        webauthn_rp_id: "localhost".into(),
        webauthn_origin: common::ORIGIN.into(),
        ..Config::default()
    }
}

/// Opens the database twice; the first open creates the schema (and the keys), so the two
/// instances of a test meet over seeding only.
async fn handles(config: &Config) -> [Arc<dyn Storage>; 2] {
    permit_api::credentials::keys::KeyRing::load_or_create(
        &config.keys_dir(),
        &config.issuer_name,
        chrono::Utc::now(),
    )
    .unwrap();
    let first = storage::open_configured(config).await.unwrap();
    let second = storage::open_configured(config).await.unwrap();
    [first, second]
}

#[tokio::test]
async fn a_demo_seeding_that_never_commits_leaves_nothing_and_is_redone() {
    for (backend, [db, _], _, _dir) in two_handles().await {
        let mut tx = db.begin().await.unwrap();
        assert!(seed::claim_demo(&mut tx).await.unwrap(), "{backend}");
        let points = seed::demo_directory_in(&mut tx).await.unwrap();
        assert_eq!(points.len(), 7);
        // The instance dies here, before its commit.
        drop(tx);
        assert!(
            db.service_points(None).await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(db.articles(None).await.unwrap().is_empty(), "{backend}");

        assert!(
            seed::load_demo_directory(&*db).await.unwrap(),
            "{backend}: the next start seeds again"
        );
        assert_eq!(db.service_points(None).await.unwrap().len(), 7, "{backend}");
        assert!(!db.articles(None).await.unwrap().is_empty(), "{backend}");
        assert!(!seed::load_demo_directory(&*db).await.unwrap(), "{backend}");
        assert_eq!(db.service_points(None).await.unwrap().len(), 7, "{backend}");
    }
}

#[tokio::test]
async fn a_region_seeding_that_never_commits_is_redone() {
    for (backend, [db, _], _, _dir) in two_handles().await {
        // A start that claimed the region marker, then died before its commit.
        let mut tx = db.begin().await.unwrap();
        assert!(
            claim_marker(&mut tx, "regions_seed_loaded").await.unwrap(),
            "{backend}"
        );
        drop(tx);
        assert!(
            db.regions_under(None).await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(seed::load_regions_once(&*db).await.unwrap(), "{backend}");
        let streets = db.regions_under(Some("330102")).await.unwrap();
        assert!(streets.len() >= 14, "{backend}");
        assert!(!seed::load_regions_once(&*db).await.unwrap(), "{backend}");
    }
}

#[tokio::test]
async fn concurrent_seeders_write_exactly_one_copy() {
    for (backend, [a, b], _, _dir) in two_handles().await {
        let (x, y) = tokio::join!(seed::load_regions_once(&*a), seed::load_regions_once(&*b));
        assert_eq!(
            [x.unwrap(), y.unwrap()].iter().filter(|t| **t).count(),
            1,
            "{backend}: one loads the regions"
        );
        let (x, y) = tokio::join!(
            seed::load_demo_directory(&*a),
            seed::load_demo_directory(&*b)
        );
        assert_eq!(
            [x.unwrap(), y.unwrap()].iter().filter(|t| **t).count(),
            1,
            "{backend}: one loads the directory"
        );
        assert_eq!(a.service_points(None).await.unwrap().len(), 7, "{backend}");
        assert_eq!(
            b.articles(None).await.unwrap().len(),
            seed::articles().unwrap().len(),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn two_instances_starting_at_once_come_up_with_one_demo_copy() {
    for (backend, [db, _], config, _dir) in two_handles().await {
        let (x, y) = tokio::join!(
            app::build_state(config.clone()),
            app::build_state(config.clone())
        );
        let (x, y) = (x.expect(backend), y.expect(backend));
        let points = db.service_points(None).await.unwrap();
        assert_eq!(points.len(), 7, "{backend}");
        let articles = db.articles(None).await.unwrap();
        assert_eq!(articles.len(), seed::articles().unwrap().len(), "{backend}");
        let calendar = db.calendar().await.unwrap();
        assert!(
            !calendar.known_years().is_empty(),
            "{backend}: the calendar is loaded"
        );
        let clerk = db.account_by_username("clerk").await.expect(backend);
        assert_eq!(
            db.staff_service_points(clerk.id).await.unwrap(),
            vec![
                points
                    .iter()
                    .find(|p| p.name == "清波派出所受理点")
                    .unwrap()
                    .id
            ],
            "{backend}: the clerk works at 清波, once"
        );
        db.account_by_username("admin").await.expect(backend);
        drop((x, y));
    }
}
