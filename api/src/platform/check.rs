//! `permitd check`: reads the configuration as `permitd` would and checks each thing a start in
//! production depends on, one plain function per line. Nothing is created or changed: no
//! database file, no migration, no keys (the probe file of the object store is removed again).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::credentials::documents::Fonts;
use crate::credentials::keys::KeyRing;
use crate::platform::config::{Config, Secret};
use crate::platform::storage;

/// One line of the report: what was checked, whether it passed, and what was found or, when
/// it failed, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub subject: &'static str,
    pub ok: bool,
    pub text: String,
}

impl CheckLine {
    fn pass(subject: &'static str, text: impl Into<String>) -> Self {
        Self {
            subject,
            ok: true,
            text: text.into(),
        }
    }
    fn fail(subject: &'static str, text: impl Into<String>) -> Self {
        Self {
            subject,
            ok: false,
            text: text.into(),
        }
    }
}

impl fmt::Display for CheckLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { '✓' } else { '✗' };
        write!(f, "{mark} {:<12} {}", self.subject, self.text)
    }
}

/// Every check, in the order `permitd check` prints them.
pub async fn run_all(config: &Config) -> Vec<CheckLine> {
    vec![
        database(config).await,
        ephemeral_store(config).await,
        object_store(config).await,
        keys(config),
        data_keys(config),
        font(config),
        sms_provider(config),
        webauthn(config),
        cookies(config),
    ]
}

fn database_url(config: &Config) -> Option<&str> {
    config.database_url.as_ref().map(Secret::expose)
}

/// Whether the configuration names PostgreSQL (so several instances may share it).
pub fn uses_postgres(config: &Config) -> bool {
    matches!(
        storage::sqlite_file(database_url(config), &config.data_dir),
        Ok(None)
    )
}

/// The database is reachable and its schema is the one this build expects.
pub async fn database(config: &Config) -> CheckLine {
    const S: &str = "database";
    let state = match storage::schema_state(database_url(config), &config.data_dir).await {
        Ok(state) => state,
        Err(storage::OpenError::Missing(file)) => {
            return CheckLine::fail(
                S,
                format!(
                    "no SQLite database at {}: run `permitd migrate` to create it (permitd also does at start)",
                    file.display()
                ),
            );
        }
        Err(e @ storage::OpenError::UnsupportedScheme(_)) => {
            return CheckLine::fail(S, e.to_string());
        }
        Err(e) => {
            return CheckLine::fail(
                S,
                format!(
                    "not reachable ({e}): check DATABASE_URL, that the server runs and that it accepts this user"
                ),
            );
        }
    };
    let name = if state.backend == "postgres" {
        "PostgreSQL".to_string()
    } else {
        match storage::sqlite_file(database_url(config), &config.data_dir) {
            Ok(Some(file)) => format!("SQLite {}", file.display()),
            _ => "SQLite".to_string(),
        }
    };
    if !state.foreign.is_empty() {
        return CheckLine::fail(
            S,
            format!(
                "{name}: migrations {:?} were applied by another version of permitd: run the version that matches this database",
                state.foreign
            ),
        );
    }
    if !state.pending.is_empty() {
        return CheckLine::fail(
            S,
            format!(
                "{name}: {} migration(s) not applied (first: {}): run `permitd migrate`",
                state.pending.len(),
                state.pending[0]
            ),
        );
    }
    CheckLine::pass(S, format!("{name}, reachable, schema up to date"))
}

/// Redis is reachable when configured, and configured when the database is PostgreSQL (several
/// instances must agree on sessions and limits) unless the operator says there is one instance.
pub async fn ephemeral_store(config: &Config) -> CheckLine {
    const S: &str = "redis";
    let Some(url) = config
        .redis_url
        .as_ref()
        .map(Secret::expose)
        .filter(|u| !u.is_empty())
    else {
        if uses_postgres(config) && !config.single_instance {
            return CheckLine::fail(
                S,
                "PostgreSQL without Redis: set REDIS_URL so every instance shares sessions, codes and limits, or PERMIT_SINGLE_INSTANCE=true if only one permitd runs",
            );
        }
        return CheckLine::pass(S, "not used: the in-process store (one instance)");
    };
    let attempt = async {
        let store = crate::platform::ephemeral::open(Some(url), &config.redis_prefix)
            .await
            .map_err(|e| e.to_string())?;
        store.ping().await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Ok(Ok(())) => CheckLine::pass(S, "reachable (PING answered)"),
        Ok(Err(e)) => CheckLine::fail(
            S,
            format!("not reachable ({e}): check REDIS_URL and that Redis runs"),
        ),
        Err(_) => CheckLine::fail(
            S,
            "no answer within 10 s: check REDIS_URL and that Redis runs",
        ),
    }
}

/// The nearest directory of `path` (itself included) that exists.
fn nearest_existing(path: &Path) -> Option<&Path> {
    path.ancestors().find(|p| p.is_dir())
}

/// The proof files' store takes a write, a read and a delete.
pub async fn object_store(config: &Config) -> CheckLine {
    const S: &str = "files";
    let s3 = config.files_url.as_deref().filter(|u| !u.is_empty());
    let local = config.data_dir.join("files");
    if s3.is_none() && !local.is_dir() {
        // permitd creates the folder at start; it must be able to.
        let Some(parent) = nearest_existing(&local) else {
            return CheckLine::fail(S, format!("{}: no existing parent folder", local.display()));
        };
        let probe = parent.join(format!(".permitd-check-{}", uuid::Uuid::new_v4().simple()));
        return match std::fs::write(&probe, b"check").and_then(|()| std::fs::remove_file(&probe)) {
            Ok(()) => CheckLine::pass(
                S,
                format!(
                    "{} (created at first start; {} is writable)",
                    local.display(),
                    parent.display()
                ),
            ),
            Err(e) => CheckLine::fail(
                S,
                format!(
                    "{} cannot be created ({e}): give permitd's user write access to {}",
                    local.display(),
                    parent.display()
                ),
            ),
        };
    }
    let where_ = s3.map_or_else(|| local.display().to_string(), str::to_string);
    let store = match crate::casework::materials::open_files(config) {
        Ok(store) => store,
        Err(e) => return CheckLine::fail(S, format!("{where_}: {e}")),
    };
    let key =
        object_store::path::Path::from(format!("permitd-check/{}", uuid::Uuid::new_v4().simple()));
    let probe = async {
        store
            .put(&key, bytes::Bytes::from_static(b"check").into())
            .await?;
        let read = store.get(&key).await?.bytes().await?;
        store.delete(&key).await?;
        Ok::<_, object_store::Error>(read.as_ref() == b"check")
    };
    match tokio::time::timeout(Duration::from_secs(20), probe).await {
        Ok(Ok(true)) => CheckLine::pass(
            S,
            format!("{where_}: writable (probe written, read, deleted)"),
        ),
        Ok(Ok(false)) => CheckLine::fail(S, format!("{where_}: the probe read back differs")),
        Ok(Err(e)) => CheckLine::fail(
            S,
            format!(
                "{where_}: not writable ({e}): check the folder's owner, or the bucket's credentials (AWS_*) and policy"
            ),
        ),
        Err(_) => CheckLine::fail(S, format!("{where_}: no answer within 20 s")),
    }
}

/// Folders a web server commonly serves, and the PWA folder a debug build reads from disk: a
/// key file inside one could be downloaded.
fn web_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = [
        "/var/www",
        "/srv/www",
        "/srv/http",
        "/usr/share/nginx/html",
        "/usr/share/caddy",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../pwa/dist"));
    roots
}

/// The web root among `roots` that holds `dir`, comparing real paths (symlinks resolved).
fn inside_web_root(dir: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    let real = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    roots
        .iter()
        .find(|root| root.canonicalize().is_ok_and(|root| real.starts_with(root)))
        .cloned()
}

/// The keys directory holds a root key and an issuer key, readable by the owner only, and is not
/// where a web server would hand it out. Nothing is generated.
pub fn keys(config: &Config) -> CheckLine {
    const S: &str = "keys";
    let dir = config.keys_dir();
    if !dir.is_dir() {
        return CheckLine::fail(
            S,
            format!(
                "no keys directory {}: copy the production root.key and issuer-*.key there (mode 0600), or create a new set with `permitd keys init`",
                dir.display()
            ),
        );
    }
    if let Some(root) = inside_web_root(&dir, &web_roots()) {
        return CheckLine::fail(
            S,
            format!(
                "{} is inside the web root {}: move it (PERMIT_KEYS_DIR) where no web server serves files",
                dir.display(),
                root.display()
            ),
        );
    }
    if !dir.join(crate::credentials::keys::ROOT_FILE).is_file() {
        return CheckLine::fail(
            S,
            format!(
                "{} has no root.key: copy the production root key there (mode 0600); a new one changes the key every verifier pins",
                dir.display()
            ),
        );
    }
    match KeyRing::load(&dir, &config.issuer_name) {
        Ok(ring) => {
            // From the file names; a schedule recorded in the database may differ.
            let now = chrono::Utc::now();
            let active = ring
                .issuers
                .iter()
                .rev()
                .find(|k| k.activates_at <= now)
                .or(ring.issuers.first())
                .map(|k| {
                    format!(
                        "{} since {}",
                        hex::encode(k.issuer.kid()),
                        k.activates_at.format("%Y-%m-%d")
                    )
                });
            CheckLine::pass(
                S,
                format!(
                    "{}: root key and {} issuer key(s), mode 0600; active issuer key {}",
                    dir.display(),
                    ring.issuers.len(),
                    active.unwrap_or_default()
                ),
            )
        }
        Err(e @ crate::credentials::keys::KeyError::NoIssuer(_)) => {
            CheckLine::fail(S, format!("{e}: add one with `permitd keys rotate`"))
        }
        Err(e) => CheckLine::fail(S, e.to_string()),
    }
}

/// The personal-data keys (data-*.key, index.key) are there and private; checked without
/// creating any, so production learns it lacks them before it starts.
pub fn data_keys(config: &Config) -> CheckLine {
    const S: &str = "data-keys";
    let dir = config.keys_dir();
    match crate::platform::data_keys::DataKeys::load(&dir, false) {
        Ok(keys) => CheckLine::pass(
            S,
            format!(
                "{}: blind-index key and data keys, mode 0600; sealing with {}",
                dir.display(),
                keys.current_kid()
            ),
        ),
        Err(e) => CheckLine::fail(S, e.to_string()),
    }
}

/// The CJK font the PDF slip and receipt embed is found and readable.
pub fn font(config: &Config) -> CheckLine {
    const S: &str = "font";
    match Fonts::new(config).locate() {
        Ok(path) => CheckLine::pass(
            S,
            format!("{} (CJK, for the PDF slip and receipt)", path.display()),
        ),
        Err(e) => CheckLine::fail(
            S,
            format!("{e}: without one the slip and receipt PDFs cannot be made (PERMIT_FONT_PATH)"),
        ),
    }
}

/// A real SMS gateway outside demo and development mode: the provider, its keys, sign name and
/// every template, checked as permitd's start checks them (nothing is sent).
pub fn sms_provider(config: &Config) -> CheckLine {
    const S: &str = "sms";
    if config.sms_provider.is_none() && !config.dev_helpers() {
        return CheckLine::fail(
            S,
            "no SMS provider configured (PERMIT_SMS_PROVIDER): set aliyun or tencent with its keys, sign name and templates, or no resident receives a code",
        );
    }
    match crate::notifications::sms::gateway(config) {
        Ok(_) if config.dev_helpers() && config.sms_provider.is_none() => CheckLine::pass(
            S,
            "the development sink (demo or dev mode): codes are shown at /api/v1/dev/sms, never sent",
        ),
        Ok(_) => CheckLine::pass(
            S,
            "the SMS provider's keys, sign name and templates are set",
        ),
        Err(e) => CheckLine::fail(S, format!("{}, or no resident receives a code", e.0)),
    }
}

/// Whether `host` is `rp_id` or one of its subdomains (WebAuthn's rule for an RP id).
fn rp_id_covers(rp_id: &str, host: &str) -> bool {
    let (rp_id, host) = (rp_id.to_ascii_lowercase(), host.to_ascii_lowercase());
    host == rp_id || host.ends_with(&format!(".{rp_id}"))
}

/// WebAuthn's origin is the public URL (browsers and the CSRF check compare it) and its RP id is
/// that URL's host or a parent domain of it; a passkey needs https except on localhost.
pub fn webauthn(config: &Config) -> CheckLine {
    const S: &str = "webauthn";
    let origin = match url::Url::parse(&config.webauthn_origin) {
        Ok(o) => o,
        Err(e) => {
            return CheckLine::fail(
                S,
                format!("PERMIT_WEBAUTHN_ORIGIN `{}`: {e}", config.webauthn_origin),
            );
        }
    };
    let Some(host) = origin.host_str().map(str::to_string) else {
        return CheckLine::fail(
            S,
            "PERMIT_WEBAUTHN_ORIGIN has no host: set it to the public URL, e.g. https://permit.example.gov.cn",
        );
    };
    if origin.path() != "/" || origin.query().is_some() {
        return CheckLine::fail(
            S,
            format!(
                "PERMIT_WEBAUTHN_ORIGIN `{}` has a path: an origin is scheme, host and port only",
                config.webauthn_origin
            ),
        );
    }
    let local = host == "localhost" || host.ends_with(".localhost");
    if origin.scheme() != "https" && !local {
        return CheckLine::fail(
            S,
            format!(
                "the public URL {} is not https: browsers offer passkeys only over https; serve permitd behind TLS and set PERMIT_WEBAUTHN_ORIGIN=https://{host}",
                origin.origin().ascii_serialization()
            ),
        );
    }
    if !rp_id_covers(&config.webauthn_rp_id, &host) {
        return CheckLine::fail(
            S,
            format!(
                "PERMIT_WEBAUTHN_RP_ID `{}` is neither the public URL's host `{host}` nor a parent domain of it: set PERMIT_WEBAUTHN_RP_ID={host}",
                config.webauthn_rp_id
            ),
        );
    }
    if let Err(e) =
        webauthn_rs::WebauthnBuilder::new(&config.webauthn_rp_id, &origin).and_then(|b| b.build())
    {
        return CheckLine::fail(S, format!("WebAuthn refuses these settings: {e}"));
    }
    CheckLine::pass(
        S,
        format!(
            "origin {} and RP id {} agree",
            origin.origin().ascii_serialization(),
            config.webauthn_rp_id
        ),
    )
}

/// Session cookies are `Secure` exactly when the public URL is https.
pub fn cookies(config: &Config) -> CheckLine {
    const S: &str = "cookies";
    let https = url::Url::parse(&config.webauthn_origin).is_ok_and(|o| o.scheme() == "https");
    match (https, config.secure_cookies) {
        (true, true) => CheckLine::pass(S, "Secure, as the https origin needs"),
        (true, false) => CheckLine::fail(
            S,
            "the origin is https but cookies are not Secure: set PERMIT_SECURE_COOKIES=true",
        ),
        (false, true) => CheckLine::fail(
            S,
            "cookies are Secure but the origin is http, so browsers drop them: serve over https, or set PERMIT_SECURE_COOKIES=false",
        ),
        (false, false) => CheckLine::pass(S, "not Secure: the origin is http (development only)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Config {
        Config {
            webauthn_origin: "https://permit.example.gov.cn".into(),
            webauthn_rp_id: "permit.example.gov.cn".into(),
            secure_cookies: true,
            ..Config::default()
        }
    }

    #[test]
    fn the_rp_id_must_be_the_host_or_a_parent_domain() {
        assert!(webauthn(&production()).ok);
        let parent = Config {
            webauthn_rp_id: "example.gov.cn".into(),
            ..production()
        };
        assert!(webauthn(&parent).ok, "{}", webauthn(&parent));
        let other = Config {
            webauthn_rp_id: "evil.cn".into(),
            ..production()
        };
        let line = webauthn(&other);
        assert!(!line.ok);
        assert!(
            line.text
                .contains("PERMIT_WEBAUTHN_RP_ID=permit.example.gov.cn"),
            "{line}"
        );
        // A suffix that is not on a label boundary is no parent domain.
        let glued = Config {
            webauthn_rp_id: "ample.gov.cn".into(),
            ..production()
        };
        assert!(!webauthn(&glued).ok);
    }

    #[test]
    fn a_public_http_origin_or_a_path_fails_and_localhost_passes() {
        let http = Config {
            webauthn_origin: "http://permit.example.gov.cn".into(),
            ..production()
        };
        assert!(
            webauthn(&http).text.contains("not https"),
            "{}",
            webauthn(&http)
        );
        let path = Config {
            webauthn_origin: "https://permit.example.gov.cn/app".into(),
            ..production()
        };
        assert!(!webauthn(&path).ok);
        assert!(
            webauthn(&Config::default()).ok,
            "{}",
            webauthn(&Config::default())
        );
    }

    #[test]
    fn the_sms_line_names_what_the_provider_still_lacks() {
        use crate::platform::config::SmsProvider;
        let none = sms_provider(&production());
        assert!(
            !none.ok && none.text.contains("PERMIT_SMS_PROVIDER"),
            "{none}"
        );
        let dev = Config {
            sms_provider: Some(SmsProvider::Dev),
            ..production()
        };
        assert!(
            !sms_provider(&dev).ok,
            "the development sink is refused in production"
        );
        let keyless = Config {
            sms_provider: Some(SmsProvider::Aliyun),
            ..production()
        };
        assert!(!sms_provider(&keyless).ok, "{}", sms_provider(&keyless));
        let development = Config {
            dev: true,
            ..Config::default()
        };
        assert!(
            sms_provider(&development).ok,
            "the sink serves demo and dev mode"
        );
    }

    #[test]
    fn cookies_are_secure_exactly_when_the_origin_is_https() {
        assert!(cookies(&production()).ok);
        assert!(cookies(&Config::default()).ok);
        let insecure = Config {
            secure_cookies: false,
            ..production()
        };
        assert!(
            cookies(&insecure)
                .text
                .contains("PERMIT_SECURE_COOKIES=true")
        );
        let dropped = Config {
            secure_cookies: true,
            ..Config::default()
        };
        assert!(!cookies(&dropped).ok);
    }

    #[test]
    fn outside_demo_and_dev_mode_an_sms_provider_is_required() {
        let line = sms_provider(&production());
        assert!(!line.ok);
        assert!(
            line.text
                .starts_with("no SMS provider configured (PERMIT_SMS_PROVIDER)"),
            "{line}"
        );
        let dev = Config {
            dev: true,
            ..production()
        };
        assert!(sms_provider(&dev).ok);
    }

    #[test]
    fn postgres_needs_redis_unless_one_instance_is_declared() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pg = Config {
            database_url: Some(Secret::new("postgres://permit@127.0.0.1:1/permit")),
            ..production()
        };
        let line = rt.block_on(ephemeral_store(&pg));
        assert!(!line.ok);
        assert!(line.text.contains("PERMIT_SINGLE_INSTANCE=true"), "{line}");
        let single = Config {
            single_instance: true,
            ..pg
        };
        assert!(rt.block_on(ephemeral_store(&single)).ok);
        // SQLite is one instance by nature.
        assert!(rt.block_on(ephemeral_store(&production())).ok);
    }

    #[test]
    fn keys_are_checked_without_creating_any() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..production()
        };
        let line = keys(&config);
        assert!(!line.ok);
        assert!(!dir.path().join("keys").exists(), "check created no keys");
        KeyRing::load_or_create(&config.keys_dir(), "test", chrono::Utc::now()).unwrap();
        assert!(keys(&config).ok, "{}", keys(&config));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let root = config.keys_dir().join(crate::credentials::keys::ROOT_FILE);
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o644)).unwrap();
            let line = keys(&config);
            assert!(!line.ok);
            assert!(line.text.contains("chmod 600"), "{line}");
        }
    }

    #[test]
    fn data_keys_are_checked_without_creating_any() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..production()
        };
        let line = data_keys(&config);
        assert!(!line.ok);
        assert!(line.text.contains("permitd keys init"), "{line}");
        assert!(!config.keys_dir().exists(), "check created no keys");
        crate::platform::data_keys::DataKeys::add_key(&config.keys_dir(), chrono::Utc::now())
            .unwrap();
        assert!(data_keys(&config).ok, "{}", data_keys(&config));
    }

    #[test]
    fn a_keys_directory_inside_a_web_root_is_found() {
        let www = tempfile::tempdir().unwrap();
        let keys = www.path().join("site/keys");
        std::fs::create_dir_all(&keys).unwrap();
        let roots = vec![PathBuf::from("/nonexistent/www"), www.path().to_path_buf()];
        assert_eq!(
            inside_web_root(&keys, &roots),
            Some(www.path().to_path_buf())
        );
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(inside_web_root(elsewhere.path(), &roots), None);
        // A relative or symlinked path is judged where it really is.
        #[cfg(unix)]
        {
            let link = elsewhere.path().join("keys");
            std::os::unix::fs::symlink(&keys, &link).unwrap();
            assert!(inside_web_root(&link, &roots).is_some());
        }
    }
}
