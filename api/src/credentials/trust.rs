//! The signed lists verifiers download (the trust list, signed by the root key; the status
//! list, signed by the current issuer key) as this process last read them from the database.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use permit_verifier::{StatusList, TrustList};
use sha2::{Digest, Sha256};

/// The version of each list this process last served, read back from its bytes, so a request
/// neither reads the bytes from the database nor verifies the signature again while the
/// version in the database is the same.
#[derive(Default)]
pub struct Lists {
    pub(super) trust: Mutex<Option<Signed<TrustList>>>,
    pub(super) status: Mutex<Option<Signed<StatusList>>>,
}

/// One signing of a list, as published in the database.
#[derive(Clone)]
pub struct Signed<L> {
    pub version: i64,
    pub issued_at: DateTime<Utc>,
    pub ttl: u64,
    pub bytes: Vec<u8>,
    pub list: L,
}

impl<L> Signed<L> {
    /// The same bytes give the same ETag on every instance.
    pub fn etag(&self) -> String {
        format!("\"{}\"", &hex::encode(Sha256::digest(&self.bytes))[..32])
    }
    pub fn max_age(&self, now: DateTime<Utc>) -> i64 {
        (self.ttl as i64 - (now - self.issued_at).num_seconds()).max(0)
    }
}

pub(super) fn cached<L: Clone>(slot: &Mutex<Option<Signed<L>>>) -> Option<Signed<L>> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(super) fn keep<L>(slot: &Mutex<Option<Signed<L>>>, s: Signed<L>) {
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
}
