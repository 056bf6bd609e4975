//! The PWA, built by Vite into `pwa/dist` and embedded in permitd (rust-embed: read from disk
//! in debug builds, compiled in for release). Client routes fall back to `index.html`; the
//! shell files are revalidated on every load so a new version reaches users, while hashed
//! assets are cached for a year. Text assets are compressed at build time (`name.br`,
//! `name.gz` next to each file) and the smallest variant the browser accepts is sent.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{IntoResponse, Request, Response, handler};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../pwa/dist/"]
#[allow_missing = true]
struct Dist;

/// Files that must never be served stale: they name everything else.
fn revalidate(path: &str) -> bool {
    matches!(
        path,
        "index.html" | "sw.js" | "registerSW.js" | "manifest.webmanifest"
    ) || path.starts_with("workbox-")
}

/// The content codings a request accepts, from its `Accept-Encoding` (a `q=0` refuses one).
fn accepts(req: &Request, coding: &str) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

fn file(req: &Request, path: &str) -> Option<Response> {
    let f = Dist::get(path)?;
    let encoded = [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .find_map(|(coding, suffix)| {
            accepts(req, coding)
                .then(|| Dist::get(&format!("{path}.{suffix}")))
                .flatten()
                .map(|e| (coding, e))
        });
    let cache = if revalidate(path) {
        "no-cache"
    } else if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mime = if path.ends_with(".webmanifest") {
        "application/manifest+json".to_string()
    } else {
        f.metadata.mimetype().to_string()
    };
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "Accept-Encoding");
    Some(match encoded {
        Some((coding, e)) => builder
            .header(header::CONTENT_ENCODING, coding)
            .body(e.data.into_owned()),
        None => builder.body(f.data.into_owned()),
    })
}

#[handler]
pub fn shell(req: &Request, path: Option<Path<String>>) -> Response {
    let path = path.map(|p| p.0).unwrap_or_default();
    let path = path.trim_start_matches('/');
    if let Some(r) = file(req, if path.is_empty() { "index.html" } else { path }) {
        return r;
    }
    // A client route (no file extension) gets the app; a missing asset is a plain 404.
    let last = path.rsplit('/').next().unwrap_or_default();
    if !last.contains('.')
        && let Some(r) = file(req, "index.html")
    {
        return r;
    }
    if Dist::get("index.html").is_none() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            poem::web::Html(
                "<!doctype html><meta charset=utf-8><title>居住证服务平台</title>\
                 <p>前端尚未构建：请运行 <code>make pwa-build</code>。The PWA is not built: run <code>make pwa-build</code>.</p>",
            ),
        )
            .into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}
