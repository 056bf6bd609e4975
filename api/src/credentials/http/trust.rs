//! The signed lists over HTTP, served as COSE bytes with an ETag and a Cache-Control from
//! their time to live, both together in one bundle for scanners, and online verification of a
//! QR text with the same verifier crate the counters use offline.

use base64::Engine;
use chrono::DateTime;
use chrono::Utc;
use poem::web::Data;
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, ResponseContent};
use sha2::{Digest, Sha256};

use crate::credentials::service::{self, ListSigning};
use crate::identity::rate_limits::RateLimit;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{MultiLineText, Nullable, Text};
use crate::platform::web::{ApiTags, ClientIp};

const VERIFY_PER_IP: RateLimit = RateLimit {
    name: "verify-ip",
    max: 600,
    window: std::time::Duration::from_secs(60),
};

fn signing(state: &AppState) -> ListSigning<'_> {
    ListSigning {
        storage: &*state.storage,
        keys: &state.keys,
        lists: &state.lists,
        trust_ttl: state.config.trust_list_ttl_secs,
        status_ttl: state.config.status_list_ttl_secs,
        now: state.clock.now(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ListFormat {
    /// COSE_Sign1 bytes, what verifiers use.
    Cose,
    /// The same content as JSON, for people.
    Json,
}

/// A signed list, in the document as it is sent: COSE bytes or, with `format=json`, JSON.
#[derive(ResponseContent)]
pub enum SignedListBody {
    #[oai(content_type = "application/cose")]
    Cose(Binary<Vec<u8>>),
    Json(Json<serde_json::Value>),
}

#[derive(ApiResponse)]
pub enum SignedListResponse {
    /// The list, with its ETag and a Cache-Control from its time to live.
    #[oai(status = 200)]
    Ok(
        SignedListBody,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// Whether `If-None-Match` names `etag` (a list of ETags, as browsers and caches send it).
fn names_etag(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
}

fn list_response(
    bytes: Vec<u8>,
    etag: String,
    max_age: i64,
    if_none_match: Option<&str>,
    json: Option<serde_json::Value>,
) -> SignedListResponse {
    let cache = format!("public, max-age={max_age}");
    if names_etag(if_none_match, &etag) {
        return SignedListResponse::NotModified(etag, cache);
    }
    let body = match json {
        Some(v) => SignedListBody::Json(Json(v)),
        None => SignedListBody::Cose(Binary(bytes)),
    };
    SignedListResponse::Ok(body, etag, cache)
}

/// The trust list and the status list of one moment, for a scanner to download in one request.
#[derive(Debug, Clone, Object)]
pub struct ListBundle {
    /// The root public key (hex) that signs the trust list. A verifier pins its own copy; this
    /// one is for comparison.
    pub root_public_key: String,
    /// The signed trust list: base64 (standard, padded) of the COSE bytes `/trust-list` serves.
    pub trust_list: String,
    /// The signed status list: base64 of the COSE bytes `/status-list` serves, checked against
    /// the trust list in this bundle.
    pub status_list: String,
    /// The ETag `/trust-list` gives these bytes.
    pub trust_list_etag: String,
    /// The ETag `/status-list` gives these bytes.
    pub status_list_etag: String,
}

#[derive(ApiResponse)]
pub enum ListBundleResponse {
    /// Both lists, with an ETag made from theirs and the shorter of their max-ages.
    #[oai(status = 200)]
    Ok(
        Json<ListBundle>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Neither list changed since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// The bundle's ETag: it changes exactly when one of the two lists' ETags does.
fn bundle_etag(trust_etag: &str, status_etag: &str) -> String {
    let digest = Sha256::digest(format!("{trust_etag},{status_etag}").as_bytes());
    format!("\"{}\"", &hex::encode(digest)[..32])
}

#[derive(Debug, Clone, Object)]
pub struct VerificationRequest {
    /// The QR text: `RP1:...`, optionally with a holder proof after `#`.
    pub qr_text: MultiLineText,
    /// Who is checking (e.g. 某某酒店前台), at most 64 characters; the holder sees it in their
    /// access log. Empty or left out: not given.
    pub verifier_name: Nullable<Text>,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct VerifiedPermit {
    pub permit_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: chrono::NaiveDate,
    /// Full or masked, as the holder chose to present it.
    pub id_number: String,
    pub district: String,
    pub authority: String,
    pub first_issued: chrono::NaiveDate,
    pub last_endorsed: Option<chrono::NaiveDate>,
    pub valid_until: DateTime<Utc>,
    /// `full` or `basic`.
    pub presentation: String,
}

#[derive(Debug, Clone, Object)]
pub struct VerificationWarning {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct VerificationResult {
    pub valid: bool,
    /// `valid`, `valid_endorsement_due`, `suspended`, `revoked`, `not_yet_valid`,
    /// `bad_signature`, `unknown_key`, `malformed`, `unsupported_version`.
    pub verdict: String,
    pub message: String,
    pub message_en: String,
    pub permit: Option<VerifiedPermit>,
    pub warnings: Vec<VerificationWarning>,
}

pub struct TrustApi;

#[OpenApi(tag = "ApiTags::Permits")]
impl TrustApi {
    /// The trust list: issuer keys signed by the root key verifiers pin.
    #[oai(path = "/trust-list", method = "get")]
    async fn get_trust_list(
        &self,
        state: Data<&AppState>,
        format: Query<Option<ListFormat>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<SignedListResponse, ApiError> {
        let service::SignedList {
            list,
            bytes,
            etag,
            max_age,
        } = service::trust_list(signing(&state)).await?;
        let json = (format.0 == Some(ListFormat::Json)).then(|| {
            serde_json::json!({
                "issuer": list.issuer,
                "issued_at": list.issued_at,
                "ttl_seconds": list.ttl_seconds,
                "expires_at": list.expires_at(),
                "root_public_key": hex::encode(state.keys.root().verifying_key().as_bytes()),
                "keys": list.keys.iter().map(|k| serde_json::json!({
                    "kid": hex::encode(k.kid),
                    "issuer": k.issuer,
                    "public_key": hex::encode(k.public_key.as_bytes()),
                    "valid_from": k.valid_from,
                    "valid_until": k.valid_until,
                })).collect::<Vec<_>>(),
            })
        });
        Ok(list_response(
            bytes,
            etag,
            max_age,
            if_none_match.0.as_deref(),
            json,
        ))
    }

    /// The status list: one bit per permit, set when revoked.
    #[oai(path = "/status-list", method = "get")]
    async fn get_status_list(
        &self,
        state: Data<&AppState>,
        format: Query<Option<ListFormat>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<SignedListResponse, ApiError> {
        let trust = service::trust_list(signing(&state)).await?.list;
        let service::SignedList {
            list,
            bytes,
            etag,
            max_age,
        } = service::status_list(signing(&state), &trust).await?;
        let json = (format.0 == Some(ListFormat::Json)).then(|| {
            serde_json::json!({
                "issuer": list.issuer,
                "issued_at": list.issued_at,
                "ttl_seconds": list.ttl_seconds,
                "expires_at": list.expires_at(),
                "length": list.len(),
                "revoked": list.revoked_indices().collect::<Vec<_>>(),
            })
        });
        Ok(list_response(
            bytes,
            etag,
            max_age,
            if_none_match.0.as_deref(),
            json,
        ))
    }

    /// The trust list and the status list of one moment, in one answer: what the scanner
    /// downloads (a request per list could reach instances that disagree).
    #[oai(path = "/lists", method = "get")]
    async fn get_lists(
        &self,
        state: Data<&AppState>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<ListBundleResponse, ApiError> {
        let trust = service::trust_list(signing(&state)).await?;
        let status = service::status_list(signing(&state), &trust.list).await?;
        let etag = bundle_etag(&trust.etag, &status.etag);
        let cache = format!("public, max-age={}", trust.max_age.min(status.max_age));
        if names_etag(if_none_match.0.as_deref(), &etag) {
            return Ok(ListBundleResponse::NotModified(etag, cache));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(ListBundleResponse::Ok(
            Json(ListBundle {
                root_public_key: hex::encode(state.keys.root().verifying_key().as_bytes()),
                trust_list: b64.encode(&trust.bytes),
                status_list: b64.encode(&status.bytes),
                trust_list_etag: trust.etag,
                status_list_etag: status.etag,
            }),
            etag,
            cache,
        ))
    }

    /// Online verification against the current lists, for services that are online.
    #[oai(path = "/verifications", method = "post")]
    async fn verify(
        &self,
        state: Data<&AppState>,
        ip: ClientIp,
        body: Json<VerificationRequest>,
    ) -> Result<Json<VerificationResult>, ApiError> {
        VERIFY_PER_IP.hit(&*state.ephemeral, &ip.0).await?;
        let verifier_name = crate::privacy::model::verifier_name(body.0.verifier_name.as_deref())
            .map_err(|_| {
            ApiError::unprocessable(
                "invalid_verifier_name",
                "verifier_name",
                "查验单位名称不超过64个字符",
            )
        })?;
        let v = service::verify(signing(&state), &body.0.qr_text, verifier_name.as_deref()).await?;
        let permit = match (v.permit, v.claims) {
            (Some(p), Some(c)) => Some(VerifiedPermit {
                permit_number: p.permit_number,
                name: p.name,
                sex: p.sex.as_str().to_string(),
                birth_date: p.birth_date,
                id_number: p.id_number,
                district: p.district,
                authority: p.authority,
                first_issued: p.first_issued,
                last_endorsed: p.last_endorsed,
                valid_until: c.expires_at,
                presentation: match c.presentation {
                    permit_verifier::Presentation::Full => "full".into(),
                    permit_verifier::Presentation::Basic => "basic".into(),
                },
            }),
            _ => None,
        };
        Ok(Json(VerificationResult {
            valid: v.verdict.is_valid(),
            verdict: v.verdict.code().to_string(),
            message: v.verdict.message_zh(),
            message_en: v.verdict.message_en(),
            permit,
            warnings: v
                .warnings
                .iter()
                .map(|w| VerificationWarning {
                    code: w.code().to_string(),
                    message: w.message_zh().to_string(),
                })
                .collect(),
        }))
    }
}
