//! Offline verification: from QR text to a verdict.
//!
//! Order of checks (the first that fails decides the verdict). The steps marked *policy* apply
//! only when the [`Policy`] in the options asks for them ([`Policy::counter`] asks for all;
//! the default, [`Policy::lenient`], for none, and then they are warnings or nothing):
//!
//! 0. lists (*policy*): a trust list older than `max_trust_list_age`, or a status list older
//!    than `max_status_list_age` or missing while that is set → `lists_too_old { list }`;
//! 1. parse: prefix, base45, zlib, COSE, CWT, permit claim → `malformed { layer }`; a permit
//!    claim with another schema version → `unsupported_version` (its other fields are not read);
//!    a holder proof that does not parse → `malformed { layer: holder_proof }`;
//! 2. kid: no trust-list key with the credential's kid whose signing period covers its `iat`
//!    → `unknown_key`;
//! 3. signature (every such key is tried) → `bad_signature`;
//! 4. issuer (*policy*): the credential's `iss` differs from the issuer the trust list names for
//!    the key that verified it → `issuer_mismatch`;
//! 5. `iat` (*policy*): later than `at + clock_skew` → `issued_in_future`;
//! 6. status: the bit set → `revoked`; the index beyond the list → `status_index_out_of_range`
//!    (*policy*; otherwise a warning);
//! 7. `nbf` later than `at + clock_skew` → `not_yet_valid`;
//! 8. `exp` earlier than `at - clock_skew` → `suspended { since: exp }`;
//! 9. holder binding, when the permit carries a device key: a proof that does not verify →
//!    `holder_proof_invalid`; older than `holder_freshness` or more than `clock_skew` ahead →
//!    `holder_proof_stale`; no proof → `holder_proof_required` (*policy*; otherwise the
//!    warning `holder_proof_missing`);
//! 10. `at` within `endorsement_window` before `exp` → `valid_endorsement_due`, else `valid`.
//!
//! The verdicts from step 4 on come with the permit (its signature verified); steps 0 to 3 give
//! none.

use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::VerifyingKey;

use crate::credential::{DecodeError, DecodedCredential, decode};
use crate::holder_binding::{self, HolderProof};
use crate::permit::Claims;
use crate::policy::Policy;
use crate::status_list::StatusList;
use crate::trust_list::TrustList;
use crate::verdict::{Layer, ListKind, Verdict, Verification, Warning};

/// How to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The time of verification (the verifier's clock, or a time to check against).
    pub at: DateTime<Utc>,
    /// Tolerance for clocks that disagree, applied to `nbf`, `exp` and future holder proofs.
    /// Default 5 minutes.
    pub clock_skew: TimeDelta,
    /// How old a holder proof may be. Default 90 seconds.
    pub holder_freshness: TimeDelta,
    /// How long before `exp` the endorsement is due ("the month before"). Default 30 days.
    pub endorsement_window: TimeDelta,
    /// What is a failure beyond the signature checks. Default [`Policy::lenient`].
    pub policy: Policy,
}

impl VerifyOptions {
    /// The default options for verifying at `at`, with the lenient policy.
    pub fn at(at: DateTime<Utc>) -> VerifyOptions {
        VerifyOptions {
            at,
            clock_skew: TimeDelta::minutes(5),
            holder_freshness: TimeDelta::seconds(90),
            endorsement_window: TimeDelta::days(30),
            policy: Policy::lenient(),
        }
    }

    /// The default options for a service counter verifying at `at`: [`Policy::counter`].
    pub fn counter(at: DateTime<Utc>) -> VerifyOptions {
        VerifyOptions {
            policy: Policy::counter(),
            ..VerifyOptions::at(at)
        }
    }
}

/// Verifies one RP1 QR text (a credential, optionally followed by `#` and a holder proof).
///
/// Never panics; the work done is bounded by the caps on the text and decompressed sizes.
pub fn verify(
    qr_text: &str,
    trust_list: &TrustList,
    status_list: Option<&StatusList>,
    options: &VerifyOptions,
) -> Verification {
    match check_key(qr_text, trust_list, status_list, options) {
        Stage::Pending(pending) => {
            let signer = pending.signer();
            pending.finish(signer, status_list, options)
        }
        Stage::Done(done) => *done,
    }
}

/// Verifies many QR texts at once (audits of printed slips or logs); the results are those of
/// [`verify`] on each text, in the same order.
///
/// The Ed25519 signatures of all credentials whose kid matches exactly one trusted key are
/// checked in one batch (ed25519-dalek `verify_batch`, about twice the single-verification
/// throughput). If the batch fails, each of them is verified on its own to find the culprits, so
/// a batch with a bad signature costs a batch plus single verifications. Every signature an
/// honest issuer makes passes both checks and every forgery fails both; they could differ only
/// on deliberately malformed encodings (a non-canonical or torsion-carrying `R`), which the
/// strict single check rejects and which cannot turn into a valid signature without the key.
pub fn verify_batch<S: AsRef<str>>(
    qr_texts: &[S],
    trust_list: &TrustList,
    status_list: Option<&StatusList>,
    options: &VerifyOptions,
) -> Vec<Verification> {
    let stage: Vec<Stage<'_>> = qr_texts
        .iter()
        .map(|t| check_key(t.as_ref(), trust_list, status_list, options))
        .collect();

    let mut messages: Vec<&[u8]> = Vec::new();
    let mut signatures = Vec::new();
    let mut keys: Vec<VerifyingKey> = Vec::new();
    for pending in stage.iter().filter_map(|s| match s {
        Stage::Pending(p) => Some(p),
        Stage::Done(_) => None,
    }) {
        if let [key] = pending.candidates.as_slice() {
            messages.push(&pending.credential.sign1.to_be_signed);
            signatures.push(pending.credential.sign1.signature);
            keys.push(key.public_key);
        }
    }
    let batch_ok =
        !messages.is_empty() && ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();

    stage
        .into_iter()
        .map(|item| match item {
            Stage::Pending(pending) => {
                let signer = if batch_ok && pending.candidates.len() == 1 {
                    Some(0)
                } else {
                    pending.signer()
                };
                pending.finish(signer, status_list, options)
            }
            Stage::Done(done) => *done,
        })
        .collect()
}

/// After steps 1 and 2: either a verdict already, or a credential whose signature is to check.
#[allow(clippy::large_enum_variant)] // transient, moved once
enum Stage<'a> {
    Done(Box<Verification>),
    Pending(Pending<'a>),
}

/// A credential that parsed and has candidate keys; its signature is still to be checked.
struct Pending<'a> {
    credential_text: &'a str,
    credential: DecodedCredential,
    proof: Option<HolderProof>,
    candidates: Vec<Candidate>,
    warnings: Vec<Warning>,
}

/// A trusted key that may have signed the credential, and the issuer the trust list names for it.
struct Candidate {
    public_key: VerifyingKey,
    issuer: String,
}

fn list_warnings(
    trust_list: &TrustList,
    status_list: Option<&StatusList>,
    options: &VerifyOptions,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if options.at > trust_list.expires_at() {
        warnings.push(Warning::TrustListExpired {
            expired_at: trust_list.expires_at(),
        });
    }
    match status_list {
        None => warnings.push(Warning::StatusListMissing),
        Some(list) if options.at > list.expires_at() => warnings.push(Warning::StatusListExpired {
            expired_at: list.expires_at(),
        }),
        Some(_) => {}
    }
    warnings
}

/// Step 0: lists older than the policy accepts.
fn list_verdict(
    trust_list: &TrustList,
    status_list: Option<&StatusList>,
    options: &VerifyOptions,
) -> Option<Verdict> {
    let too_old = |issued_at: DateTime<Utc>, max: TimeDelta| {
        options
            .at
            .signed_duration_since(issued_at)
            .gt(&max)
            .then_some(issued_at)
    };
    let policy = &options.policy;
    if let Some(issued_at) = policy
        .max_trust_list_age
        .and_then(|max| too_old(trust_list.issued_at, max))
    {
        return Some(Verdict::ListsTooOld {
            list: ListKind::TrustList,
            issued_at: Some(issued_at),
        });
    }
    let max = policy.max_status_list_age?;
    match status_list {
        None => Some(Verdict::ListsTooOld {
            list: ListKind::StatusList,
            issued_at: None,
        }),
        Some(list) => too_old(list.issued_at, max).map(|issued_at| Verdict::ListsTooOld {
            list: ListKind::StatusList,
            issued_at: Some(issued_at),
        }),
    }
}

fn verdict_only(verdict: Verdict, warnings: Vec<Warning>) -> Verification {
    Verification {
        verdict,
        permit: None,
        claims: None,
        warnings,
    }
}

fn done(verdict: Verdict, warnings: Vec<Warning>) -> Stage<'static> {
    Stage::Done(Box::new(verdict_only(verdict, warnings)))
}

/// Steps 0 to 2: the lists' age, parse, then find the candidate keys.
fn check_key<'a>(
    qr_text: &'a str,
    trust_list: &TrustList,
    status_list: Option<&StatusList>,
    options: &VerifyOptions,
) -> Stage<'a> {
    let warnings = list_warnings(trust_list, status_list, options);
    if let Some(verdict) = list_verdict(trust_list, status_list, options) {
        return done(verdict, warnings);
    }
    let (credential_text, proof_text) = holder_binding::split(qr_text);
    let credential = match decode(credential_text) {
        Ok(c) => c,
        Err(DecodeError::Malformed(layer, reason)) => {
            return done(Verdict::Malformed { layer, reason }, warnings);
        }
        Err(DecodeError::UnsupportedVersion(version)) => {
            return done(Verdict::UnsupportedVersion { version }, warnings);
        }
    };
    let proof = match proof_text.map(holder_binding::parse).transpose() {
        Ok(p) => p,
        Err(reason) => {
            return done(
                Verdict::Malformed {
                    layer: Layer::HolderProof,
                    reason,
                },
                warnings,
            );
        }
    };
    let candidates: Vec<Candidate> = trust_list
        .keys_for(&credential.sign1.kid, credential.issued_at)
        .map(|k| Candidate {
            public_key: k.public_key,
            issuer: k.issuer.clone(),
        })
        .collect();
    if candidates.is_empty() {
        return done(
            Verdict::UnknownKey {
                kid: hex::encode(&credential.sign1.kid),
            },
            warnings,
        );
    }
    Stage::Pending(Pending {
        credential_text,
        credential,
        proof,
        candidates,
        warnings,
    })
}

fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(seconds, 0).unwrap_or_default()
}

impl Pending<'_> {
    /// The candidate whose key verifies the signature, if any.
    fn signer(&self) -> Option<usize> {
        self.candidates
            .iter()
            .position(|key| self.credential.sign1.verify(&key.public_key))
    }

    /// Steps 3 to 10, given which candidate's key verified the signature.
    fn finish(
        self,
        signer: Option<usize>,
        status_list: Option<&StatusList>,
        options: &VerifyOptions,
    ) -> Verification {
        let Pending {
            credential_text,
            credential: c,
            proof,
            candidates,
            mut warnings,
        } = self;
        let Some(signer) = signer.and_then(|i| candidates.get(i)) else {
            return verdict_only(Verdict::BadSignature, warnings);
        };
        let policy = &options.policy;
        let at = options.at.timestamp();
        let skew = options.clock_skew.num_seconds();
        let claims = Claims {
            issuer: c.issuer,
            issued_at: time(c.issued_at),
            not_before: time(c.not_before),
            expires_at: time(c.expires_at),
            kid: hex::encode(&c.sign1.kid),
            presentation: c.presentation,
        };
        let permit = c.permit;

        let mut revoked = false;
        let mut uncovered = None;
        if let Some(list) = status_list {
            match list.is_revoked(permit.status_index) {
                Some(r) => revoked = r,
                None if policy.require_status_coverage => {
                    uncovered = Some(Verdict::StatusIndexOutOfRange {
                        index: permit.status_index,
                        len: list.len(),
                    })
                }
                None => warnings.push(Warning::StatusIndexOutOfRange {
                    index: permit.status_index,
                    len: list.len(),
                }),
            }
        }
        let verdict = if policy.require_issuer_match && claims.issuer != signer.issuer {
            Verdict::IssuerMismatch {
                issuer: claims.issuer.clone(),
                trusted_issuer: signer.issuer.clone(),
            }
        } else if policy.reject_future_iat && c.issued_at > at.saturating_add(skew) {
            Verdict::IssuedInFuture {
                issued_at: claims.issued_at,
            }
        } else if revoked {
            Verdict::Revoked
        } else if let Some(verdict) = uncovered {
            verdict
        } else if c.not_before > at.saturating_add(skew) {
            Verdict::NotYetValid {
                valid_from: claims.not_before,
            }
        } else if c.expires_at < at.saturating_sub(skew) {
            Verdict::Suspended {
                since: claims.expires_at,
            }
        } else {
            let holder = match (permit.device_key, proof) {
                (Some(device_key), Some(proof)) => {
                    let age = at.saturating_sub(i64::from(proof.signed_at));
                    if !proof.verify(credential_text, &device_key) {
                        Some(Verdict::HolderProofInvalid)
                    } else if age > options.holder_freshness.num_seconds() || age < -skew {
                        Some(Verdict::HolderProofStale {
                            signed_at: time(i64::from(proof.signed_at)),
                        })
                    } else {
                        None
                    }
                }
                (Some(_), None) if policy.require_holder_proof => {
                    Some(Verdict::HolderProofRequired)
                }
                (Some(_), None) => {
                    warnings.push(Warning::HolderProofMissing);
                    None
                }
                (None, Some(_)) => {
                    warnings.push(Warning::HolderProofUnexpected);
                    None
                }
                (None, None) => None,
            };
            holder.unwrap_or_else(|| {
                let window = options.endorsement_window.num_seconds();
                if at >= c.expires_at.saturating_sub(window) {
                    Verdict::ValidEndorsementDue {
                        due: claims.expires_at,
                    }
                } else {
                    Verdict::Valid
                }
            })
        };
        Verification {
            verdict,
            permit: Some(permit),
            claims: Some(claims),
            warnings,
        }
    }
}
