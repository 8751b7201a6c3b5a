//! The REST contract: the OpenAPI document lists for every operation the
//! responses its shape implies, so an endpoint added without them fails
//! here.

mod support;

use serde_json::Value;
use support::Server;

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
            needs.push("401");
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
