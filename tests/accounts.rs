//! Sign-up, login, logout and the REST API's answers to bad requests.

mod support;

use reqwest::Method;
use serde_json::json;
use support::api::str_of;
use support::{Api, Server};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn signup_login_logout() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let me = api.get("/api/v1/users/me", &ann.token).await.expect(200);
    assert_eq!(me["username"], "ann");
    assert_eq!(me["id"], ann.id.as_str());
    assert!(
        me.get("password_hash").is_none(),
        "no secrets in user objects"
    );

    let login = json!({"username": "ann", "password": PASSWORD});
    let second = api
        .call(Method::POST, "/api/v1/auth/login", None, Some(login))
        .await
        .expect(200);
    let token2 = str_of(&second["token"]);
    assert_ne!(token2, ann.token, "each login gets its own token");

    api.call(Method::POST, "/api/v1/auth/logout", Some(&ann.token), None)
        .await
        .expect(204);
    api.get("/api/v1/users/me", &ann.token)
        .await
        .expect_error(401, "invalid_token");
    api.call(Method::POST, "/api/v1/auth/logout", Some(&ann.token), None)
        .await
        .expect_error(401, "invalid_token");
    api.get("/api/v1/users/me", &token2).await.expect(200);

    let by_name = api
        .get("/api/v1/users/by-name/ann", &token2)
        .await
        .expect(200);
    assert_eq!(by_name["id"], ann.id.as_str());
    let by_id = api
        .get(&format!("/api/v1/users/{}", ann.id), &token2)
        .await
        .expect(200);
    assert_eq!(by_id["username"], "ann");
    api.get("/api/v1/users/by-name/nobody", &token2)
        .await
        .expect_error(404, "user_not_found");
}

#[tokio::test]
async fn bad_account_requests_are_refused() {
    let server = Server::start().await;
    let api = Api::new(&server);
    api.signup("ann").await;
    let signup =
        |username: &str, password: &str| json!({"username": username, "password": password});
    for (body, status, code) in [
        (signup("ann", PASSWORD), 409, "username_taken"),
        (signup("ANN", PASSWORD), 409, "username_taken"),
        (signup("a", PASSWORD), 400, "invalid_username"),
        (signup("has space", PASSWORD), 400, "invalid_username"),
        (signup(&"u".repeat(33), PASSWORD), 400, "invalid_username"),
        (signup("carl", "short"), 400, "invalid_password"),
        (json!({"username": "carl"}), 400, "invalid_body"),
    ] {
        api.call(Method::POST, "/api/v1/auth/signup", None, Some(body))
            .await
            .expect_error(status, code);
    }
    let wrong = json!({"username": "ann", "password": "not the password"});
    api.call(Method::POST, "/api/v1/auth/login", None, Some(wrong))
        .await
        .expect_error(401, "invalid_credentials");
    let nobody = json!({"username": "nobody", "password": PASSWORD});
    api.call(Method::POST, "/api/v1/auth/login", None, Some(nobody))
        .await
        .expect_error(401, "invalid_credentials");
}

#[tokio::test]
async fn bad_rest_requests_get_json_errors() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&ann, &bob).await;
    let send_path = format!("/api/v1/channels/{channel}/messages");
    let token = Some(ann.token.as_str());

    api.call(Method::GET, "/api/v1/channels", None, None)
        .await
        .expect_error(401, "missing_token");
    api.call(Method::GET, "/api/v1/channels", Some("forged"), None)
        .await
        .expect_error(401, "invalid_token");
    api.raw(
        Method::POST,
        &send_path,
        token,
        "application/json",
        b"{\"text\": ".to_vec(),
    )
    .await
    .expect_error(400, "malformed_json");
    api.raw(
        Method::POST,
        &send_path,
        token,
        "text/plain",
        b"hello".to_vec(),
    )
    .await
    .expect_error(415, "unsupported_media_type");
    let (status, body) = declare_huge_body(&server, &send_path, &ann.token).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "body_too_large");
    api.post(&send_path, &ann.token, json!({"text": ""}))
        .await
        .expect_error(400, "text_empty");
    api.post(&send_path, &ann.token, json!({"text": "x".repeat(100_001)}))
        .await
        .expect_error(400, "text_too_long");
    api.post(&send_path, &ann.token, json!({"text": 5}))
        .await
        .expect_error(400, "invalid_body");
    api.get("/api/v1/channels/not-a-number/messages", &ann.token)
        .await
        .expect_error(400, "invalid_path");
    api.get("/api/v1/channels/999", &ann.token)
        .await
        .expect_error(404, "channel_not_found");
    api.get("/api/v1/nothing-here", &ann.token)
        .await
        .expect_error(404, "not_found");
    api.post(
        "/api/v1/channels/direct",
        &ann.token,
        json!({"user_id": "999"}),
    )
    .await
    .expect_error(404, "user_not_found");
    api.post(
        "/api/v1/channels",
        &ann.token,
        json!({"name": "", "member_ids": [bob.id]}),
    )
    .await
    .expect_error(400, "invalid_channel_name");
    api.post(
        "/api/v1/channels",
        &ann.token,
        json!({"name": "g", "member_ids": ["999"]}),
    )
    .await
    .expect_error(404, "user_not_found");

    api.get("/ws", &ann.token)
        .await
        .expect_error(426, "websocket_upgrade_required");
    // None of it was stored, and the API still works.
    assert!(api.all_messages(&ann, &channel).await.is_empty());
    api.post(&send_path, &ann.token, json!({"text": "fine"}))
        .await
        .expect(201);
}

/// Announces a 2 MiB body but sends only its first bytes: the server must
/// answer from the declared length, without waiting for the rest.
async fn declare_huge_body(server: &Server, path: &str, token: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: chat\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"text\": \"",
        2 << 20
    );
    tcp.write_all(head.as_bytes()).await.expect("write request");
    let mut response = Vec::new();
    tokio::time::timeout(support::STEP, tcp.read_to_end(&mut response))
        .await
        .expect("the server answers without the body")
        .expect("read response");
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    (status, serde_json::from_str(body).expect("JSON error body"))
}
