//! The web client: the files of `web/dist`, embedded in the binary at
//! compile time (in debug builds too, so tests see the real bundle) and
//! served at `/`, with caching, security headers and compression.
//!
//! `index.html` is revalidated on every load (`no-cache` and an ETag);
//! the hashed files under `/assets/` never change and are cached for a
//! year. A GET for any other extensionless path outside `/api/` and `/ws`
//! that accepts HTML gets `index.html`, so client routes such as `/c/123`
//! survive a reload; everything else keeps the JSON `404 not_found`.

use std::fmt::Write as _;

use axum::body::Body;
use axum::extract::Path;
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH,
};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use tower_http::compression::CompressionLayer;

use super::fallback;

/// The built client, `web/dist` at compile time.
#[derive(rust_embed::Embed)]
#[folder = "../web/dist"]
struct Dist;

/// The Content-Security-Policy of every page and file of the client: only
/// its own scripts and styles (nothing inline), WebSockets and WebTransport
/// (`https:`) to any edge, since a `reconnect` frame may name another host
/// and `edge.webtransport.listen` another port; avatars from anywhere over
/// HTTPS.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' https: data:; connect-src 'self' ws: wss: https:; \
     font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

/// Hashed assets: their names change whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files that keep their name: the browser asks again, cheaply, with the ETag.
const REVALIDATE: &str = "no-cache";

/// `GET /` and `GET /assets/{*path}`, compressed when the client accepts it.
pub fn routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
        .layer(CompressionLayer::new())
}

/// The router's fallback: root files of the client (e.g. `/favicon.svg`),
/// `index.html` for client routes, else the JSON 404.
pub fn fallback_service() -> MethodRouter {
    any(fallback_or_index).layer(CompressionLayer::new())
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", REVALIDATE, &headers).unwrap_or_else(missing_bundle)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match serve(&format!("assets/{path}"), IMMUTABLE, &headers) {
        Some(response) => response,
        None => fallback::not_found().await.into_response(),
    }
}

async fn fallback_or_index(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method == Method::GET || method == Method::HEAD {
        let file = uri.path().trim_start_matches('/');
        if !file.is_empty()
            && file != "index.html"
            && !file.contains('/')
            && let Some(response) = serve(file, REVALIDATE, &headers)
        {
            return response;
        }
        if is_client_route(uri.path()) && accepts_html(&headers) {
            return index(headers).await;
        }
    }
    fallback::not_found().await.into_response()
}

/// A path the client's router may own: not the API, not the WebSocket,
/// and not a file name (a last segment with a dot).
fn is_client_route(path: &str) -> bool {
    let reserved = ["/api", "/ws", "/assets"];
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    let last = path.rsplit('/').next().unwrap_or_default();
    !reserved.iter().any(|p| under(p)) && !last.contains('.')
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// One embedded file with its headers, or 304 when the client's copy
/// (`If-None-Match`) is current; `None` when there is no such file.
fn serve(path: &str, cache: &'static str, request: &HeaderMap) -> Option<Response> {
    let file = Dist::get(path)?;
    let hash = file.metadata.sha256_hash();
    // Weak: the compression layer may change the bytes, not the meaning.
    let mut etag = String::from("W/\"");
    for byte in &hash[..12] {
        let _ = write!(etag, "{byte:02x}");
    }
    etag.push('"');
    let mut headers = HeaderMap::new();
    security_headers(&mut headers);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    if client_has(request, &etag) {
        return Some((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let mime = match file.metadata.mimetype() {
        "text/html" => "text/html; charset=utf-8",
        "text/javascript" | "application/javascript" => "text/javascript; charset=utf-8",
        "text/css" => "text/css; charset=utf-8",
        other => other,
    };
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(CONTENT_TYPE, value);
    }
    Some((headers, Body::from(file.data.into_owned())).into_response())
}

/// Whether `If-None-Match` names `etag` (weakly compared) or is `*`.
fn client_has(request: &HeaderMap, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = bare(etag);
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || bare(tag) == ours)
}

/// The headers every response of the client carries.
fn security_headers(headers: &mut HeaderMap) {
    let fixed = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

/// A build whose `web/dist` had no `index.html`: say so rather than 404.
fn missing_bundle() -> Response {
    crate::error::ApiError::new(
        500,
        "internal",
        "this build has no web client (web/dist/index.html is missing)",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_routes_leave_the_api_and_files_alone() {
        assert!(is_client_route("/c/123"));
        assert!(is_client_route("/settings"));
        assert!(!is_client_route("/api/x"));
        assert!(!is_client_route("/api"));
        assert!(!is_client_route("/ws"));
        assert!(!is_client_route("/ws/x"));
        assert!(!is_client_route("/assets/nope.js"));
        assert!(!is_client_route("/robots.txt"));
        assert!(is_client_route("/wsx"));
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        assert!(client_has(&h, "W/\"b\""));
        assert!(client_has(&h, "W/\"a\""));
        assert!(!client_has(&h, "W/\"c\""));
        assert!(!client_has(&HeaderMap::new(), "W/\"a\""));
    }
}
