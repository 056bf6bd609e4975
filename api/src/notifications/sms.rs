//! The SMS gateway every text goes through: Alibaba Cloud or Tencent Cloud in production
//! (`PERMIT_SMS_PROVIDER`), or the development sink, which keeps messages in memory (readable
//! at `GET /api/v1/dev/sms`) and exists only in demo or development mode.
//!
//! Providers send registered templates, not free text: a message carries its kind (which picks
//! the template id, `PERMIT_SMS_TEMPLATES`) and the template's parameters; the rendered text
//! is what the development sink shows and the in-app inbox keeps.

pub mod aliyun;
pub mod tencent;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::platform::config::{Config, SmsProvider};

/// Every kind of SMS permitd sends, each with its own provider template. Codes are
/// `<purpose>_code`; notices are the notification's kind.
pub const SMS_KINDS: &[&str] = &[
    "register_code",
    "login_code",
    "change_phone_code",
    "step_up_code",
    "booking_confirmed",
    "booking_cancelled",
    "review_passed",
    "review_returned",
    "reminder",
    "no_show",
    "endorsement_due",
    "permit_issued",
    "permit_endorsed",
];

/// One SMS: the kind picks the template, the parameters (in the template's order, by name)
/// fill it, and `text` is the same message rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    pub kind: String,
    pub params: Vec<(String, String)>,
    pub text: String,
}

/// What the provider answered for a message it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The provider's id of the message (Alibaba's `BizId`, Tencent's `SerialNo`).
    pub message_id: Option<String>,
}

/// A message the gateway did not take. `code` is the provider's error code (or one of ours:
/// `timeout`, `unreachable`, `bad_answer`, `template_missing`); it names no person and may
/// be logged. `detail` is the provider's message, kept for administrators, never logged.
#[derive(Debug, Clone, thiserror::Error)]
#[error("SMS gateway: {code}")]
pub struct SmsError {
    /// Worth trying again later: throttled, timed out, the provider unreachable or failing.
    pub transient: bool,
    pub code: String,
    pub detail: String,
}

impl SmsError {
    pub fn transient(code: &str, detail: impl Into<String>) -> Self {
        Self {
            transient: true,
            code: code.into(),
            detail: detail.into(),
        }
    }
    pub fn permanent(code: &str, detail: impl Into<String>) -> Self {
        Self {
            transient: false,
            code: code.into(),
            detail: detail.into(),
        }
    }
    /// An HTTP failure of reqwest: a timeout or a refused connection is worth another try.
    fn from_http(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::transient("timeout", "the provider did not answer in time")
        } else if e.is_connect() || e.is_request() {
            Self::transient("unreachable", "the provider could not be reached")
        } else {
            Self::transient("bad_answer", "the provider's answer could not be read")
        }
    }
}

#[async_trait]
pub trait SmsSender: Send + Sync + 'static {
    async fn send(&self, phone: &str, message: &SmsMessage) -> Result<Delivered, SmsError>;
    /// What was sent to a phone, newest last; only the development sink keeps this.
    fn sent_to(&self, _phone: &str) -> Vec<SentSms> {
        Vec::new()
    }
}

#[derive(Debug, Clone)]
pub struct SentSms {
    pub phone: String,
    pub kind: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// Keeps the last messages in memory: at most [`DEV_SINK_KEEP`] overall, of which a phone's
/// last [`DEV_SINK_PER_PHONE`] are shown.
#[derive(Default)]
pub struct DevSmsSink {
    messages: Mutex<VecDeque<SentSms>>,
}

pub const DEV_SINK_KEEP: usize = 1000;
pub const DEV_SINK_PER_PHONE: usize = 20;

#[async_trait]
impl SmsSender for DevSmsSink {
    async fn send(&self, phone: &str, message: &SmsMessage) -> Result<Delivered, SmsError> {
        let mut list = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        list.push_back(SentSms {
            phone: phone.to_string(),
            kind: message.kind.clone(),
            text: message.text.clone(),
            sent_at: Utc::now(),
        });
        while list.len() > DEV_SINK_KEEP {
            list.pop_front();
        }
        Ok(Delivered::default())
    }

    fn sent_to(&self, phone: &str) -> Vec<SentSms> {
        let list = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let mut mine: Vec<SentSms> = list
            .iter()
            .rev()
            .filter(|m| m.phone == phone)
            .take(DEV_SINK_PER_PHONE)
            .cloned()
            .collect();
        mine.reverse();
        mine
    }
}

impl DevSmsSink {
    /// How many messages the sink holds in all.
    pub fn len(&self) -> usize {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why the configured gateway cannot be built; permitd does not start.
#[derive(Debug, thiserror::Error)]
#[error("SMS gateway: {0}")]
pub struct SmsSetupError(pub String);

/// The gateway the configuration names. Outside demo and development mode a real provider is
/// required: without one no resident would ever receive a code.
pub fn gateway(config: &Config) -> Result<Arc<dyn SmsSender>, SmsSetupError> {
    let dev = config.dev_helpers();
    let fail = |m: String| Err(SmsSetupError(m));
    match config.sms_provider {
        None | Some(SmsProvider::Dev) if dev => Ok(Arc::new(DevSmsSink::default())),
        None => fail(
            "set PERMIT_SMS_PROVIDER to aliyun or tencent (with its keys, sign name and \
             templates); the development sink exists only with PERMIT_DEMO or PERMIT_DEV"
                .into(),
        ),
        Some(SmsProvider::Dev) => fail(
            "PERMIT_SMS_PROVIDER=dev is refused outside demo or development mode: set aliyun \
             or tencent"
                .into(),
        ),
        Some(SmsProvider::Aliyun) => Ok(Arc::new(aliyun::Aliyun::new(
            ProviderSettings::from_config(config, SmsProvider::Aliyun)?,
        )?)),
        Some(SmsProvider::Tencent) => Ok(Arc::new(tencent::Tencent::new(
            ProviderSettings::from_config(config, SmsProvider::Tencent)?,
        )?)),
    }
}

/// What a provider adapter needs, checked once at start.
pub struct ProviderSettings {
    pub access_key_id: String,
    pub access_key_secret: crate::platform::config::Secret,
    pub sign_name: String,
    pub sdk_app_id: String,
    pub region: String,
    pub endpoint: Option<url::Url>,
    pub templates: BTreeMap<String, String>,
    pub http: reqwest::Client,
}

impl ProviderSettings {
    fn from_config(config: &Config, provider: SmsProvider) -> Result<Self, SmsSetupError> {
        let name = match provider {
            SmsProvider::Aliyun => "aliyun",
            SmsProvider::Tencent => "tencent",
            SmsProvider::Dev => "dev",
        };
        let required = |value: Option<&str>, setting: &str| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| SmsSetupError(format!("PERMIT_SMS_PROVIDER={name} needs {setting}")))
        };
        let access_key_id = required(
            config.sms_access_key_id.as_deref(),
            "PERMIT_SMS_ACCESS_KEY_ID",
        )?;
        required(
            config
                .sms_access_key_secret
                .as_ref()
                .map(crate::platform::config::Secret::expose),
            "PERMIT_SMS_ACCESS_KEY_SECRET",
        )?;
        let sign_name = required(config.sms_sign_name.as_deref(), "PERMIT_SMS_SIGN_NAME")?;
        let sdk_app_id = match provider {
            SmsProvider::Tencent => {
                required(config.sms_sdk_app_id.as_deref(), "PERMIT_SMS_SDK_APP_ID")?
            }
            _ => String::new(),
        };
        let missing: Vec<&str> = SMS_KINDS
            .iter()
            .copied()
            .filter(|k| {
                config
                    .sms_templates
                    .0
                    .get(*k)
                    .is_none_or(|t| t.trim().is_empty())
            })
            .collect();
        if !missing.is_empty() {
            return Err(SmsSetupError(format!(
                "PERMIT_SMS_TEMPLATES lacks a template id for: {}",
                missing.join(", ")
            )));
        }
        if let Some(unknown) = config
            .sms_templates
            .0
            .keys()
            .find(|k| !SMS_KINDS.contains(&k.as_str()))
        {
            return Err(SmsSetupError(format!(
                "PERMIT_SMS_TEMPLATES: unknown message kind `{unknown}` (known: {})",
                SMS_KINDS.join(", ")
            )));
        }
        let endpoint = match config.sms_endpoint.as_deref().filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => Some(
                url::Url::parse(e)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| {
                        SmsSetupError(format!("PERMIT_SMS_ENDPOINT `{e}` is not an http(s) URL"))
                    })?,
            ),
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(
                config.sms_timeout_ms.max(1),
            ))
            .build()
            .map_err(|e| SmsSetupError(format!("HTTP client: {e}")))?;
        Ok(Self {
            access_key_id,
            access_key_secret: config.sms_access_key_secret.clone().unwrap_or_default(),
            sign_name,
            sdk_app_id,
            region: config.sms_region.clone(),
            endpoint,
            templates: config.sms_templates.0.clone(),
            http,
        })
    }

    fn template(&self, kind: &str) -> Result<&str, SmsError> {
        self.templates
            .get(kind)
            .map(String::as_str)
            .ok_or_else(|| SmsError::permanent("template_missing", kind.to_string()))
    }
}

/// `host` or `host:port` as the request's Host header carries it (the default port omitted).
fn host_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The provider answered with an error code: throttling and the provider's own trouble are
/// worth another try later, anything else (a bad template, number, signature) is not.
fn classify(code: &str, detail: &str, transient_prefixes: &[&str]) -> SmsError {
    if transient_prefixes.iter().any(|p| code.starts_with(p)) {
        SmsError::transient(code, detail)
    } else {
        SmsError::permanent(code, detail)
    }
}

/// The canonical header block and the signed-header list both providers' v3 signatures hash:
/// names in lower case, sorted, values trimmed (and lower-cased too where the provider asks).
fn canonical_headers(headers: &[(&str, &str)], lowercase_values: bool) -> (String, String) {
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            let v = v.trim();
            let v = if lowercase_values {
                v.to_ascii_lowercase()
            } else {
                v.to_string()
            };
            (k.to_ascii_lowercase(), v)
        })
        .collect();
    headers.sort();
    let canonical = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (canonical, signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: usize) -> SmsMessage {
        SmsMessage {
            kind: "login_code".into(),
            params: vec![("code".into(), format!("{n:06}"))],
            text: format!("code {n:06}"),
        }
    }

    #[tokio::test]
    async fn the_dev_sink_keeps_a_bounded_number_of_messages_overall_and_per_phone() {
        let sink = DevSmsSink::default();
        // Many phones, one message each: the sink drops the oldest past its bound.
        for n in 0..DEV_SINK_KEEP + 50 {
            sink.send(&format!("138{n:08}"), &message(n)).await.unwrap();
        }
        assert_eq!(sink.len(), DEV_SINK_KEEP);
        assert!(sink.sent_to("13800000000").is_empty(), "the oldest went");
        let newest = format!("138{:08}", DEV_SINK_KEEP + 49);
        assert_eq!(sink.sent_to(&newest).len(), 1);
        // One phone, many messages: its last ones are shown, newest last.
        for n in 0..DEV_SINK_PER_PHONE + 5 {
            sink.send("13912345678", &message(n)).await.unwrap();
        }
        let mine = sink.sent_to("13912345678");
        assert_eq!(mine.len(), DEV_SINK_PER_PHONE);
        assert_eq!(
            mine.last().unwrap().text,
            format!("code {:06}", DEV_SINK_PER_PHONE + 4)
        );
        assert_eq!(sink.len(), DEV_SINK_KEEP);
    }

    #[test]
    fn throttling_is_transient_and_a_bad_template_is_not() {
        let prefixes = ["Throttling", "isv.BUSINESS_LIMIT_CONTROL"];
        assert!(classify("isv.BUSINESS_LIMIT_CONTROL", "", &prefixes).transient);
        assert!(classify("Throttling.User", "", &prefixes).transient);
        assert!(!classify("isv.SMS_TEMPLATE_ILLEGAL", "", &prefixes).transient);
    }
}
