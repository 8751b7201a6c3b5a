//! The web client as the server serves it: `index.html` at `/` with its
//! security headers, hashed assets cached for good, revalidation by ETag,
//! compression, and client routes that do not swallow the API's 404.

mod support;

use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, HeaderMap,
    IF_NONE_MATCH,
};
use support::Server;

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

async fn get(
    server: &Server,
    path: &str,
    headers: &[(reqwest::header::HeaderName, &str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new().get(server.url(path));
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let resp = req.send().await.expect("GET");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The path of the bundle's script, read from `index.html`.
fn script_path(html: &str) -> String {
    let start = html
        .find("src=\"/assets/")
        .expect("index.html loads a script from /assets/")
        + 5;
    let end = html[start..].find('"').expect("end of the src attribute") + start;
    html[start..end].to_owned()
}

#[tokio::test]
async fn the_root_serves_the_client_with_a_strict_policy() {
    let server = Server::start().await;
    let (status, headers, body) = get(&server, "/", &[(ACCEPT, HTML)]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, CONTENT_TYPE), "text/html; charset=utf-8");
    let html = String::from_utf8(body).expect("utf-8");
    assert!(html.contains("<div id=\"app\">"), "{html}");
    assert!(!html.contains("<script>"), "no inline script: {html}");
    let csp = header(&headers, "content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self' ws: wss: https:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(&headers, CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn hashed_assets_are_cached_for_good_with_their_type() {
    let server = Server::start().await;
    let (_, _, body) = get(&server, "/", &[]).await;
    let script = script_path(&String::from_utf8(body).expect("utf-8"));
    let (status, headers, body) = get(&server, &script, &[]).await;
    assert_eq!(status, 200, "{script}");
    assert_eq!(
        header(&headers, CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&headers, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(!body.is_empty());

    let (status, headers, _) = get(&server, "/assets/no-such-file.js", &[(ACCEPT, HTML)]).await;
    assert_eq!(status, 404, "a missing asset is not answered with the page");
    assert_eq!(header(&headers, CONTENT_TYPE), "application/json");
}

#[tokio::test]
async fn the_page_is_revalidated_by_etag() {
    let server = Server::start().await;
    let (_, headers, _) = get(&server, "/", &[]).await;
    let etag = header(&headers, ETAG).to_owned();
    assert!(etag.ends_with('"'), "an ETag: {etag:?}");
    let (status, headers, body) = get(&server, "/", &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(header(&headers, ETAG), etag);
    let (status, _, _) = get(&server, "/", &[(IF_NONE_MATCH, "W/\"other\"")]).await;
    assert_eq!(status, 200, "a stale copy gets the page");
}

#[tokio::test]
async fn the_client_is_compressed_when_asked() {
    let server = Server::start().await;
    let (_, _, plain) = get(&server, "/", &[]).await;
    let script = script_path(&String::from_utf8(plain).expect("utf-8"));
    let (status, headers, body) = get(&server, &script, &[(ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, CONTENT_ENCODING), "gzip");
    assert!(
        header(&headers, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert_eq!(body[..2], [0x1f, 0x8b], "a gzip stream");
    let (_, headers, _) = get(&server, &script, &[(ACCEPT_ENCODING, "br, gzip")]).await;
    assert_eq!(header(&headers, CONTENT_ENCODING), "br");
    let (_, headers, _) = get(&server, &script, &[]).await;
    assert_eq!(
        header(&headers, CONTENT_ENCODING),
        "",
        "identity unless asked"
    );
}

#[tokio::test]
async fn client_routes_get_the_page_and_the_api_keeps_its_404() {
    let server = Server::start().await;
    let (status, headers, _) = get(&server, "/c/123", &[(ACCEPT, HTML)]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, CONTENT_TYPE), "text/html; charset=utf-8");

    for path in ["/api/x", "/api/v1/nope", "/ws/x", "/c/123"] {
        let accept = if path == "/c/123" {
            "application/json"
        } else {
            HTML
        };
        let (status, headers, body) = get(&server, path, &[(ACCEPT, accept)]).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(header(&headers, CONTENT_TYPE), "application/json", "{path}");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }

    let resp = reqwest::Client::new()
        .post(server.url("/"))
        .send()
        .await
        .expect("POST /");
    assert_eq!(resp.status().as_u16(), 405);
    let (status, headers, _) = get(&server, "/favicon.svg", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, CONTENT_TYPE), "image/svg+xml");
}
