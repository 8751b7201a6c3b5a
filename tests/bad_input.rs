//! Every bad WebSocket input gets a documented answer, loses nothing, and
//! leaves the server serving everyone else.

mod support;

use reqwest::Method;
use serde_json::json;
use support::{Account, Api, DataDir, Server, Transport, Ws};
use tokio_tungstenite::tungstenite::Message;

/// Every test body below runs over both transports, with the same codes.
macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {
        mod websocket {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Transport::WebSocket).await
            })*
        }
        mod webtransport {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Transport::WebTransport).await
            })*
        }
    };
}

on_both_transports!(
    bad_frames_get_error_frames_and_the_session_goes_on,
    a_lone_surrogate_is_named_and_the_send_kept,
    sending_outside_ones_channels_is_refused,
    duplicate_client_msg_id_returns_the_first_message,
    invalid_utf8_closes_with_1007,
    oversized_frame_closes_with_1009,
    the_first_frame_must_be_hello,
    invalid_and_logged_out_tokens_are_refused,
    a_client_that_stops_reading_is_disconnected,
);

/// The per-connection metric `name` of transport `t`.
fn metric(t: Transport, name: &str) -> &'static str {
    let all = [
        ("connections", "chat_ws_connections", "chat_wt_connections"),
        (
            "closed_total",
            "chat_ws_closed_total",
            "chat_wt_closed_total",
        ),
    ];
    let (_, ws, wt) = all
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .expect("a known metric");
    if t == Transport::WebSocket { ws } else { wt }
}

/// Two users in a direct channel, with a bystander pair chatting alongside.
struct World {
    server: Server,
    api: Api,
    ann: Account,
    bob: Account,
    channel: String,
}

impl World {
    async fn new() -> Self {
        Self::with_env(&[]).await
    }

    async fn with_env(env: &[(&str, &str)]) -> Self {
        let server = Server::start_with(DataDir::new(), &[], env).await;
        let api = Api::new(&server);
        let ann = api.signup("ann").await;
        let bob = api.signup("bob").await;
        let channel = api.direct(&ann, &bob).await;
        Self {
            server,
            api,
            ann,
            bob,
            channel,
        }
    }

    /// Proves the server still serves others: bob sends, ann's new session receives.
    async fn still_serving(&self, tag: &str) {
        let (mut bob_ws, _) = Ws::connect(&self.server, &self.bob.token).await;
        let login = json!({"username": "ann", "password": "correct horse battery"});
        let ann = self
            .api
            .call(Method::POST, "/api/v1/auth/login", None, Some(login))
            .await
            .expect(200);
        let token = support::api::str_of(&ann["token"]);
        let (mut ann_ws, _) = Ws::connect(&self.server, &token).await;
        let ack = bob_ws
            .send_message(&self.channel, &format!("alive-{tag}"), "still here")
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        assert_eq!(ann_ws.messages(1).await[0], ack["message"]);
    }
}

async fn bad_frames_get_error_frames_and_the_session_goes_on(t: Transport) {
    let w = World::new().await;
    let (mut ws, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    let channel = w.channel.as_str();
    let long = "x".repeat(100_001);
    let cases = [
        ("{not json".to_owned(), "malformed_json", None),
        ("[1,2,3]".to_owned(), "malformed_json", None),
        (json!({"type": "shout", "text": "hey"}).to_string(), "unknown_type", None),
        (json!({"text": "no type"}).to_string(), "missing_field", None),
        (json!({"type": "send", "client_msg_id": "m1", "text": "no channel"}).to_string(), "missing_field", Some("m1")),
        (json!({"type": "send", "channel_id": channel, "client_msg_id": "m2"}).to_string(), "missing_field", Some("m2")),
        (json!({"type": "send", "channel_id": "abc", "client_msg_id": "m3", "text": "x"}).to_string(), "invalid_field", Some("m3")),
        (json!({"type": "send", "channel_id": channel, "client_msg_id": "m4", "text": ""}).to_string(), "text_empty", Some("m4")),
        (json!({"type": "send", "channel_id": channel, "client_msg_id": "m5", "text": long}).to_string(), "text_too_long", Some("m5")),
        (json!({"type": "send", "channel_id": channel, "client_msg_id": "", "text": "x"}).to_string(), "invalid_client_msg_id", Some("")),
        (json!({"type": "send", "channel_id": channel, "client_msg_id": "k".repeat(65), "text": "x"}).to_string(), "invalid_client_msg_id", None),
        (json!({"type": "hello", "token": w.ann.token}).to_string(), "already_authenticated", None),
    ];
    for (frame, code, key) in cases {
        ws.send_str(&frame).await;
        let err = ws.wait_type("error").await;
        assert_eq!(err["code"], code, "frame {frame:.80} gave {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
        if let Some(key) = key {
            assert_eq!(err["client_msg_id"], key, "{err}");
        }
    }
    // WebTransport has no binary frames: every frame on its stream is text.
    if t == Transport::WebSocket {
        ws.send_raw(Message::binary(vec![1u8, 2, 3])).await;
        assert_eq!(ws.wait_type("error").await["code"], "binary_not_supported");
    }

    // The same session still works, and nothing refused was stored.
    let ack = ws.send_message(channel, "ok-1", "after all that").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let exact = "é".repeat(100_000);
    let ack = ws.send_message(channel, "ok-2", &exact).await;
    assert_eq!(ack["type"], "ack", "100,000 characters are allowed");
    let history = w.api.all_messages(&w.ann, channel).await;
    assert_eq!(history.len(), 2, "only the accepted messages are stored");
    assert_eq!(history[1]["text"], exact.as_str());
    w.still_serving("frames").await;
}

async fn a_lone_surrogate_is_named_and_the_send_kept(t: Transport) {
    let w = World::new().await;
    let (mut ws, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    // Raw text: a JSON library would not write a lone surrogate.
    let frame = format!(
        r#"{{"type":"send","channel_id":"{}","client_msg_id":"k1","text":"\ud800"}}"#,
        w.channel
    );
    ws.send_str(&frame).await;
    let err = ws.wait_type("error").await;
    assert_eq!(err["code"], "malformed_json", "{err}");
    assert_eq!(err["client_msg_id"], "k1", "{err}");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(r"lone surrogate \ud800 in a string")
            && message.ends_with("JSON strings must be valid Unicode"),
        "{err}"
    );
    let frame = r#"{"type":"send","client_msg_id":"k2","junk":1e400}"#;
    ws.send_str(frame).await;
    let err = ws.wait_type("error").await;
    assert_eq!(err["code"], "malformed_json", "{err}");
    assert_eq!(err["client_msg_id"], "k2", "out of range elsewhere: {err}");
    w.still_serving("surrogate").await;
}

#[tokio::test]
async fn a_rest_body_with_a_lone_surrogate_is_named_too() {
    let w = World::new().await;
    let path = format!("/api/v1/channels/{}/messages", w.channel);
    let body = br#"{"text":"\ud800","client_msg_id":"r1"}"#.to_vec();
    let reply = w
        .api
        .raw(
            Method::POST,
            &path,
            Some(&w.ann.token),
            "application/json",
            body,
        )
        .await;
    let message = reply.expect_error(400, "malformed_json");
    assert!(
        message.contains("text: lone surrogate in a string at line 1 column 16")
            && message.ends_with("JSON strings must be valid Unicode"),
        "{message}"
    );
    assert!(w.api.all_messages(&w.ann, &w.channel).await.is_empty());
}

async fn sending_outside_ones_channels_is_refused(t: Transport) {
    let w = World::new().await;
    let eve = w.api.signup("eve").await;
    let (mut eve_ws, _) = Ws::connect_on(&w.server, t, &eve.token).await;
    let (mut ann_ws, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    // A channel eve is not in gets the very answer a channel that does not
    // exist gets, so she cannot tell which ids are channels.
    let ghost = "12345";
    let refused = eve_ws.send_message(&w.channel, "sneak", "let me in").await;
    let missing = eve_ws.send_message(ghost, "sneak", "let me in").await;
    assert_eq!(refused["code"], "channel_not_found", "{refused}");
    assert_eq!(refused["message"], missing["message"]);
    for (kind, channel) in [("read", ghost), ("read", w.channel.as_str())] {
        let frame = json!({"type": kind, "channel_id": channel, "message_id": "1"});
        eve_ws.send_json(frame).await;
        let err = eve_ws.wait_type("error").await;
        assert_eq!(err["code"], "channel_not_found", "{channel}: {err}");
    }
    let posts = [
        ("/messages", Some(json!({"text": "rest sneak"}))),
        ("", None),
        ("/messages?limit=5", None),
    ];
    for (suffix, body) in posts {
        let mut answers = Vec::new();
        for channel in [w.channel.as_str(), ghost] {
            let path = format!("/api/v1/channels/{channel}{suffix}");
            let reply = match &body {
                Some(b) => w.api.post(&path, &eve.token, b.clone()).await,
                None => w.api.get(&path, &eve.token).await,
            };
            answers.push((reply.status, reply.body));
        }
        assert_eq!(answers[0], answers[1], "{suffix}");
        assert_eq!(answers[0].0, 404, "{suffix}");
        assert_eq!(answers[0].1["error"]["code"], "channel_not_found");
    }

    // Members never saw any of it.
    ann_ws
        .send_json(json!({"type": "ping", "nonce": "n1"}))
        .await;
    let next = ann_ws
        .wait_for(|f| f["type"] == "pong" || f["type"] == "message")
        .await;
    assert_eq!(next["type"], "pong", "{next}");
    assert!(w.api.all_messages(&w.ann, &w.channel).await.is_empty());
    w.still_serving("outsider").await;
}

async fn duplicate_client_msg_id_returns_the_first_message(t: Transport) {
    let w = World::new().await;
    let (mut ann_ws, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    let (mut bob_ws, _) = Ws::connect_on(&w.server, t, &w.bob.token).await;
    let first = ann_ws.send_message(&w.channel, "same", "once").await;
    assert_eq!(first["duplicate"], false);
    let again = ann_ws.send_message(&w.channel, "same", "once").await;
    assert_eq!(again["type"], "ack");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message"], first["message"]);
    // Another user may use the same key: keys are per sender.
    let bobs = bob_ws.send_message(&w.channel, "same", "mine").await;
    assert_eq!(bobs["duplicate"], false);
    assert_ne!(bobs["message"]["id"], first["message"]["id"]);
    // Bob saw ann's message once, then his own.
    let seen = bob_ws.messages(2).await;
    assert_eq!(
        seen,
        vec![first["message"].clone(), bobs["message"].clone()]
    );
    assert_eq!(w.api.all_messages(&w.bob, &w.channel).await.len(), 2);
}

async fn invalid_utf8_closes_with_1007(t: Transport) {
    let w = World::new().await;
    let (mut ws, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    ws.send_text_bytes(&[b'{', 0xff, 0xfe, b'}']).await;
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 1007, "{closed:?}");
    assert!(!closed.reason.is_empty());
    w.still_serving("utf8").await;
}

async fn oversized_frame_closes_with_1009(t: Transport) {
    // The client is still writing the frame when the server refuses it; the
    // server drains the rest so the close frame is not lost to a reset.
    let w = World::new().await;
    let (mut ws, ready) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    let limit = ready["limits"]["max_frame_bytes"].as_u64().expect("limit") as usize;
    assert_eq!(limit, 1 << 20);
    let nonce = "y".repeat(limit - 100);
    ws.send_json(json!({"type": "ping", "nonce": nonce})).await;
    assert_eq!(
        ws.wait_type("pong").await["nonce"],
        nonce.as_str(),
        "a frame under the limit passes"
    );
    let sent = ws.try_send_str(&"x".repeat(limit + 1)).await;
    // WebSocket reads and drops the rest of the frame so the close frame
    // arrives; WebTransport stops the stream at once, failing the write.
    assert!(
        sent || t == Transport::WebTransport,
        "the write went through"
    );
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 1009, "{closed:?}");
    w.still_serving("size").await;
}

async fn the_first_frame_must_be_hello(t: Transport) {
    let w = World::with_env(&[("CHAT_EDGE__HELLO_TIMEOUT_MS", "300")]).await;
    let mut ws = Ws::open_on(&w.server, t).await;
    ws.send_json(
        json!({"type": "send", "channel_id": w.channel, "client_msg_id": "x", "text": "hi"}),
    )
    .await;
    let (closed, frames) = ws.closed().await;
    assert_eq!(closed.code, 4003);
    assert_eq!(frames[0]["code"], "hello_required");

    let mut silent = Ws::open_on(&w.server, t).await;
    let (closed, _) = silent.closed().await;
    assert_eq!(closed.code, 4002, "no hello in time");

    if t == Transport::WebSocket {
        let mut binary = Ws::open_on(&w.server, t).await;
        binary.send_raw(Message::binary(vec![0u8; 8])).await;
        assert_eq!(binary.closed().await.0.code, 4003);
    }
    w.still_serving("hello").await;
}

async fn invalid_and_logged_out_tokens_are_refused(t: Transport) {
    let w = World::new().await;
    let mut ws = Ws::open_on(&w.server, t).await;
    ws.send_json(json!({"type": "hello", "token": "not-a-token"}))
        .await;
    let (closed, frames) = ws.closed().await;
    assert_eq!(closed.code, 4001);
    assert_eq!(frames[0]["code"], "invalid_token");

    // A second device with its own token survives the first one's logout.
    let login = w
        .api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "ann", "password": "correct horse battery"})),
        )
        .await
        .expect(200);
    let other_token = support::api::str_of(&login["token"]);
    let (mut doomed, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    let (mut survivor, _) = Ws::connect_on(&w.server, t, &other_token).await;
    w.api
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&w.ann.token),
            None,
        )
        .await
        .expect(204);
    let (closed, _) = doomed.closed().await;
    assert_eq!(closed.code, 4001, "a logged-out token's live session ends");

    w.api
        .get("/api/v1/users/me", &w.ann.token)
        .await
        .expect_error(401, "invalid_token");
    let mut again = Ws::open_on(&w.server, t).await;
    again
        .send_json(json!({"type": "hello", "token": w.ann.token}))
        .await;
    assert_eq!(again.closed().await.0.code, 4001);

    let ack = survivor
        .send_message(&w.channel, "s1", "still logged in here")
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    w.still_serving("tokens").await;
}

async fn a_client_that_stops_reading_is_disconnected(t: Transport) {
    let env = [
        ("CHAT_EDGE__OUTBOUND_QUEUE", "4"),
        ("CHAT_EDGE__FRAMES_BURST", "100000"),
    ];
    let w = World::with_env(&env).await;
    let (mut stalled, _) = Ws::connect_on(&w.server, t, &w.ann.token).await;
    let (mut bob_ws, _) = Ws::connect_on(&w.server, t, &w.bob.token).await;
    let text = "z".repeat(100_000);
    let mut sent = 0;
    // Bounded: far more than socket buffers plus the queue can hold.
    for n in 0..2_000 {
        let ack = bob_ws
            .send_message(&w.channel, &format!("flood-{n}"), &text)
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        bob_ws.messages(1).await;
        sent += 1;
        if w.server.metric("chat_ws_slow_consumers_total").await == Some(1.0) {
            break;
        }
    }
    // The server lets go of the connection while the client still is not
    // reading: its task, queue and socket are freed.
    let mut polls = 0;
    while w.server.metric(metric(t, "connections")).await != Some(1.0) {
        polls += 1;
        assert!(polls < 400, "the stalled connection was never released");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let metrics = w.server.metrics().await;
    let closed_total = metric(t, "closed_total");
    assert!(
        metrics.contains(&format!(
            r#"{closed_total}{{reason="outbound queue full: client reads too slowly"}} 1"#
        )),
        "the reason is recorded:\n{metrics}"
    );
    let (closed, frames) = stalled.closed().await;
    assert!(closed.code == 4008 || closed.code == 1006, "{closed:?}");
    assert!(
        frames.len() < sent,
        "the stalled client got {} of {sent}",
        frames.len()
    );
    w.still_serving("slow").await;
}
