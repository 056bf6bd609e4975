//! The signed lists verifiers download (the trust list, signed by the root key; the status
//! list, signed by the current issuer key) as the server keeps them between requests.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use permit_verifier::{StatusList, TrustList};
use sha2::{Digest, Sha256};

/// Signed bytes kept until their content changes or half their time to live has passed, so
/// caches and ETags see the same bytes in between; with them the list as read back from those
/// bytes, so a request does not verify our own signature again.
#[derive(Default)]
pub struct Lists {
    pub(super) trust: Mutex<Option<Signed<TrustList>>>,
    pub(super) status: Mutex<Option<Signed<StatusList>>>,
}

/// One signing of a list.
#[derive(Clone)]
pub struct Signed<L> {
    /// What was signed, to tell when it changed.
    pub(super) content: String,
    pub issued_at: DateTime<Utc>,
    pub ttl: u64,
    pub bytes: Vec<u8>,
    pub list: L,
}

impl<L> Signed<L> {
    pub fn etag(&self) -> String {
        format!("\"{}\"", &hex::encode(Sha256::digest(&self.bytes))[..32])
    }
    pub(super) fn fresh(&self, content: &str, now: DateTime<Utc>) -> bool {
        self.content == content && (now - self.issued_at).num_seconds() < (self.ttl / 2) as i64
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
