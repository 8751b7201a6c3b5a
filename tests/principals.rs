//! Auth across processes, over real sockets: the edge asks the core who a
//! REST token belongs to once and caches the answer, a token revoked from
//! another device is refused on the very next REST call even though the
//! edge had cached it, and the core refuses whatever a stale cache passes.

mod support;

use support::api::{PASSWORD, str_of};
use support::{Api, Server, Ws};

const ME: &str = "/api/v1/users/me";
const HITS: &str = "chat_edge_principal_cache_hits_total";
const MISSES: &str = "chat_edge_principal_cache_misses_total";

/// The edge's principal cache hits and misses so far.
async fn cache_counts(server: &Server) -> (f64, f64) {
    let hits = server.metric(HITS).await.unwrap_or(0.0);
    let misses = server.metric(MISSES).await.unwrap_or(0.0);
    (hits, misses)
}

/// Logs `username` in on another device: its token and session id.
async fn another_device(api: &Api, username: &str) -> (String, String) {
    let reply = api
        .login(username, PASSWORD, Some("phone"))
        .await
        .expect(200);
    (str_of(&reply["token"]), str_of(&reply["session"]["id"]))
}

#[tokio::test]
async fn rest_calls_ask_the_core_about_their_token_once() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let before = cache_counts(&server).await;
    for _ in 0..5 {
        api.get(ME, &ann.token).await.expect(200);
    }
    let after = cache_counts(&server).await;
    assert_eq!(
        after.1 - before.1,
        1.0,
        "one Authenticate, for the first call"
    );
    assert_eq!(
        after.0 - before.0,
        4.0,
        "the other four were served from the cache"
    );
}

#[tokio::test]
async fn a_token_revoked_elsewhere_is_refused_at_once_though_the_edge_cached_it() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let (phone, phone_session) = another_device(&api, "ann").await;
    // The phone's token is cached: its second call is a hit.
    api.get(ME, &phone).await.expect(200);
    let before = cache_counts(&server).await;
    api.get(ME, &phone).await.expect(200);
    assert_eq!(cache_counts(&server).await.0 - before.0, 1.0, "cached");
    // A socket of the phone's, so this edge serves ann and hears of her
    // revocations.
    let (mut ws, _) = Ws::connect(&server, &phone).await;

    // Ended from the laptop.
    let path = format!("/api/v1/auth/sessions/{phone_session}");
    api.delete(&path, &ann.token).await.expect(204);
    // The event reached this edge (its socket closes) ...
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 4001, "{closed:?}");
    // ... and took the cached principal with it: the next REST call is a
    // miss, asks the core, and is refused.
    let before = cache_counts(&server).await;
    api.get(ME, &phone).await.expect_error(401, "invalid_token");
    let after = cache_counts(&server).await;
    assert_eq!(after.0 - before.0, 0.0, "not served from the cache");
    assert_eq!(after.1 - before.1, 1.0, "asked the core");
    // The laptop's own token was not touched.
    api.get(ME, &ann.token).await.expect(200);
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_the_core_where_no_event_reached_the_edge() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let (phone, _) = another_device(&api, "ann").await;
    api.get(ME, &phone).await.expect(200);
    // Ann has no socket here, so the core sends this edge no event about
    // her: the phone's principal stays in the edge's cache, and the call
    // on it is refused by the core's own check.
    api.logout_all(&ann.token).await.expect(204);
    api.get(ME, &phone).await.expect_error(401, "invalid_token");
    api.get("/api/v1/channels", &phone)
        .await
        .expect_error(401, "invalid_token");
}

#[tokio::test]
async fn a_hello_asks_the_core_about_its_token_once_and_never_after_revocation() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let before = cache_counts(&server).await;
    let (mut first, _) = Ws::connect(&server, &ann.token).await;
    let (second, ready) = Ws::connect(&server, &ann.token).await;
    let after = cache_counts(&server).await;
    assert_eq!(after.1 - before.1, 1.0, "one Authenticate, for the first");
    assert_eq!(after.0 - before.0, 1.0, "the second from the cache");
    assert_eq!(ready["user"]["username"], "ann", "its profile too");
    drop(second);

    // Revoked: the event closes the socket and drops the cached principal,
    // so a new hello asks the core, which refuses it.
    api.logout_all(&ann.token).await.expect(204);
    assert_eq!(first.closed().await.0.code, 4001);
    let mut ws = Ws::open(&server).await;
    ws.send_json(serde_json::json!({"type": "hello", "token": ann.token}))
        .await;
    let (closed, frames) = ws.closed().await;
    assert_eq!(closed.code, 4001, "{frames:?}");
    assert_eq!(frames[0]["code"], "invalid_token");
}
