//! Putting permitd together: open storage and the ephemeral store, build the routes, serve.

use std::sync::Arc;

use poem::endpoint::make_sync;
use poem::http::StatusCode;
use poem::listener::{Listener, TcpListener};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, Server, handler};
use poem_openapi::OpenApiService;
use rand::RngCore;
use webauthn_rs::WebauthnBuilder;

use crate::booking::http::AppointmentsApi;
use crate::booking::http::schedule::ScheduleApi;
use crate::casework::applications::http::ApplicationsApi;
use crate::casework::materials::http::MaterialsApi;
use crate::counter::http::CounterApi;
use crate::counter::units::http::UnitsApi;
use crate::credentials::http::{ClaimApi, PermitCounterApi, PermitsApi, TrustApi};
use crate::directory::http::DirectoryApi;
use crate::directory::seed;
use crate::identity::http::accounts::AccountsApi;
use crate::identity::http::captcha::CaptchaApi;
use crate::identity::http::passkeys::PasskeysApi;
use crate::identity::http::sessions::SessionsApi;
use crate::identity::http::sms::SmsApi;
use crate::identity::http::step_up::StepUpApi;
use crate::notifications::http::NotificationsApi;
use crate::platform::config::{Config, Secret};
use crate::platform::metrics::Metrics;
use crate::platform::state::AppState;
use crate::platform::{demo, ephemeral, storage};
use crate::privacy::http::PrivacyApi;
use crate::residence::http::ResidenceApi;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] storage::OpenError),
    #[error(transparent)]
    Ephemeral(#[from] ephemeral::EphemeralOpenError),
    #[error("cannot load seed data: {0}")]
    Seed(#[from] storage::StorageError),
    #[error("WebAuthn settings: {0}")]
    Webauthn(String),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error(transparent)]
    Files(#[from] crate::casework::materials::FilesOpenError),
    #[error("eligibility policy {path}: {reason}")]
    Policy { path: String, reason: String },
    #[error(
        "PostgreSQL without REDIS_URL: with several instances, sessions, rate limits and SMS codes kept in each process would not agree; set REDIS_URL, or PERMIT_SINGLE_INSTANCE=true when only one permitd runs"
    )]
    NeedsRedis,
    #[error("personal-data keys: {0}")]
    DataKeys(#[from] crate::platform::data_keys::DataKeyError),
    #[error("signing keys: {0}")]
    Keys(#[from] crate::credentials::keys::KeyError),
    #[error(transparent)]
    Sms(#[from] crate::notifications::sms::SmsSetupError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// Opens every backend the configuration names and loads the reference data.
pub async fn build_state(config: Config) -> Result<AppState, StartError> {
    // First, before anything is opened: production without an SMS provider is a mistake, and
    // so is PostgreSQL (several instances) with sessions and limits kept in each process.
    let sms = crate::notifications::sms::gateway(&config)?;
    if crate::platform::check::uses_postgres(&config)
        && config
            .redis_url
            .as_ref()
            .is_none_or(|u| u.expose().is_empty())
        && !config.single_instance
    {
        return Err(StartError::NeedsRedis);
    }
    let data_keys = crate::platform::data_keys::DataKeys::for_config(&config)?;
    let storage = storage::open_with(
        config.database_url.as_ref().map(Secret::expose),
        &config.data_dir,
        data_keys.clone(),
        storage::PoolSettings::of(&config),
    )
    .await?;
    let ephemeral = ephemeral::pseudonymous(
        ephemeral::open_bounded(
            config.redis_url.as_ref().map(Secret::expose),
            &config.redis_prefix,
            std::time::Duration::from_millis(config.redis_timeout_ms),
        )
        .await?,
        data_keys.clone(),
    );
    if seed::load_regions_once(&*storage).await? {
        tracing::info!("region tree loaded");
    }
    if crate::booking::service::seed_calendar_once(&*storage).await? {
        tracing::info!("working-day calendar loaded");
    }
    let files = crate::casework::materials::open_files(&config)?;
    // Development and demo mode make themselves a key set; production mounts its own (made
    // once with `permitd keys init`), and a missing one stops the start.
    let ring = if config.dev_helpers() {
        crate::credentials::keys::KeyRing::load_or_create(
            &config.keys_dir(),
            &config.issuer_name,
            chrono::Utc::now(),
        )?
    } else {
        crate::credentials::keys::KeyRing::load(&config.keys_dir(), &config.issuer_name)?
    };
    // Read again well within a trust-list time to live, so each instance switches to a
    // scheduled key at its activation time (it was published at least a TTL before).
    let refresh = std::time::Duration::from_secs((config.trust_list_ttl_secs / 4).clamp(1, 30));
    let keys = crate::credentials::keys::SigningKeys::new(ring, config.keys_dir(), refresh);
    let policy = match &config.eligibility_policy {
        None => crate::residence::eligibility::zhejiang(),
        Some(path) => {
            let fail = |reason: String| StartError::Policy {
                path: path.display().to_string(),
                reason,
            };
            let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
            crate::residence::eligibility::Policy::from_json(&text)
                .map_err(|e| fail(e.to_string()))?
        }
    };
    let captcha_key = match &config.captcha_hmac_key {
        Some(key) => key.clone(),
        None => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            Secret::new(
                storage
                    .setting_get_or_init("captcha_hmac_key", &hex::encode(bytes))
                    .await?,
            )
        }
    };
    let origin = url::Url::parse(&config.webauthn_origin)
        .map_err(|e| StartError::Webauthn(e.to_string()))?;
    let webauthn = WebauthnBuilder::new(&config.webauthn_rp_id, &origin)
        .and_then(|b| b.rp_name("居住证服务平台").build())
        .map_err(|e| StartError::Webauthn(e.to_string()))?;
    let fonts = Arc::new(crate::credentials::documents::Fonts::new(&config));
    let dev_clock = config
        .dev_helpers()
        .then(|| Arc::new(crate::platform::clock::ShiftedClock::default()));
    let hashing = Arc::new(crate::identity::password::Hashing::new(
        config.password_hash_concurrency,
        std::time::Duration::from_millis(config.password_hash_wait_ms),
    ));
    let state = AppState {
        config: Arc::new(config),
        storage,
        ephemeral,
        sms,
        webauthn: Arc::new(webauthn),
        captcha_key,
        hashing,
        metrics: Arc::new(Metrics::new()?),
        files,
        policy: Arc::new(policy),
        keys: Arc::new(keys),
        lists: Arc::new(crate::credentials::trust::Lists::default()),
        clock: match &dev_clock {
            Some(c) => c.clone(),
            None => Arc::new(crate::platform::clock::SystemClock),
        },
        dev_clock,
        fonts,
    };
    if state.config.demo {
        demo::load(&state).await?;
    }
    Ok(state)
}

/// Every resource's operations, one `#[OpenApi]` struct each (grouped: a tuple holds 16).
pub type Apis = (
    (
        CaptchaApi,
        SmsApi,
        AccountsApi,
        SessionsApi,
        StepUpApi,
        PasskeysApi,
        DirectoryApi,
    ),
    (
        ResidenceApi,
        ApplicationsApi,
        MaterialsApi,
        AppointmentsApi,
        NotificationsApi,
        CounterApi,
        ScheduleApi,
    ),
    (
        PermitsApi,
        PermitCounterApi,
        TrustApi,
        UnitsApi,
        ClaimApi,
        PrivacyApi,
    ),
);

pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            (
                CaptchaApi,
                SmsApi,
                AccountsApi,
                SessionsApi,
                StepUpApi,
                PasskeysApi,
                DirectoryApi,
            ),
            (
                ResidenceApi,
                ApplicationsApi,
                MaterialsApi,
                AppointmentsApi,
                NotificationsApi,
                CounterApi,
                ScheduleApi,
            ),
            (PermitsApi, PermitCounterApi, TrustApi, UnitsApi, ClaimApi, PrivacyApi),
        ),
        "居住证服务平台 API",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Residence-permit platform: registration, sign-in, directory. Errors are `{\"code\",\"message\"}` with a stable code.")
    .server("/api/v1")
}

pub fn routes(state: AppState) -> impl Endpoint {
    let api = api_service();
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    Route::new()
        .nest("/api/v1", api)
        .nest("/docs", docs)
        .at("/openapi.json", spec)
        .at("/healthz", make_sync(|_| "ok"))
        .at("/readyz", readyz)
        .at("/metrics", metrics)
        .at("/", crate::platform::pwa::shell)
        .at("/*path", crate::platform::pwa::shell)
        .around(crate::platform::web::edge)
        .data(state)
}

/// How long the readiness probe waits for each backing service: a load balancer polling it
/// must hear "not ready" promptly while a database or Redis is down, not when a pool gives up.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    let (db, eph) = tokio::join!(
        tokio::time::timeout(READY_WITHIN, state.storage.ping()),
        tokio::time::timeout(READY_WITHIN, state.ephemeral.ping()),
    );
    let (db, eph) = (matches!(db, Ok(Ok(()))), matches!(eph, Ok(Ok(()))));
    let body = serde_json::json!({
        "database": { "backend": state.storage.backend(), "ok": db },
        "ephemeral": { "backend": state.ephemeral.backend(), "ok": eph },
    });
    let mut resp = poem::web::Json(body).into_response();
    if db && eph {
        resp.set_status(StatusCode::OK);
    } else {
        resp.set_status(StatusCode::SERVICE_UNAVAILABLE);
        resp.headers_mut().insert(
            "retry-after",
            poem::http::HeaderValue::from(crate::platform::error::UNAVAILABLE_RETRY_SECS),
        );
    }
    resp
}

/// `/metrics` on the main listener: only with a bearer token, and never when a separate
/// metrics listener is configured. Counts of requests by status are not for the public: they
/// show sign-in failures and load as they happen.
#[handler]
async fn metrics(req: &poem::Request, state: Data<&AppState>) -> Response {
    let config = &state.config;
    if config.metrics_listen.is_some() || config.metrics_token.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    metrics_answer(req, &state)
}

/// `/metrics` on its own listener, with the token when one is set.
#[handler]
async fn metrics_only(req: &poem::Request, state: Data<&AppState>) -> Response {
    metrics_answer(req, &state)
}

fn metrics_answer(req: &poem::Request, state: &AppState) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(sent, token.expose()) {
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header(poem::http::header::WWW_AUTHENTICATE, "Bearer")
                .finish();
        }
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// Compares digests of equal length with no early exit, so the time taken says nothing
/// about how much of the token was right.
fn same_secret(sent: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (
        Sha256::digest(sent.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// What the separate metrics listener (`PERMIT_METRICS_LISTEN`) serves: `/metrics` only.
pub fn metrics_routes(state: AppState) -> impl Endpoint {
    Route::new()
        .at("/metrics", metrics_only)
        .around(crate::platform::web::edge)
        .data(state)
}

pub async fn serve(state: AppState) -> Result<(), StartError> {
    let listen = state.config.listen;
    tracing::info!(
        %listen,
        database = state.storage.backend(),
        ephemeral = state.ephemeral.backend(),
        demo = state.config.demo,
        "permitd listening"
    );
    crate::platform::jobs::spawn(state.clone());
    if let Some(address) = state.config.metrics_listen {
        let acceptor = TcpListener::bind(address).into_acceptor().await?;
        tracing::info!(%address, "metrics listening");
        let routes = metrics_routes(state.clone());
        tokio::spawn(async move {
            if let Err(e) = Server::new_with_acceptor(acceptor).run(routes).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    Server::new(TcpListener::bind(listen))
        .run_with_graceful_shutdown(
            routes(state),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            Some(std::time::Duration::from_secs(10)),
        )
        .await?;
    Ok(())
}
