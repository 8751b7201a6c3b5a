//! What operators rely on: health, metrics, the OpenAPI document, config.

mod support;

use serde_json::Value;
use support::server::{file_in, run_to_exit};
use support::{Api, DataDir, Server, Transport, Ws};

/// Every HTTP listener of the server (`chat`; or the edge and the core's
/// admin listener) answers the probes, and each part's metrics are on the
/// page of the process that runs it: connections on the edge's, stored
/// messages on the core's.
#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = Server::start().await;
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        for url in server.ops_urls(path) {
            let resp = http.get(&url).send().await.expect("GET");
            assert_eq!(resp.status().as_u16(), 200, "{url}");
        }
    }
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&ann, &bob).await;
    let (mut ws, _) = Ws::connect_on(&server, Transport::WebSocket, &ann.token).await;
    ws.send_message(&channel, "m1", "counted").await;
    ws.messages(1).await;

    let mut pages = Vec::new();
    for url in server.metrics_urls() {
        let page = http.get(&url).send().await.expect("GET /metrics");
        pages.push(page.text().await.expect("metrics body"));
    }
    let (edge, core) = (&pages[0], &pages[pages.len() - 1]);
    for name in [
        "chat_ws_connections 1",
        "chat_ws_frames_in_total 2",
        "chat_ws_deliveries_total",
        "chat_ws_frames_out_total",
    ] {
        assert!(edge.contains(name), "missing {name:?} in\n{edge}");
    }
    for name in [
        "chat_messages_stored_total 1",
        "chat_presence_online_users 1",
        "chat_storage_append_seconds_bucket",
        "chat_storage_append_seconds_count 1",
    ] {
        assert!(core.contains(name), "missing {name:?} in\n{core}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let server = Server::start().await;
    let doc: Value = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .expect("GET openapi")
        .json()
        .await
        .expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/users/me",
        "/api/v1/channels",
        "/api/v1/channels/direct",
        "/api/v1/channels/{channel_id}/members/{user_id}",
        "/api/v1/channels/{channel_id}/messages",
        "/api/v1/channels/{channel_id}/messages/{message_id}",
        "/api/v1/channels/{channel_id}/read",
        "/api/v1/users/me/settings",
        "/api/v1/relationships",
        "/api/v1/relationships/{user_id}",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn config_file_and_environment_are_read_and_checked() {
    let data = DataDir::new();
    let good = file_in(&data, "good.toml");
    std::fs::write(&good, "[core]\nmax_group_members = 3\n").expect("write config");
    let path = good.to_str().expect("utf-8 path");
    let server = Server::start_with(data.clone(), &["--config", path], &[]).await;
    let api = Api::new(&server);
    let a = api.signup("ann").await;
    let (b, c, d) = (
        api.signup("bob").await,
        api.signup("cid").await,
        api.signup("dan").await,
    );
    let ids = [&b.id, &c.id, &d.id];
    api.post(
        "/api/v1/channels",
        &a.token,
        serde_json::json!({"name": "g", "member_ids": ids}),
    )
    .await
    .expect_error(400, "too_many_members");
    drop(server);

    let bad = file_in(&data, "bad.toml");
    std::fs::write(&bad, "[core]\nmax_group_memebrs = 3\n").expect("write config");
    let (status, stderr) = run_to_exit(&["--config", bad.to_str().expect("utf-8 path")], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("max_group_memebrs"),
        "the unknown key is named: {stderr}"
    );

    let (status, stderr) = run_to_exit(&["--config", "/nonexistent/chat.toml"], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");

    let (status, stderr) = run_to_exit(&[], &[("CHAT_CORE__MAX_GROUP_MEMBERS", "501")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("max_group_members"), "{stderr}");

    let (status, stderr) = run_to_exit(&[], &[("CHAT_EDGE__NO_SUCH_KEY", "1")]);
    assert_eq!(status.code(), Some(2), "{stderr}");

    let (status, stderr) = run_to_exit(&[], &[("CHAT_CORE__PASSWORD_MEMORY_KIB", "4")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("password_memory_kib"), "{stderr}");

    // A push try must not be taken again while it may still be in flight.
    let (status, stderr) = run_to_exit(&[], &[("CHAT_CORE__PUSH__CLAIM_MS", "5000")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("claim_ms"), "{stderr}");
    // Push credentials that cannot be read stop the start, naming them.
    let missing = [(
        "CHAT_CORE__PUSH__FCM__SERVICE_ACCOUNT_FILE",
        "/nonexistent/fcm.json",
    )];
    let (status, stderr) = run_to_exit(&[], &missing);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("/nonexistent/fcm.json"), "{stderr}");
    let no_team = [("CHAT_CORE__PUSH__APNS__KEY_FILE", "/nonexistent/AuthKey.p8")];
    let (status, stderr) = run_to_exit(&[], &no_team);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("key_id and team_id"), "{stderr}");
}

#[tokio::test]
async fn a_cheaper_password_cost_still_verifies_every_hash() {
    let data = DataDir::new();
    let cheap = [
        ("CHAT_CORE__PASSWORD_MEMORY_KIB", "64"),
        ("CHAT_CORE__PASSWORD_ITERATIONS", "1"),
    ];
    let server = Server::start_with(data.clone(), &[], &cheap).await;
    let ann = Api::new(&server).signup("ann").await;
    drop(ann);
    let data = server.kill().await;
    // Back at the default cost, the hash made cheaply still logs in.
    let server = Server::start_in(data).await;
    let body = serde_json::json!({"username": "ann", "password": support::api::PASSWORD});
    let api = Api::new(&server);
    let login = api.call(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        Some(body),
    );
    assert!(login.await.expect(200)["token"].is_string());
}

#[tokio::test]
async fn listen_and_data_dir_come_from_the_environment_too() {
    let data = DataDir::new();
    let dir = data.path().to_str().expect("utf-8 path").to_owned();
    let env = [
        ("CHAT_LISTEN", "127.0.0.1:0"),
        ("CHAT_DATA_DIR", dir.as_str()),
    ];
    let server = Server::spawn(data.clone(), &[], &env).await;
    Api::new(&server).signup("ann").await;
    let files: Vec<_> = std::fs::read_dir(data.path()).expect("data dir").collect();
    assert!(!files.is_empty(), "the database lives in CHAT_DATA_DIR");
    drop(server);

    let (status, stderr) = run_to_exit(&[], &[("CHAT_LISTEN", "not-an-address")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.to_lowercase().contains("listen"), "{stderr}");
}

#[tokio::test]
async fn worker_threads_sets_the_runtime_size_and_is_checked() {
    // 3 differs from the default on machines of 1, 2 and 4 cores alike.
    let env = [("CHAT_WORKER_THREADS", "3")];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    // Nothing has used tokio's blocking pool yet (its threads share the
    // name), so every thread so named is a worker.
    assert_eq!(server.threads_named("tokio-rt-worker"), 3);
    Api::new(&server).signup("ann").await;
    drop(server);

    let (status, stderr) = run_to_exit(&[], &[("CHAT_WORKER_THREADS", "100000")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("worker_threads"), "{stderr}");
    let (status, stderr) = run_to_exit(&[], &[("CHAT_WORKER_THREADS", "two")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    let named = stderr.to_lowercase().contains("worker_threads");
    assert!(named, "{stderr}");
}

#[tokio::test]
async fn discovery_offers_this_edge_and_refuses_a_bad_region() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let get = |path: &'static str| api.call(reqwest::Method::GET, path, None, None);
    let listed = get("/api/v1/discover?region=eu-west").await.expect(200);
    let edges = listed["edges"].as_array().expect("a list");
    assert_eq!(edges.len(), 1, "{listed}");
    assert_eq!(edges[0]["websocket_url"], server.ws_url().as_str());
    let plain = get("/api/v1/discover").await.expect(200);
    assert_eq!(plain["edges"][0]["websocket_url"], server.ws_url().as_str());
    get("/api/v1/discover?region=x%2Fy")
        .await
        .expect_error(400, "invalid_region");
    let long = format!("/api/v1/discover?region={}", "r".repeat(65));
    api.call(reqwest::Method::GET, &long, None, None)
        .await
        .expect_error(400, "invalid_region");
}
