//! Account safety over real sockets: signed-in sessions that can be listed
//! and ended, tokens that expire unless used, password changes, and limits
//! on guessing and on request rates.

mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use support::api::{PASSWORD, str_of};
use support::{Account, Api, DataDir, Server, Ws};

const SESSIONS: &str = "/api/v1/auth/sessions";

async fn sessions(api: &Api, who: &Account) -> Vec<Value> {
    let list = api.get(SESSIONS, &who.token).await.expect(200);
    list["sessions"].as_array().cloned().unwrap_or_default()
}

/// The id of the session `who`'s token opened.
async fn current_id(api: &Api, who: &Account) -> String {
    let all = sessions(api, who).await;
    let current = all.iter().find(|s| s["current"] == true).expect("current");
    str_of(&current["id"])
}

/// Waits for the server to close `ws` and checks it was for the token.
async fn closed_for_token(ws: &mut Ws) {
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 4001, "{closed:?}");
}

/// Proves `ws` is still open and served.
async fn still_open(ws: &mut Ws) {
    ws.send_json(json!({"type": "ping", "nonce": "alive"}))
        .await;
    assert_eq!(ws.wait_type("pong").await["nonce"], "alive");
}

async fn server_with(env: &[(&str, &str)]) -> Server {
    Server::start_with(DataDir::new(), &[], env).await
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_by_one_or_all_at_once() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let phone = api.device(&ann, "phone").await;
    let laptop = api.device(&ann, "laptop").await;
    let listed = sessions(&api, &laptop).await;
    let devices: Vec<_> = listed.iter().map(|s| s["device"].clone()).collect();
    assert_eq!(devices, [json!(""), json!("phone"), json!("laptop")]);
    let current: Vec<_> = listed.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current, [false, false, true]);
    for s in &listed {
        let (used, expires) = (s["last_used_at_ms"].as_i64(), s["expires_at_ms"].as_i64());
        assert!(expires > used && used > Some(0), "{s}");
    }

    let (mut phone_ws, _) = Ws::connect(&server, &phone.token).await;
    let (mut laptop_ws, _) = Ws::connect(&server, &laptop.token).await;
    let phone_id = current_id(&api, &phone).await;
    let end = format!("{SESSIONS}/{phone_id}");
    let bob = api.signup("bob").await;
    api.delete(&end, &bob.token)
        .await
        .expect_error(404, "session_not_found");
    assert_eq!(api.delete(&end, &laptop.token).await.status, 204);
    closed_for_token(&mut phone_ws).await;
    api.get("/api/v1/users/me", &phone.token)
        .await
        .expect_error(401, "invalid_token");
    api.delete(&end, &laptop.token)
        .await
        .expect_error(404, "session_not_found");
    still_open(&mut laptop_ws).await;

    let everywhere = api.logout_all(&laptop.token).await;
    assert_eq!(everywhere.status, 204);
    closed_for_token(&mut laptop_ws).await;
    for token in [&ann.token, &laptop.token] {
        api.get("/api/v1/users/me", token)
            .await
            .expect_error(401, "invalid_token");
    }
    api.get("/api/v1/users/me", &bob.token).await.expect(200);
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_at_once() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let other = api.device(&ann, "tablet").await;
    let (mut here, _) = Ws::connect(&server, &ann.token).await;
    let (mut there, _) = Ws::connect(&server, &other.token).await;
    let path = "/api/v1/auth/password";
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    api.post(
        path,
        &ann.token,
        change("wrong password", "a new passphrase"),
    )
    .await
    .expect_error(401, "invalid_credentials");
    api.post(path, &ann.token, change(PASSWORD, "short"))
        .await
        .expect_error(400, "invalid_password");
    api.post(path, &ann.token, json!({"current_password": PASSWORD}))
        .await
        .expect_error(400, "invalid_body");
    still_open(&mut there).await;
    let changed = api
        .post(path, &ann.token, change(PASSWORD, "a new passphrase"))
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);

    closed_for_token(&mut there).await;
    api.get("/api/v1/users/me", &other.token)
        .await
        .expect_error(401, "invalid_token");
    still_open(&mut here).await;
    api.get("/api/v1/users/me", &ann.token).await.expect(200);
    assert_eq!(sessions(&api, &ann).await.len(), 1);
    api.login("ann", PASSWORD, None)
        .await
        .expect_error(401, "invalid_credentials");
    api.login("ann", "a new passphrase", None).await.expect(200);
}

#[tokio::test]
async fn tokens_expire_unless_used() {
    let ttl = 1_500;
    let env = [
        ("CHAT_CORE__TOKEN_TTL_MS", "1500"),
        ("CHAT_CORE__TOKEN_TOUCH_MS", "100"),
    ];
    let server = server_with(&env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let first = sessions(&api, &ann).await[0]["expires_at_ms"].as_i64();
    // Used before it expires, again and again: each use extends its life,
    // well past the first expiry.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        api.get("/api/v1/users/me", &ann.token).await.expect(200);
    }
    let refreshed = api
        .call(Method::POST, "/api/v1/auth/refresh", Some(&ann.token), None)
        .await
        .expect(200);
    let later = refreshed["expires_at_ms"].as_i64();
    assert!(
        later > first.map(|f| f + 2_000),
        "{first:?} then {refreshed}"
    );
    assert_eq!(refreshed["current"], true);

    // Unused for longer than its lifetime, it is dead everywhere.
    tokio::time::sleep(Duration::from_millis(ttl + 300)).await;
    api.get("/api/v1/users/me", &ann.token)
        .await
        .expect_error(401, "invalid_token");
    let mut ws = Ws::open(&server).await;
    ws.send_json(json!({"type": "hello", "token": ann.token}))
        .await;
    closed_for_token(&mut ws).await;
    let again = api.login("ann", PASSWORD, None).await.expect(200);
    assert!(again["session"]["expires_at_ms"].as_i64() > later);
}

#[tokio::test]
async fn failed_logins_wait_longer_each_time() {
    let env = [
        ("CHAT_CORE__LOGIN_FREE_FAILURES_PER_ACCOUNT", "2"),
        ("CHAT_CORE__LOGIN_DELAY_BASE_MS", "400"),
        ("CHAT_CORE__LOGIN_DELAY_MAX_MS", "5000"),
    ];
    let server = server_with(&env).await;
    let api = Api::new(&server);
    api.signup("ann").await;
    api.signup("bob").await;
    for _ in 0..3 {
        api.login("ann", "not the password", None)
            .await
            .expect_error(401, "invalid_credentials");
    }
    // Past the free failures every attempt waits, the right password too.
    let limited = api.login("ann", PASSWORD, None).await;
    let wait = limited.body["error"]["retry_after_ms"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        limited.header("retry-after"),
        Some("1"),
        "{:?}",
        limited.headers
    );
    limited.expect_error(429, "too_many_attempts");
    assert!((1..=400).contains(&wait), "{wait}");
    api.login("bob", PASSWORD, None).await.expect(200);

    tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    api.login("ann", "still not it", None)
        .await
        .expect_error(401, "invalid_credentials");
    let doubled = api.login("ann", PASSWORD, None).await;
    let next = doubled.body["error"]["retry_after_ms"]
        .as_u64()
        .unwrap_or(0);
    doubled.expect_error(429, "too_many_attempts");
    assert!((401..=800).contains(&next), "the delay doubled: {next}");

    tokio::time::sleep(Duration::from_millis(next + 50)).await;
    api.login("ann", PASSWORD, None).await.expect(200);
    // A success forgets the failures: two free ones again.
    for _ in 0..2 {
        api.login("ann", "nope nope", None)
            .await
            .expect_error(401, "invalid_credentials");
    }
    api.login("ann", PASSWORD, None).await.expect(200);
}

/// Logs in through `http` with an `X-Forwarded-For` header.
async fn login_from(server: &Server, forwarded: &str, username: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

#[tokio::test]
async fn failed_logins_from_one_address_are_limited_across_accounts() {
    let env = [
        ("CHAT_CORE__LOGIN_FREE_FAILURES_PER_ADDRESS", "3"),
        ("CHAT_CORE__LOGIN_DELAY_BASE_MS", "60000"),
    ];
    let server = server_with(&env).await;
    let api = Api::new(&server);
    api.signup("cyd").await;
    for name in ["ann", "bob", "dan", "eve"] {
        api.login(name, "guess guess", None)
            .await
            .expect_error(401, "invalid_credentials");
    }
    // A real account with its real password, from the guessing address.
    api.login("cyd", PASSWORD, None)
        .await
        .expect_error(429, "too_many_attempts");
    // A header the edge was not told to trust changes nothing.
    assert_eq!(login_from(&server, "10.1.2.3", "cyd", PASSWORD).await, 429);

    // Behind a trusted proxy, the address it appends is the client's.
    let env = [
        ("CHAT_CORE__LOGIN_FREE_FAILURES_PER_ADDRESS", "1"),
        ("CHAT_CORE__LOGIN_DELAY_BASE_MS", "60000"),
        ("CHAT_EDGE__TRUST_FORWARDED_FOR", "true"),
    ];
    let proxied = server_with(&env).await;
    Api::new(&proxied).signup("cyd").await;
    for _ in 0..2 {
        assert_eq!(
            login_from(&proxied, "1.1.1.1, 10.0.0.7", "cyd", "guess").await,
            401
        );
    }
    assert_eq!(login_from(&proxied, "10.0.0.7", "cyd", PASSWORD).await, 429);
    // The account itself is still below its own limit.
    assert_eq!(login_from(&proxied, "10.0.0.8", "cyd", PASSWORD).await, 200);
}

#[tokio::test]
async fn rest_calls_are_limited_per_user() {
    let env = [
        ("CHAT_EDGE__REST_PER_SEC", "2"),
        ("CHAT_EDGE__REST_BURST", "3"),
    ];
    let server = server_with(&env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    for _ in 0..3 {
        api.get("/api/v1/users/me", &ann.token).await.expect(200);
    }
    let limited = api.get("/api/v1/channels", &ann.token).await;
    let wait = limited.body["error"]["retry_after_ms"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(limited.header("retry-after"), Some("1"));
    limited.expect_error(429, "rate_limited");
    assert!((1..=500).contains(&wait), "{wait}");
    api.get("/api/v1/users/me", &bob.token).await.expect(200);
    tokio::time::sleep(Duration::from_millis(wait + 20)).await;
    api.get("/api/v1/users/me", &ann.token).await.expect(200);
    assert!(server.metric("chat_http_rate_limited_total").await >= Some(1.0));
}
