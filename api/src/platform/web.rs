//! The HTTP edge: OpenAPI tags, the client-IP extractor, and the middleware every request
//! passes (request id, security headers, CSRF guard, uniform error bodies, metrics).

use std::time::Instant;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::Tags;
use poem_openapi::error::{ParseParamError, ParsePathError, ParseRequestPayloadError};
use tracing::Instrument;

use crate::platform::error::error_body_for;
use crate::platform::state::AppState;
use crate::platform::text::{self, Refusal};

#[derive(Tags)]
pub enum ApiTags {
    /// Registration, SMS codes, captcha, sign-in.
    Accounts,
    /// Passkeys (WebAuthn).
    Passkeys,
    /// Regions, service points, policies and guides.
    Directory,
    /// Residence registration and the eligibility check.
    Residence,
    /// Applications, proof files, the booking calendar and appointments.
    Applications,
    /// The in-app inbox.
    Notifications,
    /// Counter work: pre-review, capacity, the working-day calendar.
    Staff,
    /// Electronic permits, the signed lists and verification.
    Permits,
    /// The privacy notice, consent, and the holder's rights: export, closing the account, and
    /// who looked at their data.
    Privacy,
}

/// The caller's address as per-address allowances count it: the socket peer, or, when the peer
/// is one of the trusted proxies, the client their forwarding header names (see
/// `platform::proxy` for the walk); an IPv6 client by its /64.
pub struct ClientIp(pub String);

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let Some(peer) = req.remote_addr().as_socket_addr().map(|a| a.ip()) else {
            return Ok(ClientIp("unknown".to_string()));
        };
        let config = req.data::<AppState>().map(|s| &s.config);
        let ip = match config {
            Some(c) if c.trusted_proxies.contains(peer) => {
                let header = c.proxy_header;
                let lines = req
                    .headers()
                    .get_all(header.name())
                    .iter()
                    // A line that is not text counts as one entry that is no address.
                    .map(|v| v.to_str().unwrap_or("?"));
                c.trusted_proxies.client(peer, &header.hops(lines))
            }
            _ => peer,
        };
        Ok(ClientIp(crate::platform::proxy::allowance_subject(ip)))
    }
}

/// Wraps the whole app: request id, CSRF guard, JSON error bodies, security headers, metrics.
pub async fn edge<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let state = req.data::<AppState>().cloned();
    let span = tracing::info_span!("request", id = %request_id, %method, path = %path);
    async move {
        // Proof uploads are the one place a body may be larger than a form.
        let upload = method == poem::http::Method::POST && path.ends_with("/materials");
        let max_body = state
            .as_ref()
            .map(|s| {
                if upload {
                    s.config.max_upload_bytes
                } else {
                    s.config.max_body_bytes
                }
            })
            .unwrap_or(1 << 20);
        let mut resp = if let Some(reason) = csrf_rejection(&req, state.as_ref()) {
            tracing::warn!(reason, "cross-site request refused");
            json_error(StatusCode::FORBIDDEN, "csrf_rejected", "跨站请求已被拒绝")
        } else if !body_within(&mut req, max_body).await {
            json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "提交的内容过大",
            )
        } else {
            // A JSON body is kept (it is within the limit) to name the field a refusal is about.
            let json_body = if is_json(&req) {
                let bytes = req.take_body().into_bytes().await.unwrap_or_default();
                req.set_body(bytes.clone());
                Some(bytes)
            } else {
                None
            };
            match next.call(req).await {
                Ok(resp) => resp.into_response(),
                Err(err) => {
                    refused_text(&err, json_body.as_deref()).unwrap_or_else(|| err.into_response())
                }
            }
        };
        resp = uniform_error(resp, &path).await;
        secure_headers(&mut resp, &path, state.as_ref());
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        let status = resp.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), "request failed");
        } else {
            tracing::info!(
                status = status.as_u16(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "request"
            );
        }
        if let Some(state) = state {
            state.metrics.observe(&method, status, started.elapsed());
        }
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// State-changing requests must come from our own origin. Browsers send `Origin` on every
/// cross-site POST, PUT, PATCH and DELETE, and `Sec-Fetch-Site` on all modern ones; together
/// with the SameSite=Strict cookie this stops cross-site request forgery.
fn csrf_rejection(req: &Request, state: Option<&AppState>) -> Option<&'static str> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return Some("sec-fetch-site");
    }
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let configured = state.map(|s| s.config.webauthn_origin.trim_end_matches('/'));
        let same_host = host
            .is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
        if !(same_host || configured == Some(origin)) {
            return Some("origin");
        }
    }
    None
}

/// Refuses bodies over the limit: by their declared length, or, for chunked bodies, by
/// reading at most the limit.
async fn body_within(req: &mut Request, max: usize) -> bool {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) => len <= max as u64,
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            match req.take_body().into_bytes_limit(max).await {
                Ok(bytes) => {
                    req.set_body(bytes);
                    true
                }
                Err(_) => false,
            }
        }
        None => true,
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// A text field or parameter the strict text types refused (`platform::text`): `422` with the
/// field, found in the body by the refused value's print, since poem-openapi names none.
fn refused_text(err: &poem::Error, body: Option<&[u8]>) -> Option<Response> {
    let (refusal, field) = if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        let (refusal, print) = text::refusal_in(&e.reason)?;
        let field = body
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .and_then(|v| text::field_holding(&v, print));
        (refusal, field)
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        (text::refusal_in(&e.reason)?.0, Some(e.name.to_string()))
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        (text::refusal_in(&e.reason)?.0, Some(e.name.to_string()))
    } else {
        return None;
    };
    let (code, message) = match refusal {
        Refusal::NotText => ("invalid_type", "请以文字填写此项"),
        Refusal::ControlCharacter => ("control_character", "内容包含不允许的控制字符"),
    };
    let body = crate::platform::error::ErrorBody {
        code: code.into(),
        message: message.into(),
        field,
        ..Default::default()
    };
    Some(
        Response::builder()
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .content_type("application/json; charset=utf-8")
            .body(serde_json::to_string(&body).unwrap_or_default()),
    )
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = crate::platform::error::ErrorBody {
        code: code.into(),
        message: message.into(),
        ..Default::default()
    };
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::to_string(&body).unwrap_or_default())
}

/// Errors raised before a handler ran (unknown path, unparsable JSON, too large) come out of
/// poem as plain text; give them the same JSON shape as every other error.
async fn uniform_error(resp: Response, path: &str) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let detail = resp.into_body().into_string().await.unwrap_or_default();
    if status.is_server_error() {
        tracing::error!(path, detail, "unhandled error");
    }
    let body = error_body_for(status, detail.chars().take(200).collect::<String>().trim());
    let mut out = json_error(status, &body.code, &body.message);
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

fn secure_headers(resp: &mut Response, path: &str, state: Option<&AppState>) {
    let h = resp.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    // Swagger UI runs inline scripts and styles; everything else gets the strict policy, which
    // lets the PWA's scanner compile the verifier's WebAssembly and nothing else.
    let csp = if path.starts_with("/docs") {
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
    } else {
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data: blob:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    };
    h.insert("content-security-policy", HeaderValue::from_static(csp));
    if path.starts_with("/api/") {
        // Signed lists set their own caching from their time to live.
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    if state.is_some_and(|s| s.config.secure_cookies) {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// The API's copy of a domain enum: the same values under the same schema name, converting
/// both ways, so a model stays free of poem while the OpenAPI document stays as it was.
macro_rules! api_enum {
    ($(#[$doc:meta])* $view:ident as $name:literal mirrors $model:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum, serde::Serialize, serde::Deserialize,
        )]
        #[oai(rename = $name, rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        pub enum $view {
            $($variant),+
        }

        impl From<$model> for $view {
            fn from(m: $model) -> Self {
                match m {
                    $($model::$variant => $view::$variant),+
                }
            }
        }

        impl From<$view> for $model {
            fn from(v: $view) -> Self {
                match v {
                    $($view::$variant => $model::$variant),+
                }
            }
        }
    };
}
pub(crate) use api_enum;
