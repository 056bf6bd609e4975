//! Any input as a signed trust list or status list: parsing must never panic and never accept.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use permit_verifier::{StatusList, TrustList};

#[path = "fixture.rs"]
mod fixture;

fuzz_target!(|data: &[u8]| {
    static F: OnceLock<fixture::Fixture> = OnceLock::new();
    let f = F.get_or_init(fixture::load);
    assert!(TrustList::from_cose(data, &f.root).is_err());
    assert!(StatusList::from_cose(data, &f.trust).is_err());
});
