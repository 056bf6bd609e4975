// The trust list and status list of the committed `valid` test vector, verified once.
#![allow(dead_code)] // each fuzz target uses part of the fixture

use chrono::{DateTime, Utc};
use permit_verifier::{StatusList, TrustList, VerifyOptions, ed25519_dalek::VerifyingKey};

pub struct Fixture {
    pub root: VerifyingKey,
    pub trust: TrustList,
    pub status: StatusList,
    pub options: VerifyOptions,
}

pub fn load() -> Fixture {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/valid.json")).expect("vector");
    let bytes = |k: &str| hex::decode(v[k].as_str().expect("hex")).expect("hex");
    let root_bytes: [u8; 32] = bytes("root_public_key_hex").try_into().expect("32 bytes");
    let root = VerifyingKey::from_bytes(&root_bytes).expect("root key");
    let trust = TrustList::from_cose(&bytes("trust_list_hex"), &root).expect("trust list");
    let status = StatusList::from_cose(&bytes("status_list_hex"), &trust).expect("status list");
    let at: DateTime<Utc> = v["at"].as_str().expect("at").parse().expect("time");
    Fixture { root, trust, status, options: VerifyOptions::at(at) }
}
