//! The signed trust and status lists, signed again when their content changes or half their
//! time to live has passed, and online verification of a QR text against them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use permit_verifier::{StatusList, TrustList, Verification, VerifyOptions};

use super::{CredentialError, Result};
use crate::credentials::keys::KeyRing;
use crate::credentials::trust::{Lists, Signed, cached, keep};
use crate::platform::storage::Storage;

/// What reading or signing the lists needs.
#[derive(Clone, Copy)]
pub struct ListSigning<'a> {
    pub storage: &'a dyn Storage,
    pub keys: &'a KeyRing,
    pub lists: &'a Lists,
    pub trust_ttl: u64,
    pub status_ttl: u64,
    pub now: DateTime<Utc>,
}

/// A list as served: read back from its signed bytes, with its ETag and remaining max-age.
pub struct SignedList<L> {
    pub list: L,
    pub bytes: Vec<u8>,
    pub etag: String,
    pub max_age: i64,
}

fn signing_failed(e: impl std::fmt::Display) -> CredentialError {
    tracing::error!(error = %e, "signing a list");
    CredentialError::Signing
}

fn served<L>(signed: Signed<L>, now: DateTime<Utc>) -> SignedList<L> {
    let (etag, max_age) = (signed.etag(), signed.max_age(now));
    SignedList {
        list: signed.list,
        bytes: signed.bytes,
        etag,
        max_age,
    }
}

/// The current trust list and its signed bytes.
pub async fn trust_list(l: ListSigning<'_>) -> Result<SignedList<TrustList>> {
    let now = l.now;
    let usage: HashMap<String, DateTime<Utc>> = l.storage.key_usage().await?.into_iter().collect();
    let ttl = l.trust_ttl;
    let list = l.keys.trust_list(&usage, now, ttl);
    let content: String = list
        .keys
        .iter()
        .map(|k| hex::encode(k.kid))
        .collect::<Vec<_>>()
        .join(",");
    let signed = match cached(&l.lists.trust).filter(|s| s.fresh(&content, now)) {
        Some(s) => s,
        None => {
            let bytes = list.to_cose(&l.keys.root).map_err(signing_failed)?;
            // Read back as a verifier would, once per signing.
            let list = TrustList::from_cose(&bytes, &l.keys.root.verifying_key())
                .map_err(signing_failed)?;
            let s = Signed {
                content,
                issued_at: now,
                ttl,
                bytes,
                list,
            };
            keep(&l.lists.trust, s.clone());
            s
        }
    };
    Ok(served(signed, now))
}

/// The current status list and its signed bytes.
pub async fn status_list(l: ListSigning<'_>, trust: &TrustList) -> Result<SignedList<StatusList>> {
    let now = l.now;
    let version = l.storage.status_list_version().await?;
    let ttl = l.status_ttl;
    let content = format!("v{version}");
    let signed = match cached(&l.lists.status).filter(|s| s.fresh(&content, now)) {
        Some(s) => s,
        None => {
            let bits = l.storage.status_bits().await?;
            let content = format!("v{}", bits.version);
            let list = StatusList::from_bits(l.keys.name.clone(), now, ttl, bits.bits)
                .map_err(signing_failed)?;
            let bytes = list.to_cose(l.keys.active()).map_err(signing_failed)?;
            let list = StatusList::from_cose(&bytes, trust).map_err(signing_failed)?;
            let s = Signed {
                content,
                issued_at: now,
                ttl,
                bytes,
                list,
            };
            keep(&l.lists.status, s.clone());
            s
        }
    };
    Ok(served(signed, now))
}

/// Online verification of a QR text against the current lists, as the counters do offline.
/// A QR whose signature shows it is one of our permits is recorded, with the verifier's
/// declared name, for its holder's access log.
pub async fn verify(
    l: ListSigning<'_>,
    qr_text: &str,
    verifier_name: Option<&str>,
) -> Result<Verification> {
    let trust = trust_list(l).await?.list;
    let status = status_list(l, &trust).await?.list;
    let v = permit_verifier::verify(
        qr_text.trim(),
        &trust,
        Some(&status),
        &VerifyOptions::at(l.now),
    );
    if let Some(p) = &v.permit {
        l.storage
            .record_verification(&p.permit_number, l.now, verifier_name)
            .await?;
    }
    Ok(v)
}
