//! Configuration: defaults, then a TOML file (`--config`), then `PERMIT_*` environment variables
//! (plus the conventional `DATABASE_URL` and `REDIS_URL`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::platform::proxy::{ProxyHeader, TrustedProxies};
use crate::privacy::retention::model::RetentionPolicy;

/// A value that must never reach a log line or a `Debug` dump (database passwords, keys).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

/// Which SMS gateway sends: a real provider, or the development sink (demo and development
/// mode only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    Aliyun,
    Tencent,
    Dev,
}

/// Message kind -> the provider's template id. Read from a TOML table, a figment dict
/// (`{login_code="SMS_1"}`) or a JSON object in a string (`{"login_code":"SMS_1"}`); ids may be
/// numbers (Tencent's are).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SmsTemplates(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for SmsTemplates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Id {
            Text(String),
            Number(u64),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Map(BTreeMap<String, Id>),
            Json(String),
        }
        let map = match Form::deserialize(d)? {
            Form::Map(m) => m,
            Form::Json(text) if text.trim().is_empty() => BTreeMap::new(),
            Form::Json(text) => serde_json::from_str(&text).map_err(|e| {
                serde::de::Error::custom(format!("sms_templates: not a JSON object: {e}"))
            })?,
        };
        Ok(SmsTemplates(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Id::Text(t) => t,
                        Id::Number(n) => n.to_string(),
                    };
                    (k, v)
                })
                .collect(),
        ))
    }
}

/// A setting that is text but may look like a number in the environment (an SDK app id).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Number(u64),
    }
    Ok(Option::<Value>::deserialize(d)?.map(|v| match v {
        Value::Text(t) => t,
        Value::Number(n) => n.to_string(),
    }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address permitd listens on.
    pub listen: SocketAddr,
    /// Where the embedded defaults keep their files (SQLite database, signing keys, proof files).
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; empty means SQLite in the data directory.
    pub database_url: Option<Secret>,
    /// `redis://...`; empty means the in-process ephemeral store.
    pub redis_url: Option<Secret>,
    /// One permitd instance only: PostgreSQL without Redis is then allowed by `permitd check`
    /// (with several instances, limits and sessions kept in one process would not agree).
    pub single_instance: bool,
    /// Connections of this instance's PostgreSQL pool; with N instances the database serves
    /// N times as many (keep it under PostgreSQL's `max_connections`).
    pub db_pool_size: u32,
    /// How long a request waits for a PostgreSQL connection (a new one included) before it
    /// answers `503` with `Retry-After`: a database that is down fails requests this fast.
    pub db_acquire_timeout_ms: u64,
    /// The longest one PostgreSQL statement may take, lock waits included; a database that
    /// stops answering mid-request fails it after this long.
    pub db_statement_timeout_ms: u64,
    /// Redis: the longest connection attempt and the longest wait for one command's answer
    /// (a reconnection included) before the request answers `503` with `Retry-After`.
    pub redis_timeout_ms: u64,
    /// Prefix for every Redis key, so several deployments (or test runs) can share one server.
    pub redis_prefix: String,
    /// Demo mode: loads the seed data once and enables the development SMS sink.
    pub demo: bool,
    /// Development mode: enables the development SMS sink without loading demo data.
    pub dev: bool,
    /// WebAuthn relying-party id (the site's domain).
    pub webauthn_rp_id: String,
    /// WebAuthn origin the browser reports (scheme, host and port of the PWA).
    pub webauthn_origin: String,
    /// Mark the session cookie `Secure` (set true behind HTTPS).
    pub secure_cookies: bool,
    pub log_format: LogFormat,
    /// Proof-of-work difficulty: the largest number a captcha solver may have to try.
    pub captcha_difficulty: u64,
    /// HMAC key for captcha challenges; generated and kept in the database when empty.
    pub captcha_hmac_key: Option<Secret>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// How long an SMS code stays valid, in seconds.
    pub sms_code_lifetime_secs: u64,
    /// Least time between two codes to one phone, in seconds.
    pub sms_resend_interval_secs: u64,
    /// Password hashes and checks run at once (each argon2 run takes ~19 MiB); 0 for one per core.
    pub password_hash_concurrency: usize,
    /// How long a request waits for a free password hasher before `503 busy`, in milliseconds.
    pub password_hash_wait_ms: u64,
    /// Where proof files go: empty for `<data_dir>/files`, or `s3://bucket/prefix` (credentials,
    /// region and endpoint from the usual `AWS_*` environment variables).
    pub files_url: Option<String>,
    /// Largest proof-file upload request, in bytes (a 10 MB file plus the multipart framing).
    pub max_upload_bytes: usize,
    /// A JSON eligibility policy (see `api/seed/policy-zhejiang.json`); empty for Zhejiang.
    pub eligibility_policy: Option<PathBuf>,
    /// Seconds between two rounds of background work (no-shows, reminders, SMS); 0 disables
    /// the background jobs of this instance.
    pub jobs_interval_secs: u64,
    /// Signing keys (root.key, issuer-*.key, mode 0600); empty for `<data_dir>/keys`, where a
    /// development set is generated on first start.
    pub keys_dir: Option<PathBuf>,
    /// The issuer name in credentials and lists (`iss`).
    pub issuer_name: String,
    /// Time to live of the signed trust list, in seconds.
    pub trust_list_ttl_secs: u64,
    /// Time to live of the signed status list, in seconds (how late a revocation may reach an
    /// offline verifier).
    pub status_list_ttl_secs: u64,
    /// A CJK font (TTF/OTF/TTC) for PDF documents; empty to search `<data_dir>/fonts` and the
    /// Debian font packages.
    pub font_path: Option<PathBuf>,
    /// The face in a font collection (TTC).
    pub font_index: u32,
    /// How long a step-up (SMS code or passkey) counts for the operations that need a fresh
    /// one, in seconds; 0 means never (every such operation asks again).
    pub step_up_fresh_secs: u64,
    /// A clerk's or administrator's session ends after this many seconds unused.
    pub staff_idle_secs: u64,
    /// The privacy notice version registration and consent ask for; empty is refused. Its
    /// default is the notice permitd carries (`privacy::model::NOTICE_VERSION`).
    pub privacy_notice_version: String,
    /// A clerk's or administrator's session ends this many seconds after sign-in.
    pub staff_session_secs: u64,
    /// Proxies (CIDR ranges) whose forwarding header names the client; empty: the socket peer
    /// is the client and forwarding headers are ignored.
    pub trusted_proxies: TrustedProxies,
    /// The header those proxies append to: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub proxy_header: ProxyHeader,
    /// A separate address for `/metrics` (then the main listener does not serve it).
    pub metrics_listen: Option<SocketAddr>,
    /// A bearer token `/metrics` requires. With neither a token nor a separate address,
    /// `/metrics` is not served at all.
    pub metrics_token: Option<Secret>,
    /// The SMS gateway: `aliyun` or `tencent`; `dev` (the in-memory sink) only in demo or
    /// development mode, where it is also the default. Outside them permitd refuses to start
    /// without a provider.
    pub sms_provider: Option<SmsProvider>,
    /// The provider's access key id (Alibaba AccessKey ID, Tencent SecretId).
    #[serde(deserialize_with = "text_or_number")]
    pub sms_access_key_id: Option<String>,
    /// The provider's access key secret (Alibaba AccessKey Secret, Tencent SecretKey).
    pub sms_access_key_secret: Option<Secret>,
    /// The approved signature (签名) every message carries.
    pub sms_sign_name: Option<String>,
    /// Tencent only: the SMS application id (SmsSdkAppId).
    #[serde(deserialize_with = "text_or_number")]
    pub sms_sdk_app_id: Option<String>,
    /// Tencent only: the region of the API (`X-TC-Region`).
    pub sms_region: String,
    /// Another base URL for the provider's API (a proxy, or a test server).
    pub sms_endpoint: Option<String>,
    /// One template id per message kind (`notifications::sms::SMS_KINDS`).
    pub sms_templates: SmsTemplates,
    /// How long a call to the provider may take before it counts as failed (and is retried).
    pub sms_timeout_ms: u64,
    /// How long personal data is kept (`[retention]` in the file, `PERMIT_RETENTION__*` in the
    /// environment), in days.
    pub retention: RetentionPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            single_instance: false,
            db_pool_size: crate::platform::storage::DEFAULT_POOL_SIZE,
            db_acquire_timeout_ms: crate::platform::storage::DEFAULT_ACQUIRE_TIMEOUT_MS,
            db_statement_timeout_ms: crate::platform::storage::DEFAULT_STATEMENT_TIMEOUT_MS,
            redis_timeout_ms: crate::platform::ephemeral::DEFAULT_REDIS_TIMEOUT_MS,
            redis_prefix: "permit:".into(),
            demo: false,
            dev: false,
            webauthn_rp_id: "localhost".into(),
            webauthn_origin: "http://localhost:8080".into(),
            secure_cookies: false,
            log_format: LogFormat::Text,
            captcha_difficulty: 50_000,
            captcha_hmac_key: None,
            max_body_bytes: 1024 * 1024,
            sms_code_lifetime_secs: 300,
            sms_resend_interval_secs: 60,
            password_hash_concurrency: 0,
            password_hash_wait_ms: 1000,
            files_url: None,
            max_upload_bytes: 10 * 1024 * 1024 + 64 * 1024,
            eligibility_policy: None,
            jobs_interval_secs: 30,
            keys_dir: None,
            issuer_name: "浙江省公安厅居住证签发".into(),
            trust_list_ttl_secs: 7 * 24 * 3600,
            status_list_ttl_secs: 3600,
            font_path: None,
            font_index: 0,
            step_up_fresh_secs: 300,
            staff_idle_secs: 15 * 60,
            privacy_notice_version: crate::privacy::model::NOTICE_VERSION.into(),
            staff_session_secs: 10 * 3600,
            trusted_proxies: TrustedProxies::default(),
            proxy_header: ProxyHeader::default(),
            metrics_listen: None,
            metrics_token: None,
            sms_provider: None,
            sms_access_key_id: None,
            sms_access_key_secret: None,
            sms_sign_name: None,
            sms_sdk_app_id: None,
            sms_region: "ap-guangzhou".into(),
            sms_endpoint: None,
            sms_templates: SmsTemplates::default(),
            sms_timeout_ms: 10_000,
            retention: RetentionPolicy::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Defaults, then the TOML file if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!(
                    "configuration file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]))
            // `__` reaches into a section: PERMIT_RETENTION__DRAFT_DAYS is retention.draft_days.
            .merge(Env::prefixed("PERMIT_").split("__"));
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=1000).contains(&self.db_pool_size) {
            return Err(ConfigError(format!(
                "PERMIT_DB_POOL_SIZE must be 1 to 1000 connections, not {}",
                self.db_pool_size
            )));
        }
        // A list re-signed every half time to live: under 10 s it would be signed on nearly every
        // request; over 90 days a revocation or a new key would take months to reach verifiers.
        for (name, ttl) in [
            ("PERMIT_TRUST_LIST_TTL_SECS", self.trust_list_ttl_secs),
            ("PERMIT_STATUS_LIST_TTL_SECS", self.status_list_ttl_secs),
        ] {
            if !(10..=90 * 24 * 3600).contains(&ttl) {
                return Err(ConfigError(format!(
                    "{name} must be 10 seconds to 90 days (7776000), not {ttl}"
                )));
            }
        }
        for (name, ms) in [
            ("PERMIT_DB_ACQUIRE_TIMEOUT_MS", self.db_acquire_timeout_ms),
            (
                "PERMIT_DB_STATEMENT_TIMEOUT_MS",
                self.db_statement_timeout_ms,
            ),
            ("PERMIT_REDIS_TIMEOUT_MS", self.redis_timeout_ms),
        ] {
            if !(100..=600_000).contains(&ms) {
                return Err(ConfigError(format!(
                    "{name} must be 100 to 600000 milliseconds, not {ms}"
                )));
            }
        }
        if !(1..=1_000_000).contains(&self.captcha_difficulty) {
            return Err(ConfigError(
                "captcha_difficulty must be between 1 and 1000000".into(),
            ));
        }
        if let Some(files) = self.files_url.as_deref().filter(|u| !u.is_empty())
            && !files.starts_with("s3://")
        {
            return Err(ConfigError(format!(
                "files_url `{files}`: use s3://bucket/prefix, or leave it empty for the data directory"
            )));
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(ConfigError(
                "metrics_token must be at least 16 characters".into(),
            ));
        }
        if self.metrics_listen == Some(self.listen) {
            return Err(ConfigError("metrics_listen must differ from listen".into()));
        }
        self.retention.check().map_err(ConfigError)?;
        if self.privacy_notice_version.trim().is_empty() {
            return Err(ConfigError(
                "privacy_notice_version must not be empty".into(),
            ));
        }
        url::Url::parse(&self.webauthn_origin)
            .map_err(|e| ConfigError(format!("webauthn_origin: {e}")))?;
        Ok(())
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }

    /// The session limits identity applies.
    pub fn session_limits(&self) -> crate::identity::model::SessionLimits {
        crate::identity::model::SessionLimits {
            step_up_fresh_secs: self.step_up_fresh_secs,
            staff_idle_secs: self.staff_idle_secs,
            staff_session_secs: self.staff_session_secs,
        }
    }

    /// Whether development helpers (the SMS sink) are exposed.
    pub fn dev_helpers(&self) -> bool {
        self.demo || self.dev
    }
}

/// The help text of `permitd --help`: every setting, where it comes from.
pub const CONFIG_HELP: &str = "\
Configuration (defaults, then --config FILE (TOML), then environment):
  PERMIT_LISTEN              listen address                       [127.0.0.1:8080]
  PERMIT_DATA_DIR            data directory (SQLite, keys, files) [./data]
  DATABASE_URL               postgres://... or sqlite://...       [SQLite in the data directory]
  REDIS_URL                  redis://...                          [in-process store]
  PERMIT_REDIS_PREFIX        prefix of every Redis key            [permit:]
  PERMIT_SINGLE_INSTANCE     true: one instance, PostgreSQL without Redis is allowed [false]
  PERMIT_DB_POOL_SIZE        PostgreSQL connections of this instance (1-1000) [16]
  PERMIT_DB_ACQUIRE_TIMEOUT_MS  longest wait for a PostgreSQL connection, then 503 [3000]
  PERMIT_DB_STATEMENT_TIMEOUT_MS  longest PostgreSQL statement, then 503 [10000]
  PERMIT_REDIS_TIMEOUT_MS    longest Redis connect or answer, then 503 [3000]
  PERMIT_DEMO                true: load demo data, enable the development SMS sink [false]
  PERMIT_DEV                 true: enable the development SMS sink only            [false]
  PERMIT_WEBAUTHN_RP_ID      WebAuthn relying-party id (domain)   [localhost]
  PERMIT_WEBAUTHN_ORIGIN     WebAuthn origin                      [http://localhost:8080]
  PERMIT_SECURE_COOKIES      true behind HTTPS                    [false]
  PERMIT_LOG_FORMAT          text or json                         [text]
  PERMIT_CAPTCHA_DIFFICULTY  proof-of-work maximum number         [50000]
  PERMIT_CAPTCHA_HMAC_KEY    captcha HMAC key                     [generated, kept in the database]
  PERMIT_MAX_BODY_BYTES      largest request body                 [1048576]
  PERMIT_SMS_CODE_LIFETIME_SECS  how long an SMS code is valid    [300]
  PERMIT_SMS_RESEND_INTERVAL_SECS  least time between two codes   [60]
  PERMIT_PASSWORD_HASH_CONCURRENCY  password hashes at once        [0 = one per core]
  PERMIT_PASSWORD_HASH_WAIT_MS  wait for a free hasher, then 503 [1000]
  PERMIT_FILES_URL           s3://bucket/prefix for proof files   [<data_dir>/files]
  PERMIT_MAX_UPLOAD_BYTES    largest proof-file upload request    [10551296]
  PERMIT_ELIGIBILITY_POLICY  JSON eligibility policy file         [Zhejiang, built in]
  PERMIT_JOBS_INTERVAL_SECS  background jobs period, 0 = off      [30]
  PERMIT_KEYS_DIR            signing and personal-data keys       [<data_dir>/keys, generated in demo/dev]
  PERMIT_ISSUER_NAME         issuer name in credentials            [浙江省公安厅居住证签发]
  PERMIT_TRUST_LIST_TTL_SECS   trust list time to live             [604800]
  PERMIT_STATUS_LIST_TTL_SECS  status list time to live            [3600]
  PERMIT_FONT_PATH           CJK font for PDF slips and receipts  [<data_dir>/fonts, then Debian fonts]
  PERMIT_FONT_INDEX          face index in a font collection      [0]
  PERMIT_STEP_UP_FRESH_SECS  how long a step-up counts, 0 = never [300]
  PERMIT_STAFF_IDLE_SECS     staff session ends when unused for   [900]
  PERMIT_STAFF_SESSION_SECS  staff session ends after in all      [36000]
  PERMIT_PRIVACY_NOTICE_VERSION  privacy notice version to agree to [the notice permitd carries]
  PERMIT_TRUSTED_PROXIES     proxies (CIDR list, comma-separated) whose header names the client
                                                                  [empty: the socket peer is the client]
  PERMIT_PROXY_HEADER        the header they append to: x-forwarded-for or forwarded [x-forwarded-for]
  PERMIT_METRICS_LISTEN      separate listen address for /metrics (not served on the main one)
                                                                  [none]
  PERMIT_METRICS_TOKEN       bearer token /metrics requires (16+ characters)
                                                                  [none: /metrics is off unless
                                                                   PERMIT_METRICS_LISTEN is set]
  PERMIT_SMS_PROVIDER        aliyun, tencent, or dev (demo/development mode only)
                                                                  [dev in demo/development mode;
                                                                   required otherwise]
  PERMIT_SMS_ACCESS_KEY_ID   provider access key id (Tencent SecretId)
  PERMIT_SMS_ACCESS_KEY_SECRET  provider access key secret (Tencent SecretKey)
  PERMIT_SMS_SIGN_NAME       the approved SMS signature (签名)
  PERMIT_SMS_SDK_APP_ID      Tencent: SmsSdkAppId
  PERMIT_SMS_REGION          Tencent: API region                  [ap-guangzhou]
  PERMIT_SMS_ENDPOINT        another base URL for the provider API [the provider's own]
  PERMIT_SMS_TEMPLATES       kind -> template id, JSON object or {kind=\"id\",...}; kinds:
                             register_code login_code change_phone_code step_up_code
                             booking_confirmed booking_cancelled review_passed review_returned
                             reminder no_show endorsement_due permit_issued
  PERMIT_SMS_TIMEOUT_MS      longest provider call before a retry [10000]
  PERMIT_RETENTION__PROOF_FILES_DAYS  proof files kept after the application ended [90]
  PERMIT_RETENTION__DRAFT_DAYS  a draft and its files kept from its start (it expires then) [30]
  PERMIT_RETENTION__RETURNED_ABANDONED_DAYS  a returned application not resubmitted ends after [30]
  PERMIT_RETENTION__NOTIFICATIONS_DAYS  notifications kept               [365]
  PERMIT_RETENTION__SMS_BODIES_DAYS  SMS phone, parameters and error words kept after sending [30]
In a TOML file the keys are the same names in lower case without the prefix
(listen, data_dir, database_url, ...); the retention periods form a [retention] table
(proof_files_days = 90, ...).";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let config = Config {
            database_url: Some(Secret::new("postgres://user:hunter2@db/permit")),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn the_pool_size_is_read_and_bounded() {
        figment::Jail::expect_with(|jail| {
            assert_eq!(Config::load(None).unwrap().db_pool_size, 16);
            jail.set_env("PERMIT_DB_POOL_SIZE", "48");
            assert_eq!(Config::load(None).unwrap().db_pool_size, 48);
            jail.set_env("PERMIT_DB_POOL_SIZE", "0");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("PERMIT_DB_POOL_SIZE"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn list_times_to_live_are_bounded() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PERMIT_TRUST_LIST_TTL_SECS", "20");
            assert_eq!(Config::load(None).unwrap().trust_list_ttl_secs, 20);
            jail.set_env("PERMIT_STATUS_LIST_TTL_SECS", "0");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("PERMIT_STATUS_LIST_TTL_SECS"), "{err}");
            jail.set_env("PERMIT_STATUS_LIST_TTL_SECS", "60");
            jail.set_env("PERMIT_TRUST_LIST_TTL_SECS", "9999999999");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("PERMIT_TRUST_LIST_TTL_SECS"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("permit.toml", "listen = \"127.0.0.1:9000\"\ndemo = true\n")?;
            jail.set_env("PERMIT_LISTEN", "127.0.0.1:9100");
            jail.set_env("DATABASE_URL", "postgres://localhost/x");
            let config = Config::load(Some(Path::new("permit.toml"))).expect("config");
            assert_eq!(config.listen.port(), 9100);
            assert!(config.demo);
            assert_eq!(
                config.database_url.as_ref().map(Secret::expose),
                Some("postgres://localhost/x")
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn trusted_proxies_come_from_a_list_and_a_bad_range_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("permit.toml", "trusted_proxies = [\"10.0.0.0/8\"]\n")?;
            let config = Config::load(Some(Path::new("permit.toml"))).expect("config");
            assert!(config.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
            jail.set_env("PERMIT_TRUSTED_PROXIES", "127.0.0.1/32, 192.168.0.0/16");
            jail.set_env("PERMIT_PROXY_HEADER", "forwarded");
            let config = Config::load(None).expect("config");
            assert!(
                config
                    .trusted_proxies
                    .contains("192.168.7.7".parse().unwrap())
            );
            assert!(!config.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
            assert_eq!(config.proxy_header, ProxyHeader::Forwarded);
            jail.set_env("PERMIT_TRUSTED_PROXIES", "10.0.0.0/40");
            let err = Config::load(None).expect_err("a bad range");
            assert!(err.to_string().contains("10.0.0.0/40"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn sms_settings_come_from_a_file_or_the_environment_and_the_secret_stays_hidden() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "permit.toml",
                "sms_provider = \"tencent\"\nsms_sdk_app_id = 1400000001\n\
                 [sms_templates]\nlogin_code = 1234567\nreview_passed = \"2345678\"\n",
            )?;
            jail.set_env("PERMIT_SMS_ACCESS_KEY_SECRET", "s3cr3t-value");
            let config = Config::load(Some(Path::new("permit.toml"))).expect("config");
            assert_eq!(config.sms_provider, Some(SmsProvider::Tencent));
            assert_eq!(config.sms_sdk_app_id.as_deref(), Some("1400000001"));
            assert_eq!(config.sms_templates.0["login_code"], "1234567");
            assert_eq!(config.sms_templates.0["review_passed"], "2345678");
            assert!(!format!("{config:?}").contains("s3cr3t-value"));
            // The environment: a JSON object, or figment's own dict form.
            jail.set_env("PERMIT_SMS_PROVIDER", "aliyun");
            jail.set_env(
                "PERMIT_SMS_TEMPLATES",
                r#"{"login_code":"SMS_1","step_up_code":"SMS_2"}"#,
            );
            let config = Config::load(None).expect("config");
            assert_eq!(config.sms_provider, Some(SmsProvider::Aliyun));
            assert_eq!(config.sms_templates.0.len(), 2);
            assert_eq!(config.sms_templates.0["step_up_code"], "SMS_2");
            jail.set_env("PERMIT_SMS_TEMPLATES", "{login_code=\"SMS_3\"}");
            let config = Config::load(None).expect("config");
            assert_eq!(config.sms_templates.0["login_code"], "SMS_3");
            jail.set_env("PERMIT_SMS_PROVIDER", "twilio");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn retention_comes_from_a_table_or_the_environment_and_zero_is_refused() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).expect("config");
            assert_eq!(config.retention, RetentionPolicy::default());
            jail.create_file(
                "permit.toml",
                "[retention]\nproof_files_days = 60\nnotifications_days = 180\n",
            )?;
            jail.set_env("PERMIT_RETENTION__SMS_BODIES_DAYS", "7");
            let config = Config::load(Some(Path::new("permit.toml"))).expect("config");
            assert_eq!(config.retention.proof_files_days, 60);
            assert_eq!(config.retention.notifications_days, 180);
            assert_eq!(config.retention.sms_bodies_days, 7);
            assert_eq!(
                config.retention.draft_days, 30,
                "the rest keep their defaults"
            );
            jail.set_env("PERMIT_RETENTION__DRAFT_DAYS", "0");
            let err = Config::load(None).expect_err("zero days");
            assert!(err.to_string().contains("retention.draft_days"), "{err}");
            jail.create_file("bad.toml", "[retention]\nproof_file_days = 60\n")?;
            jail.set_env("PERMIT_RETENTION__DRAFT_DAYS", "30");
            let err = Config::load(Some(Path::new("bad.toml"))).expect_err("a misspelt key");
            assert!(err.to_string().contains("proof_file_days"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(Config::load(Some(Path::new("/nonexistent/permit.toml"))).is_err());
    }
}
