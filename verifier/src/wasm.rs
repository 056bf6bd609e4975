//! WebAssembly bindings (feature `wasm`) for the PWA's scanner.
//!
//! ```js
//! const verifier = new Verifier(rootPublicKey, trustListBytes, statusListBytes /* or undefined */);
//! const result = JSON.parse(verifier.verify(qrText, Date.now()));
//! // result.verdict.verdict === "valid", result.permit.name, result.warnings, ...
//! // A service counter: the strict policy (see the crate's `Policy`), as JSON.
//! const counter = JSON.parse(verifier.verifyWithPolicy(qrText, Date.now(), Verifier.counterPolicy()));
//! // No rollback: compare verifier.trustListIssuedAt / statusListIssuedAt with the lists held.
//! ```
//!
//! The time comes from JavaScript: the module needs no clock and no randomness.

use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::VerifyingKey;
use wasm_bindgen::prelude::*;

use crate::{Policy, StatusList, TrustList, VerifyOptions, verify};

/// A verifier holding a verified trust list and, optionally, a verified status list.
#[wasm_bindgen]
pub struct Verifier {
    trust_list: TrustList,
    status_list: Option<StatusList>,
}

fn time_from_ms(at_unix_ms: f64) -> Result<DateTime<Utc>, JsError> {
    if !at_unix_ms.is_finite() || at_unix_ms.abs() > 8.64e15 {
        return Err(JsError::new(
            "the time must be milliseconds since 1970 (Date.now())",
        ));
    }
    DateTime::<Utc>::from_timestamp_millis(at_unix_ms as i64)
        .ok_or_else(|| JsError::new("time out of range"))
}

#[wasm_bindgen]
impl Verifier {
    /// Verifies the trust list with the pinned root public key (32 bytes) and the status list
    /// (if given) with the trust list. Throws when either does not verify.
    #[wasm_bindgen(constructor)]
    pub fn new(
        root_public_key: &[u8],
        trust_list: &[u8],
        status_list: Option<Vec<u8>>,
    ) -> Result<Verifier, JsError> {
        let raw: [u8; 32] = root_public_key
            .try_into()
            .map_err(|_| JsError::new("the root public key must be 32 bytes"))?;
        let root = VerifyingKey::from_bytes(&raw)
            .map_err(|_| JsError::new("the root public key is not an Ed25519 key"))?;
        let trust_list = TrustList::from_cose(trust_list, &root)
            .map_err(|e| JsError::new(&format!("trust list rejected: {e}")))?;
        let status_list = status_list
            .map(|bytes| StatusList::from_cose(&bytes, &trust_list))
            .transpose()
            .map_err(|e| JsError::new(&format!("status list rejected: {e}")))?;
        Ok(Verifier {
            trust_list,
            status_list,
        })
    }

    /// Verifies a QR text at `at_unix_ms` (milliseconds, as `Date.now()`) with the default
    /// options; returns the verification as JSON (see the crate's `Verification`).
    pub fn verify(&self, qr_text: &str, at_unix_ms: f64) -> Result<String, JsError> {
        let options = VerifyOptions::at(time_from_ms(at_unix_ms)?);
        self.run(qr_text, &options)
    }

    /// Like `verify`, with the clock skew and holder freshness in seconds.
    #[wasm_bindgen(js_name = verifyWithOptions)]
    pub fn verify_with_options(
        &self,
        qr_text: &str,
        at_unix_ms: f64,
        clock_skew_seconds: u32,
        holder_freshness_seconds: u32,
    ) -> Result<String, JsError> {
        let options = VerifyOptions {
            clock_skew: TimeDelta::seconds(i64::from(clock_skew_seconds)),
            holder_freshness: TimeDelta::seconds(i64::from(holder_freshness_seconds)),
            ..VerifyOptions::at(time_from_ms(at_unix_ms)?)
        };
        self.run(qr_text, &options)
    }

    /// The service counter's policy (the crate's `Policy::counter`) as JSON, for
    /// `verifyWithPolicy`.
    #[wasm_bindgen(js_name = counterPolicy)]
    pub fn counter_policy() -> Result<String, JsError> {
        serde_json::to_string(&Policy::counter()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Like `verify`, with a policy as JSON (see the crate's `Policy`; `counterPolicy()` gives the
    /// counter's). Fields left out take their lenient value; an unknown field is ignored.
    #[wasm_bindgen(js_name = verifyWithPolicy)]
    pub fn verify_with_policy(
        &self,
        qr_text: &str,
        at_unix_ms: f64,
        policy_json: &str,
    ) -> Result<String, JsError> {
        let policy: Policy = serde_json::from_str(policy_json)
            .map_err(|e| JsError::new(&format!("the policy is not valid JSON: {e}")))?;
        let options = VerifyOptions {
            policy,
            ..VerifyOptions::at(time_from_ms(at_unix_ms)?)
        };
        self.run(qr_text, &options)
    }

    /// The trust list's `iat`, in milliseconds since 1970 (to refuse older lists: no rollback).
    #[wasm_bindgen(getter, js_name = trustListIssuedAt)]
    pub fn trust_list_issued_at(&self) -> f64 {
        self.trust_list.issued_at.timestamp_millis() as f64
    }

    /// The status list's `iat`, in milliseconds since 1970; undefined without a status list.
    #[wasm_bindgen(getter, js_name = statusListIssuedAt)]
    pub fn status_list_issued_at(&self) -> Option<f64> {
        self.status_list
            .as_ref()
            .map(|l| l.issued_at.timestamp_millis() as f64)
    }

    /// When the trust list goes stale, in milliseconds since 1970.
    #[wasm_bindgen(getter, js_name = trustListExpiresAt)]
    pub fn trust_list_expires_at(&self) -> f64 {
        self.trust_list.expires_at().timestamp_millis() as f64
    }

    fn run(&self, qr_text: &str, options: &VerifyOptions) -> Result<String, JsError> {
        let result = verify(
            qr_text,
            &self.trust_list,
            self.status_list.as_ref(),
            options,
        );
        // The crate's own words for the verdict and each warning travel with the result, so
        // an app shows the same sentences as the CLI and the server, in both languages.
        let mut json = serde_json::to_value(&result).map_err(|e| JsError::new(&e.to_string()))?;
        let messages = serde_json::json!({
            "verdict": {
                "zh": result.verdict.message_zh(),
                "en": result.verdict.message_en(),
            },
            "warnings": result
                .warnings
                .iter()
                .map(|w| serde_json::json!({"code": w.code(), "zh": w.message_zh(), "en": w.message_en()}))
                .collect::<Vec<_>>(),
        });
        if let Some(object) = json.as_object_mut() {
            object.insert("messages".to_string(), messages);
        }
        serde_json::to_string(&json).map_err(|e| JsError::new(&e.to_string()))
    }
}
