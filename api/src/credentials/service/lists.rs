//! The signed trust and status lists, signed once per version for every instance, and online
//! verification of a QR text against them.
//!
//! The current version of each list lives in the database (`signed_lists`). A request reads
//! the newest version's head; while its content is what the list says now and less than half
//! its time to live has passed, every instance serves those bytes (and so the same ETag). When
//! the content changed or the version aged, the instance that notices signs the next version;
//! the primary key lets one instance publish it, and the others serve the winner's bytes.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use permit_verifier::{StatusList, TrustList, Verification, VerifyOptions};

use super::{CredentialError, Result};
use crate::credentials::keys::{KeyRing, SigningKeys};
use crate::credentials::signing::{ListKind, PublishedList};
use crate::credentials::trust::{Lists, Signed, cached, keep};
use crate::platform::storage::{Storage, StorageError};

/// What reading or signing the lists needs.
#[derive(Clone, Copy)]
pub struct ListSigning<'a> {
    pub storage: &'a dyn Storage,
    pub keys: &'a SigningKeys,
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

/// Whether the published version still serves: the same content, and signed less than half
/// its time to live ago (a version from a clock ahead of ours is signed again).
fn serves(head: &PublishedList, content: &str, now: DateTime<Utc>) -> bool {
    let age = (now - head.issued_at).num_seconds();
    head.content == content && (0..head.ttl_seconds / 2).contains(&age)
}

/// One list's signing: what it says now, how to sign it and how to read signed bytes back.
struct Publication<'a, L> {
    kind: ListKind,
    slot: &'a Mutex<Option<Signed<L>>>,
    content: String,
    ttl: u64,
    sign: &'a (dyn Fn() -> Result<Vec<u8>> + Sync),
    read: &'a (dyn Fn(&[u8]) -> Result<L> + Sync),
}

/// The version to serve: the published one while it serves, else a new one signed here (or
/// the one another instance published first).
async fn publish<L: Clone>(
    storage: &dyn Storage,
    head: Option<PublishedList>,
    p: Publication<'_, L>,
    now: DateTime<Utc>,
) -> Result<Signed<L>> {
    if let Some(h) = head.as_ref().filter(|h| serves(h, &p.content, now)) {
        match from_database(storage, &p, h).await {
            // Removed as too old between the two reads: sign anew.
            Err(CredentialError::NotFound) => {}
            other => return other,
        }
    }
    let row = PublishedList {
        version: head.as_ref().map_or(1, |h| h.version + 1),
        content: p.content.clone(),
        issued_at: now,
        ttl_seconds: p.ttl as i64,
    };
    let bytes = (p.sign)()?;
    // Read back as a verifier would, once per signing.
    let list = (p.read)(&bytes)?;
    if storage.publish_list(p.kind, &row, &bytes).await? {
        let s = Signed {
            version: row.version,
            issued_at: now,
            ttl: p.ttl,
            bytes,
            list,
        };
        keep(p.slot, s.clone());
        return Ok(s);
    }
    // Another instance published this version first: serve its bytes.
    let head = storage
        .published_list(p.kind)
        .await?
        .ok_or(StorageError::NotFound)?;
    from_database(storage, &p, &head).await
}

/// The published version `head`, from this process's copy when it is that version.
async fn from_database<L: Clone>(
    storage: &dyn Storage,
    p: &Publication<'_, L>,
    head: &PublishedList,
) -> Result<Signed<L>> {
    if let Some(c) = cached(p.slot).filter(|c| c.version == head.version) {
        return Ok(c);
    }
    let bytes = storage.published_bytes(p.kind, head.version).await?;
    let s = Signed {
        version: head.version,
        issued_at: head.issued_at,
        ttl: u64::try_from(head.ttl_seconds).unwrap_or(0),
        list: (p.read)(&bytes)?,
        bytes,
    };
    keep(p.slot, s.clone());
    Ok(s)
}

/// The trust list the key set gives now, and its content.
async fn trust_content(l: ListSigning<'_>, ring: &KeyRing) -> Result<(TrustList, String)> {
    let usage: HashMap<String, DateTime<Utc>> = l.storage.key_usage().await?.into_iter().collect();
    let list = ring.trust_list(&usage, l.now, l.trust_ttl);
    let content = KeyRing::trust_content(&list);
    Ok((list, content))
}

/// The current trust list and its signed bytes.
pub async fn trust_list(l: ListSigning<'_>) -> Result<SignedList<TrustList>> {
    let mut ring = l.keys.ring(l.storage).await?;
    let (mut list, mut content) = trust_content(l, &ring).await?;
    let head = l.storage.published_list(ListKind::Trust).await?;
    if head.as_ref().is_some_and(|h| h.content != content) {
        // Another instance may have read a newer schedule: read it too before signing, so two
        // instances do not publish their two views in turn.
        ring = l.keys.refreshed(l.storage).await?;
        (list, content) = trust_content(l, &ring).await?;
    }
    let root = ring.root.clone();
    let sign = || list.to_cose(&root).map_err(signing_failed);
    let read =
        |bytes: &[u8]| TrustList::from_cose(bytes, &root.verifying_key()).map_err(signing_failed);
    let signed = publish(
        l.storage,
        head,
        Publication {
            kind: ListKind::Trust,
            slot: &l.lists.trust,
            content,
            ttl: l.trust_ttl,
            sign: &sign,
            read: &read,
        },
        l.now,
    )
    .await?;
    Ok(served(signed, l.now))
}

/// The current status list and its signed bytes, signed by the key active now. Its content is
/// the signing key and the bit array's version, so the pages are read only to sign anew.
pub async fn status_list(l: ListSigning<'_>, trust: &TrustList) -> Result<SignedList<StatusList>> {
    let now = l.now;
    let ring = l.keys.ring(l.storage).await?;
    let issuer = ring.active_at(now);
    let kid = hex::encode(issuer.kid());
    let ttl = l.status_ttl;
    let head = l.storage.published_list(ListKind::Status).await?;
    let mut content = format!("{kid}:v{}", l.storage.status_list_version().await?);
    let bits = if head.as_ref().is_some_and(|h| serves(h, &content, now)) {
        None
    } else {
        let bits = l.storage.status_bits().await?;
        content = format!("{kid}:v{}", bits.version);
        Some(bits.bits)
    };
    let sign = || {
        let bits = bits.clone().ok_or(CredentialError::Signing)?;
        StatusList::from_bits(ring.name.clone(), now, ttl, bits)
            .map_err(signing_failed)?
            .to_cose(issuer)
            .map_err(signing_failed)
    };
    let read = |bytes: &[u8]| StatusList::from_cose(bytes, trust).map_err(signing_failed);
    let signed = publish(
        l.storage,
        head,
        Publication {
            kind: ListKind::Status,
            slot: &l.lists.status,
            content,
            ttl,
            sign: &sign,
            read: &read,
        },
        now,
    )
    .await?;
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
