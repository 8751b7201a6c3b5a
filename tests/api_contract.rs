//! The REST contract: what the framework answers on its own (unknown
//! routes, wrong methods, unusable headers) is the one JSON error body, and
//! the OpenAPI document lists for every operation the responses its shape
//! implies, so an endpoint added without them fails here.

mod support;

use std::collections::BTreeSet;

use reqwest::Method;
use reqwest::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use support::{Api, Server};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(server: &Server) -> Value {
    reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .expect("GET openapi")
        .json()
        .await
        .expect("the document is JSON")
}

/// Every `(method, path, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// `path` with every `{param}` replaced by `1`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks the body of an error answer: JSON, with `code` and a message.
async fn expect_error(
    resp: reqwest::Response,
    status: u16,
    code: &str,
) -> reqwest::header::HeaderMap {
    let what = format!("{} {}", resp.status(), resp.url());
    assert_eq!(resp.status().as_u16(), status, "{what}");
    let headers = resp.headers().clone();
    assert_eq!(
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{what}"
    );
    let body: Value = resp.json().await.expect("an error body is JSON");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    headers
}

fn allowed(headers: &reqwest::header::HeaderMap) -> BTreeSet<String> {
    let allow = headers
        .get(ALLOW)
        .expect("a 405 names the allowed methods")
        .to_str()
        .expect("Allow is text");
    allow.split(',').map(|m| m.trim().to_owned()).collect()
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_and_an_unknown_route_404_both_json() {
    let server = Server::start().await;
    let http = reqwest::Client::new();

    // Every documented path: a method it does not take gets 405, and the
    // Allow header names exactly the documented methods (HEAD with GET).
    let doc = document(&server).await;
    let mut by_path: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for (method, path, _) in operations(&doc) {
        let methods = by_path.entry(path).or_default();
        if method == "GET" {
            methods.insert("HEAD".into());
        }
        methods.insert(method);
    }
    let purge = Method::from_bytes(b"PURGE").expect("a method token");
    for (path, methods) in &by_path {
        let url = server.url(&concrete(path));
        let resp = http
            .request(purge.clone(), &url)
            .send()
            .await
            .expect("PURGE");
        let headers = expect_error(resp, 405, "method_not_allowed").await;
        assert_eq!(&allowed(&headers), methods, "Allow of {path}");
    }

    // The usual wrong methods, the other routes, and OPTIONS.
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/channels", "GET,HEAD,POST"),
        (Method::GET, "/api/v1/auth/login", "POST"),
        (Method::OPTIONS, "/api/v1/users/me", "GET,HEAD,PATCH"),
        (Method::POST, "/api/v1/openapi.json", "GET,HEAD"),
        (Method::PUT, "/healthz", "GET,HEAD"),
        (Method::POST, "/ws", "GET,HEAD"),
        // The web client's page (tests/web.rs).
        (Method::OPTIONS, "/", "GET,HEAD"),
    ] {
        let resp = http
            .request(method, server.url(path))
            .send()
            .await
            .expect("request");
        let headers = expect_error(resp, 405, "method_not_allowed").await;
        let expected: BTreeSet<String> = allow.split(',').map(str::to_owned).collect();
        assert_eq!(allowed(&headers), expected, "Allow of {path}");
    }
    // HEAD where there is no GET: 405, Allow, no body.
    let resp = http
        .head(server.url("/api/v1/auth/logout"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get(ALLOW).map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );

    // Paths that exist under no method.
    for (method, path) in [
        (Method::GET, "/api/v1/nope"),
        (Method::DELETE, "/api/v1/nope"),
        (Method::GET, "/api/v1/users/me/"),
        (Method::POST, "/api/v1/channels/1/messages/1/extra"),
        (Method::OPTIONS, "/no/such/path"),
    ] {
        let resp = http
            .request(method, server.url(path))
            .send()
            .await
            .expect("request");
        let headers = expect_error(resp, 404, "not_found").await;
        assert!(headers.get(ALLOW).is_none(), "{path}");
    }
}

#[tokio::test]
async fn an_unusable_authorization_header_is_refused_with_the_error_body() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let http = reqwest::Client::new();
    let me = server.url("/api/v1/users/me");
    let bearer = |token: &str| format!("Bearer {token}");
    let cases: Vec<(HeaderValue, &str)> = vec![
        // Bytes no token has: not ASCII (nor, here, UTF-8), or not printable.
        (
            HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("obs-text"),
            "invalid_token",
        ),
        (
            HeaderValue::from_bytes("Bearer tökén".as_bytes()).expect("obs-text"),
            "invalid_token",
        ),
        (
            HeaderValue::from_bytes(b"Bearer a\tb").expect("tab"),
            "invalid_token",
        ),
        (
            HeaderValue::from_static("Bearer not-a-token"),
            "invalid_token",
        ),
        // No Bearer token at all.
        (HeaderValue::from_static("Basic YW5uOnB3"), "missing_token"),
        (HeaderValue::from_static("Bearer    "), "missing_token"),
        (HeaderValue::from_static("Bearer"), "missing_token"),
        (
            HeaderValue::from_bytes(b"\xffBearer x").expect("obs-text"),
            "missing_token",
        ),
    ];
    for (value, code) in cases {
        let resp = http
            .get(&me)
            .header(AUTHORIZATION, value.clone())
            .send()
            .await
            .expect("GET");
        expect_error(resp, 401, code).await;
    }
    // The scheme is case-insensitive and spaces around the token do not count.
    let resp = http
        .get(&me)
        .header(AUTHORIZATION, format!("bEaReR  {} ", ann.token))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status().as_u16(), 200);
    let resp = http
        .get(&me)
        .header(AUTHORIZATION, bearer(&ann.token))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status().as_u16(), 200);
}

/// The `application/json` schema reference of a response, if it has one.
fn json_schema_ref(response: &Value) -> Option<&str> {
    response["content"]["application/json"]["schema"]["$ref"].as_str()
}

#[tokio::test]
async fn every_operation_documents_the_responses_its_shape_implies() {
    let server = Server::start().await;
    let doc = document(&server).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 22, "only {} operations", ops.len());
    let error_body = "#/components/schemas/ErrorBody";
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let mut problems = Vec::new();
    for (method, path, op) in &ops {
        let responses = op["responses"].as_object().expect("responses");
        let mut needs = vec!["500", "503"];
        let secured = op["security"].as_array().is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
        if secured {
            // The token, and the per-user limit on REST calls.
            needs.extend(["401", "429"]);
        }
        if !op["requestBody"].is_null() {
            needs.extend(["400", "413", "415"]);
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params
            .iter()
            .any(|p| p["in"] == "path" || p["in"] == "query")
        {
            needs.push("400");
        }
        for status in needs {
            match responses.get(status) {
                None => problems.push(format!("{method} {path}: {status} is not documented")),
                Some(r) if json_schema_ref(r) != Some(error_body) => {
                    problems.push(format!("{method} {path}: {status} has no ErrorBody"));
                }
                Some(_) => {}
            }
        }
        for (status, response) in responses {
            let code: u16 = status.parse().expect("statuses are numbers");
            if response["description"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{method} {path}: {status} has no description"));
            }
            let content = response["content"].as_object();
            match code {
                204 if content.is_some_and(|c| !c.is_empty()) => {
                    problems.push(format!("{method} {path}: 204 has content"));
                }
                400.. if json_schema_ref(response) != Some(error_body) => {
                    problems.push(format!("{method} {path}: {status} has no ErrorBody"));
                }
                200..=299
                    if code != 204
                        && !content.is_some_and(|c| c.contains_key("application/json")) =>
                {
                    problems.push(format!("{method} {path}: {status} has no JSON body"));
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
