//! Alibaba Cloud SMS: `SendSms` of Dysmsapi 2017-05-25, an RPC-style call signed with
//! signature version 3 (`ACS3-HMAC-SHA256`). The parameters go in the query string of a POST
//! with an empty body, as in the documentation's worked example.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::RngCore;

use super::{
    Delivered, ProviderSettings, SmsError, SmsMessage, SmsSender, SmsSetupError, classify,
    hmac_sha256, host_of, sha256_hex,
};

pub const DEFAULT_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";
const ACTION: &str = "SendSms";
const VERSION: &str = "2017-05-25";
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Error codes worth another try later: flow control (per number and per account), and the
/// provider's own failures.
const TRANSIENT: &[&str] = &[
    "Throttling",
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isp.",
    "ServiceUnavailable",
    "InternalError",
];

pub struct Aliyun {
    settings: ProviderSettings,
    endpoint: url::Url,
}

impl Aliyun {
    pub fn new(settings: ProviderSettings) -> Result<Self, SmsSetupError> {
        let endpoint = match &settings.endpoint {
            Some(e) => e.clone(),
            None => url::Url::parse(DEFAULT_ENDPOINT).map_err(|e| SmsSetupError(e.to_string()))?,
        };
        Ok(Self { settings, endpoint })
    }
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~` (so a space is `%20` and
/// `*` is `%2A`), as the V3 signature requires.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The canonical query string: encoded names and values, sorted by name.
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `Authorization` header of a V3 request. `headers` are the signed headers, names in
/// lower case (`host`, `x-acs-*`, and `content-type` when there is a body).
pub fn authorization(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body_sha256: &str,
    access_key_id: &str,
    secret: &str,
) -> String {
    let (canonical_headers, signed_headers) = super::canonical_headers(headers, false);
    let canonical_request =
        format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{body_sha256}");
    let string_to_sign = format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()));
    let signature = hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
}

/// The V3 date header: ISO 8601 in UTC, to the second.
pub fn acs_date(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[async_trait]
impl SmsSender for Aliyun {
    async fn send(&self, phone: &str, message: &SmsMessage) -> Result<Delivered, SmsError> {
        let template = self.settings.template(&message.kind)?;
        let params: serde_json::Map<String, serde_json::Value> = message
            .params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let params = serde_json::Value::Object(params).to_string();
        let query = canonical_query(&[
            ("PhoneNumbers", phone),
            ("SignName", &self.settings.sign_name),
            ("TemplateCode", template),
            ("TemplateParam", &params),
        ]);
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let date = acs_date(Utc::now());
        let host = host_of(&self.endpoint);
        let body_sha256 = sha256_hex(b"");
        let signed = [
            ("host", host.as_str()),
            ("x-acs-action", ACTION),
            ("x-acs-content-sha256", body_sha256.as_str()),
            ("x-acs-date", date.as_str()),
            ("x-acs-signature-nonce", nonce.as_str()),
            ("x-acs-version", VERSION),
        ];
        let path = self.endpoint.path().to_string();
        let auth = authorization(
            "POST",
            &path,
            &query,
            &signed,
            &body_sha256,
            &self.settings.access_key_id,
            self.settings.access_key_secret.expose(),
        );
        let mut url = self.endpoint.clone();
        url.set_query(Some(&query));
        let mut request = self.settings.http.post(url).header("authorization", auth);
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| SmsError::from_http(&e))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(|e| SmsError::from_http(&e))?;
        let code = body["Code"].as_str().unwrap_or_default();
        if status.is_success() && code == "OK" {
            return Ok(Delivered {
                message_id: body["BizId"].as_str().map(str::to_string),
            });
        }
        let detail = body["Message"].as_str().unwrap_or_default();
        if code.is_empty() {
            // No code to go by: the provider's own trouble is worth another try.
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                SmsError::transient("bad_answer", format!("HTTP {status}"))
            } else {
                SmsError::permanent("bad_answer", format!("HTTP {status}"))
            });
        }
        Err(classify(code, detail, TRANSIENT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Alibaba Cloud's "V3 request structure and signature" page
    /// (help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature, the
    /// `RunInstances` example): fixed keys, date and nonce give the published signature.
    #[test]
    fn the_documentation_example_gives_the_published_signature() {
        let query = canonical_query(&[
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ]);
        assert_eq!(
            query,
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        );
        let empty = sha256_hex(b"");
        assert_eq!(
            empty,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let auth = authorization(
            "POST",
            "/",
            &query,
            &[
                ("x-acs-version", "2014-05-26"),
                ("host", "ecs.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", "RunInstances"),
                ("x-acs-content-sha256", &empty),
                ("x-acs-date", "2023-10-26T10:22:32Z"),
                ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ],
            &empty,
            "YourAccessKeyId",
            "YourAccessKeySecret",
        );
        assert_eq!(
            auth,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;\
             x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn parameters_are_encoded_as_rfc_3986_asks() {
        assert_eq!(percent_encode("a b*c~d"), "a%20b%2Ac~d");
        assert_eq!(
            percent_encode("{\"code\":\"1\"}"),
            "%7B%22code%22%3A%221%22%7D"
        );
        assert_eq!(percent_encode("居"), "%E5%B1%85");
    }
}
