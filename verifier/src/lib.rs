//! RP1 electronic residence permit credentials and their offline verification.
//!
//! ```text
//! QR text = "RP1:" + base45( zlib( COSE_Sign1 ) )            (RFC 9285, RFC 1950, RFC 9052)
//! COSE_Sign1 protected header: alg EdDSA (-8), kid = SHA-256(issuer public key)[..8]
//! payload = CWT claims (RFC 8392): iss, iat, nbf, exp, and the permit claim (-65537)
//! ```
//!
//! Verify with [`verify`] against a [`TrustList`] (verified with a pinned root key) and an
//! optional [`StatusList`]; the answer is a [`Verification`] carrying a [`Verdict`], the
//! [`Permit`] and [`Warning`]s. [`VerifyOptions`] carries a [`Policy`]: lenient by default,
//! [`Policy::counter`] for service counters. [`HeldLists`] keeps a verifier's lists between
//! downloads and never takes older ones. Encoding and signing live behind the `issue` feature, so a
//! verifier built without it carries no signing code. See `README.md` for the formats.

mod cbor_reader;
mod cose;
mod credential;
mod held_lists;
mod holder_binding;
#[cfg(feature = "issue")]
mod issue;
mod permit;
mod policy;
mod signed_list;
mod status_list;
mod trust_list;
mod verdict;
mod verify;
#[cfg(feature = "wasm")]
mod wasm;
mod zlib;

pub use cose::{Kid, Sign1Error, kid_of, verify_sign1};
pub use credential::{MAX_COSE_LEN, MAX_QR_TEXT_LEN, PREFIX};
pub use held_lists::{HeldLists, ListRefusal, Offered};
pub use holder_binding::{HOLDER_PROOF_DOMAIN, HOLDER_PROOF_SEPARATOR, holder_proof_message};
pub use permit::{
    Claims, PERMIT_CLAIM_KEY, Permit, Presentation, SCHEMA_VERSION, Sex, mask_id_number,
};
pub use policy::Policy;
pub use signed_list::ListError;
pub use status_list::{MAX_STATUS_BITS_LEN, MAX_STATUS_LIST_LEN, StatusList};
pub use trust_list::{MAX_TRUST_LIST_LEN, TrustList, TrustedKey};
pub use verdict::{Layer, ListKind, Verdict, Verification, Warning};
pub use verify::{VerifyOptions, verify, verify_batch};

#[cfg(feature = "issue")]
pub use cose::sign1;
#[cfg(feature = "issue")]
pub use holder_binding::present;
#[cfg(feature = "issue")]
pub use issue::{IssueError, Issuer, QrEcc, qr_text_from_cose, to_svg};

/// The Ed25519 implementation used, re-exported so callers use the same key types.
pub use ed25519_dalek;
