//! The status list at scale (issue 16, README "Status list at scale"), the store's side: the
//! time `status_bits()` takes to read the whole bit array (from `status_list_pages` alone) for
//! 1 and 10 million permits with 0.1 % and 1 % revoked at random indexes, on SQLite and, given
//! an admin URL, PostgreSQL (a database of its own, dropped at the end). The signing and the
//! verifier's side are `verifier/examples/status_list_scale.rs`.
//!
//! ```text
//! cargo run -p permit-api --example status_list_read -- \
//!     [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--permits 1000000,10000000]
//! ```
//!
//! Built like the tests (dependencies at opt-level 1, SQLite among them): the read is the
//! database's work and the copy of the pages. Each time is the best of 3 reads, checked against
//! the bits written. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use permit_api::credentials::status_list::model::{PAGE_BYTES, StatusBits, capacity_for};
use permit_api::platform::data_keys::DataKeys;
use permit_api::platform::storage::{self, Storage};
use rand::{Rng, SeedableRng};

#[derive(Parser)]
struct Args {
    /// A PostgreSQL admin URL: the store read is measured there too.
    #[arg(long)]
    postgres: Option<String>,
    /// Permit counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000000,10000000")]
    permits: Vec<u64>,
    /// Revoked fractions, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.001,0.01")]
    revoked: Vec<f64>,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The bit array of `permits` permits at random indexes (as issuing draws them), `revoked` of
/// them revoked: the revoked ones are as random over the capacity as the others.
fn bit_array(permits: u64, revoked: f64, rng: &mut impl Rng) -> StatusBits {
    let capacity = capacity_for(1 << 24, permits).expect("fits");
    let mut list = StatusBits::clear(1, capacity);
    let want = (permits as f64 * revoked).round() as u64;
    let mut set = 0;
    while set < want {
        let i = rng.gen_range(0..capacity);
        let (byte, mask) = ((i / 8) as usize, 1u8 << (i % 8));
        if list.bits[byte] & mask == 0 {
            list.bits[byte] |= mask;
            set += 1;
        }
    }
    list
}

/// Writes `list` as the store keeps it (capacity row and non-empty pages) straight into the
/// database behind `url`; answers how many pages.
async fn write_pages(url: &str, list: &StatusBits) -> usize {
    let pages: Vec<(i64, &[u8])> = list
        .bits
        .chunks(PAGE_BYTES)
        .enumerate()
        .filter(|(_, p)| p.iter().any(|b| *b != 0))
        .map(|(i, p)| (i as i64, p))
        .collect();
    macro_rules! write {
        ($pool:expr) => {{
            let pool = $pool;
            sqlx::query("DELETE FROM status_list_pages")
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("UPDATE status_list SET capacity = $1, version = version + 1 WHERE id = 1")
                .bind(list.len_bits as i64)
                .execute(&pool)
                .await
                .unwrap();
            for chunk in pages.chunks(500) {
                let mut tx = pool.begin().await.unwrap();
                for (page, bits) in chunk {
                    sqlx::query("INSERT INTO status_list_pages (page, bits) VALUES ($1, $2)")
                        .bind(*page)
                        .bind(bits.to_vec())
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            }
            pool.close().await;
        }};
    }
    if url.starts_with("sqlite:") {
        write!(sqlx::SqlitePool::connect(url).await.unwrap());
    } else {
        write!(sqlx::PgPool::connect(url).await.unwrap());
    }
    pages.len()
}

/// The best of 3 reads of the whole bit array through the store, checked against `list`.
async fn store_read(storage: &Arc<dyn Storage>, list: &StatusBits) -> Duration {
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let read = storage.status_bits().await.unwrap();
        fastest = fastest.min(t.elapsed());
        assert_eq!((read.len_bits, &read.bits), (list.len_bits, &list.bits));
    }
    fastest
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(DataKeys::load(keys_dir.path(), true).unwrap());
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = storage::open(None, sqlite_dir.path(), keys.clone())
        .await
        .unwrap();
    let sqlite_url = format!(
        "sqlite://{}",
        sqlite_dir.path().join("permit.sqlite").display()
    );
    let postgres = match &args.postgres {
        Some(admin) => {
            use sqlx::Connection;
            let name = format!("permit_scale_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            let pg = storage::open(
                Some(&url),
                std::path::Path::new("/nonexistent"),
                keys.clone(),
            )
            .await
            .unwrap();
            Some((admin.clone(), name, url, pg))
        }
        None => None,
    };

    println!("| permits | revoked | capacity | pages written | read SQLite | read PostgreSQL |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for &permits in &args.permits {
        for &revoked in &args.revoked {
            let list = bit_array(permits, revoked, &mut rng);
            let pages = write_pages(&sqlite_url, &list).await;
            let read_sqlite = store_read(&sqlite, &list).await;
            let read_pg = match &postgres {
                Some((_, _, url, pg)) => {
                    write_pages(url, &list).await;
                    ms(store_read(pg, &list).await)
                }
                None => "–".into(),
            };
            println!(
                "| {} | {} % | 2^{} | {} | {} | {} |",
                permits,
                revoked * 100.0,
                list.len_bits.trailing_zeros(),
                pages,
                ms(read_sqlite),
                read_pg,
            );
        }
    }
    if let Some((admin, name, _, pg)) = postgres {
        use sqlx::Connection;
        drop(pg);
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}
