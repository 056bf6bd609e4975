//! Issuing (feature `issue`): sign permits into RP1 QR texts, and render QR codes as SVG.

use chrono::{DateTime, Utc};
use ciborium::Value;
use coset::{CborSerializable, cwt::ClaimsSetBuilder, cwt::Timestamp};
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::cose::{Kid, kid_of};
use crate::credential::PREFIX;
use crate::permit::{PERMIT_CLAIM_KEY, Permit, Presentation, encode_claim};
use crate::trust_list::TrustedKey;

/// Why issuing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueError {
    /// The `basic` presentation needs an ID number longer than 10 characters to mask.
    IdNumberTooShort,
    /// A status index beyond the largest status list.
    StatusIndexTooLarge,
    /// CBOR or COSE encoding failed.
    Encoding(String),
    /// The QR code could not be built (text too long for a QR code).
    Qr(String),
}

impl std::fmt::Display for IssueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssueError::IdNumberTooShort => f.write_str("ID number too short to mask"),
            IssueError::StatusIndexTooLarge => f.write_str("status index too large"),
            IssueError::Encoding(why) => write!(f, "encoding failed: {why}"),
            IssueError::Qr(why) => write!(f, "QR code failed: {why}"),
        }
    }
}

impl std::error::Error for IssueError {}

/// An issuer: a signing key, its kid, and the issuer name written as `iss`.
#[derive(Clone)]
pub struct Issuer {
    signing_key: SigningKey,
    kid: Kid,
    name: String,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("kid", &hex::encode(self.kid))
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer with this signing key and name.
    pub fn new(signing_key: SigningKey, name: impl Into<String>) -> Issuer {
        let kid = kid_of(&signing_key.verifying_key());
        Issuer {
            signing_key,
            kid,
            name: name.into(),
        }
    }

    /// An issuer from a 32-byte Ed25519 secret key (seed).
    pub fn from_secret(secret: &[u8; 32], name: impl Into<String>) -> Issuer {
        Issuer::new(SigningKey::from_bytes(secret), name)
    }

    /// The kid: first 8 bytes of SHA-256 of the public key.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// The issuer name (`iss`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// This issuer's entry for a trust list.
    pub fn trusted_key(
        &self,
        valid_from: DateTime<Utc>,
        valid_until: Option<DateTime<Utc>>,
    ) -> TrustedKey {
        TrustedKey::new(
            self.verifying_key(),
            self.name.clone(),
            valid_from,
            valid_until,
        )
    }

    /// Issues a credential: the QR text `RP1:` + base45(zlib(COSE_Sign1(CWT))).
    ///
    /// `exp` is the end of validity, i.e. the next endorsement due date.
    pub fn issue(
        &self,
        permit: &Permit,
        presentation: Presentation,
        iat: DateTime<Utc>,
        nbf: DateTime<Utc>,
        exp: DateTime<Utc>,
    ) -> Result<String, IssueError> {
        let claim = encode_claim(permit, presentation)?;
        let payload = self.claims_payload(iat, nbf, exp, claim)?;
        let cose = self.sign_cose(payload)?;
        Ok(qr_text_from_cose(&cose))
    }

    /// The CWT claims set (iss, iat, nbf, exp and the permit claim given as a CBOR value),
    /// encoded. Exposed to build test vectors with unusual permit claims.
    pub fn claims_payload(
        &self,
        iat: DateTime<Utc>,
        nbf: DateTime<Utc>,
        exp: DateTime<Utc>,
        permit_claim: Value,
    ) -> Result<Vec<u8>, IssueError> {
        ClaimsSetBuilder::new()
            .issuer(self.name.clone())
            .issued_at(Timestamp::WholeSeconds(iat.timestamp()))
            .not_before(Timestamp::WholeSeconds(nbf.timestamp()))
            .expiration_time(Timestamp::WholeSeconds(exp.timestamp()))
            .private_claim(PERMIT_CLAIM_KEY, permit_claim)
            .build()
            .to_vec()
            .map_err(|e| IssueError::Encoding(e.to_string()))
    }

    /// Signs any payload as a tagged COSE_Sign1 (alg EdDSA, this issuer's kid, protected).
    pub fn sign_cose(&self, payload: Vec<u8>) -> Result<Vec<u8>, IssueError> {
        crate::cose::sign1(payload, &self.signing_key)
    }
}

/// The QR text for COSE_Sign1 bytes: `RP1:` + base45(zlib(cose)).
pub fn qr_text_from_cose(cose: &[u8]) -> String {
    let mut text = String::from(PREFIX);
    text.push_str(&base45::encode(crate::zlib::deflate(cose)));
    text
}

/// QR error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrEcc {
    /// ~7 % recovery.
    Low,
    /// ~15 % recovery (a good default for screens).
    Medium,
    /// ~25 % recovery.
    Quartile,
    /// ~30 % recovery (printed slips that may get creased).
    High,
}

/// Renders a QR text as an SVG QR code (module size 4 px, quiet zone included). The encoder
/// picks alphanumeric mode for the base45 part, so an RP1 text takes few modules.
pub fn to_svg(qr_text: &str, ecc: QrEcc) -> Result<String, IssueError> {
    use qrcode::{EcLevel, QrCode, render::svg};
    let level = match ecc {
        QrEcc::Low => EcLevel::L,
        QrEcc::Medium => EcLevel::M,
        QrEcc::Quartile => EcLevel::Q,
        QrEcc::High => EcLevel::H,
    };
    let code = QrCode::with_error_correction_level(qr_text.as_bytes(), level)
        .map_err(|e| IssueError::Qr(e.to_string()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .module_dimensions(4, 4)
        .build())
}
