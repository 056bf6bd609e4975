//! Putting permitd together: open storage and the ephemeral store, build the routes, serve.

use std::sync::Arc;

use poem::endpoint::make_sync;
use poem::http::StatusCode;
use poem::listener::TcpListener;
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
use crate::notifications::http::NotificationsApi;
use crate::notifications::sms::DevSmsSink;
use crate::platform::config::{Config, Secret};
use crate::platform::metrics::Metrics;
use crate::platform::state::AppState;
use crate::platform::{demo, ephemeral, storage};
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
    #[error("signing keys: {0}")]
    Keys(#[from] crate::credentials::keys::KeyError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// Opens every backend the configuration names and loads the reference data.
pub async fn build_state(config: Config) -> Result<AppState, StartError> {
    let storage = storage::open(
        config.database_url.as_ref().map(Secret::expose),
        &config.data_dir,
    )
    .await?;
    let ephemeral = ephemeral::open(
        config.redis_url.as_ref().map(Secret::expose),
        &config.redis_prefix,
    )
    .await?;
    seed::load_regions_once(&*storage).await?;
    crate::booking::service::seed_calendar_once(&*storage).await?;
    let files = crate::casework::materials::open_files(&config)?;
    let keys = crate::credentials::keys::KeyRing::load_or_create(
        &config.keys_dir(),
        &config.issuer_name,
        chrono::Utc::now(),
    )?;
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
        sms: Arc::new(DevSmsSink::default()),
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
    (PermitsApi, PermitCounterApi, TrustApi, UnitsApi, ClaimApi),
);

pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            (CaptchaApi, SmsApi, AccountsApi, SessionsApi, PasskeysApi, DirectoryApi),
            (
                ResidenceApi,
                ApplicationsApi,
                MaterialsApi,
                AppointmentsApi,
                NotificationsApi,
                CounterApi,
                ScheduleApi,
            ),
            (PermitsApi, PermitCounterApi, TrustApi, UnitsApi, ClaimApi),
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

#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    let db = state.storage.ping().await;
    let eph = state.ephemeral.ping().await;
    let body = serde_json::json!({
        "database": { "backend": state.storage.backend(), "ok": db.is_ok() },
        "ephemeral": { "backend": state.ephemeral.backend(), "ok": eph.is_ok() },
    });
    let status = if db.is_ok() && eph.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = poem::web::Json(body).into_response();
    resp.set_status(status);
    resp
}

#[handler]
async fn metrics(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
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
