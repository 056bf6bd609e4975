//! The status list at scale (issue 16, README "Status list at scale"): for 1 and 10 million
//! permits with 0.1 % and 1 % revoked at random indexes, the size of the signed list, the time
//! to produce it from the bit array as permitd's store returns it (`StatusList::from_bits`, zlib
//! at the best level, the COSE signature), and a verifier's parse (signature check and inflate)
//! and lookup times (one lookup's latency: each index depends on the answer before).
//!
//! ```text
//! cargo run --release -p permit-verifier --features issue --example status_list_scale
//! ```
//!
//! The capacity follows permitd's rule (`credentials::status_list::model::capacity_for`): 2^24
//! indexes, doubled while more than half would be taken. Each time is the best of a few rounds,
//! wall clock. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta};
use permit_verifier::ed25519_dalek::SigningKey;
use permit_verifier::{Issuer, StatusList, TrustList};

/// SplitMix64: reproducible draws without a dependency.
struct Draws(u64);

impl Draws {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((u128::from(z ^ (z >> 31)) * u128::from(n)) >> 64) as u64
    }
}

fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut fastest = Duration::MAX;
    let mut out = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let v = black_box(f());
        fastest = fastest.min(t.elapsed());
        out = Some(v);
    }
    (fastest, out.unwrap())
}

fn capacity_for(permits: u64) -> u64 {
    let mut capacity = 1u64 << 24;
    while permits * 2 > capacity {
        capacity *= 2;
    }
    capacity
}

fn main() {
    let mut args = std::env::args().skip(1);
    let permits: Vec<u64> = args
        .next()
        .map(|s| s.split(',').map(|n| n.parse().unwrap()).collect())
        .unwrap_or_else(|| vec![1_000_000, 10_000_000]);
    let lookups = 1_000_000u64;
    let root = SigningKey::from_bytes(&[1u8; 32]);
    let issuer = Issuer::from_secret(&[2u8; 32], "CN-ZJ");
    let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let trust_bytes = TrustList::new(
        "root",
        now - TimeDelta::days(1),
        7 * 86400,
        vec![issuer.trusted_key(now - TimeDelta::days(30), None)],
    )
    .to_cose(&root)
    .unwrap();
    let trust = TrustList::from_cose(&trust_bytes, &root.verifying_key()).unwrap();
    let mut draws = Draws(16);

    println!(
        "| permits | revoked | capacity | bit array | signed list | produce (bits → COSE) | verifier parse | lookup |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in &permits {
        for revoked in [0.001f64, 0.01] {
            let capacity = capacity_for(n);
            let mut bits = vec![0u8; (capacity / 8) as usize];
            let want = (n as f64 * revoked).round() as u64;
            let mut set = 0;
            while set < want {
                let i = draws.below(capacity);
                let (byte, mask) = ((i / 8) as usize, 1u8 << (i % 8));
                if bits[byte] & mask == 0 {
                    bits[byte] |= mask;
                    set += 1;
                }
            }
            let (produce, signed) = best(3, || {
                StatusList::from_bits("CN-ZJ", now, 86400, bits.clone())
                    .unwrap()
                    .to_cose(&issuer)
                    .unwrap()
            });
            let (parse, list) = best(5, || StatusList::from_cose(&signed, &trust).unwrap());
            assert_eq!(list.len(), capacity);
            assert_eq!(list.revoked_indices().count() as u64, want);
            // Each lookup's index depends on the previous answer (an LCG over the capacity, a
            // power of two), so this is one lookup's latency, not the throughput of many.
            let (lookup, hits) = best(3, || {
                let (mut x, mut hits) = (draws.below(u64::MAX), 0u64);
                for _ in 0..lookups {
                    let revoked = list.is_revoked(x & (capacity - 1)) == Some(true);
                    hits += u64::from(revoked);
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407 + u64::from(revoked));
                    x ^= x >> 29;
                }
                hits
            });
            black_box(hits);
            println!(
                "| {} | {} % | 2^{} | {} KiB | {:.1} KiB ({} B) | {:.1} ms | {:.1} ms | {:.1} ns |",
                n,
                revoked * 100.0,
                capacity.trailing_zeros(),
                bits.len() / 1024,
                signed.len() as f64 / 1024.0,
                signed.len(),
                produce.as_secs_f64() * 1e3,
                parse.as_secs_f64() * 1e3,
                lookup.as_secs_f64() * 1e9 / lookups as f64,
            );
        }
    }
}
