//! Tencent Cloud SMS: `SendSms` of API 3.0 (version 2021-01-11), a JSON POST signed with
//! `TC3-HMAC-SHA256`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    Delivered, ProviderSettings, SmsError, SmsMessage, SmsSender, SmsSetupError, classify,
    hmac_sha256, host_of, sha256_hex,
};

pub const DEFAULT_ENDPOINT: &str = "https://sms.tencentcloudapi.com/";
const SERVICE: &str = "sms";
const ACTION: &str = "SendSms";
const VERSION: &str = "2021-01-11";
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Error codes worth another try later: frequency limits and the provider's own failures.
const TRANSIENT: &[&str] = &[
    "RequestLimitExceeded",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
    "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "LimitExceeded.PhoneNumberDailyLimit",
    "LimitExceeded.DeliveryFrequencyLimit",
    "InternalError",
    "ResourceUnavailable.ServiceUnavailable",
];

pub struct Tencent {
    settings: ProviderSettings,
    endpoint: url::Url,
}

impl Tencent {
    pub fn new(settings: ProviderSettings) -> Result<Self, SmsSetupError> {
        let endpoint = match &settings.endpoint {
            Some(e) => e.clone(),
            None => url::Url::parse(DEFAULT_ENDPOINT).map_err(|e| SmsSetupError(e.to_string()))?,
        };
        Ok(Self { settings, endpoint })
    }
}

/// The `Authorization` header of a TC3 POST with an empty query string. `headers` are the
/// signed headers (at least `content-type` and `host`), names in lower case.
pub fn authorization(
    headers: &[(&str, &str)],
    payload: &[u8],
    service: &str,
    timestamp: i64,
    secret_id: &str,
    secret_key: &str,
) -> String {
    let (canonical_headers, signed_headers) = super::canonical_headers(headers, true);
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(payload)
    );
    let date = DateTime::<Utc>::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let secret_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// A mainland number in E.164, as `PhoneNumberSet` wants it.
fn e164(phone: &str) -> String {
    if phone.starts_with('+') {
        phone.to_string()
    } else {
        format!("+86{phone}")
    }
}

#[async_trait]
impl SmsSender for Tencent {
    async fn send(&self, phone: &str, message: &SmsMessage) -> Result<Delivered, SmsError> {
        let template = self.settings.template(&message.kind)?;
        let payload = serde_json::json!({
            "PhoneNumberSet": [e164(phone)],
            "SmsSdkAppId": self.settings.sdk_app_id,
            "SignName": self.settings.sign_name,
            "TemplateId": template,
            "TemplateParamSet": message.params.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        })
        .to_string();
        let host = host_of(&self.endpoint);
        let timestamp = Utc::now().timestamp();
        let auth = authorization(
            &[
                ("content-type", CONTENT_TYPE),
                ("host", &host),
                ("x-tc-action", ACTION),
            ],
            payload.as_bytes(),
            SERVICE,
            timestamp,
            &self.settings.access_key_id,
            self.settings.access_key_secret.expose(),
        );
        let response = self
            .settings
            .http
            .post(self.endpoint.clone())
            .header("authorization", auth)
            .header("content-type", CONTENT_TYPE)
            .header("host", &host)
            .header("x-tc-action", ACTION)
            .header("x-tc-version", VERSION)
            .header("x-tc-timestamp", timestamp.to_string())
            .header("x-tc-region", &self.settings.region)
            .body(payload)
            .send()
            .await
            .map_err(|e| SmsError::from_http(&e))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(|e| SmsError::from_http(&e))?;
        let answer = &body["Response"];
        if let Some(error) = answer.get("Error") {
            let code = error["Code"].as_str().unwrap_or("bad_answer");
            return Err(classify(
                code,
                error["Message"].as_str().unwrap_or_default(),
                TRANSIENT,
            ));
        }
        let Some(sent) = answer["SendStatusSet"].get(0) else {
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                SmsError::transient("bad_answer", format!("HTTP {status}"))
            } else {
                SmsError::permanent("bad_answer", format!("HTTP {status}"))
            });
        };
        match sent["Code"].as_str().unwrap_or_default() {
            "Ok" => Ok(Delivered {
                message_id: sent["SerialNo"].as_str().map(str::to_string),
            }),
            code => Err(classify(
                code,
                sent["Message"].as_str().unwrap_or_default(),
                TRANSIENT,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Tencent Cloud's "Signature v3" page (API 3.0 common parameters,
    /// cloud.tencent.com/document/api/213/30654 and its English version): CVM
    /// `DescribeInstances` at timestamp 1551113065 with SecretKey
    /// `Gu5t9xGARNpq86cd98joQYCN3EXAMPLE` gives the published signature.
    #[test]
    fn the_documentation_example_gives_the_published_signature() {
        let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(
            sha256_hex(payload.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let auth = authorization(
            &[
                ("host", "cvm.tencentcloudapi.com"),
                ("content-type", CONTENT_TYPE),
            ],
            payload.as_bytes(),
            "cvm",
            1551113065,
            "AKID**********************0123456789EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn numbers_are_sent_in_e164() {
        assert_eq!(e164("13812345678"), "+8613812345678");
        assert_eq!(e164("+8613812345678"), "+8613812345678");
    }
}
