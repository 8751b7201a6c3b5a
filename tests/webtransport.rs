//! WebTransport clients chat with WebSocket clients through the same
//! sessions: same messages, same order, same cursors, same close codes.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Api, Cursors, Server, Transport, Ws};

/// The `message` frames' ids, in arrival order.
fn ids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["id"].as_str().expect("message id").to_owned())
        .collect()
}

#[tokio::test]
async fn webtransport_and_websocket_clients_chat_one_to_one_and_in_a_group() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cat = api.signup("cat").await;
    let direct = api.direct(&ann, &bob).await;
    let group = api.group(&ann, "trio", &[&bob, &cat]).await;
    let (mut ann_wt, _) = Ws::connect_on(&server, Transport::WebTransport, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect_on(&server, Transport::WebSocket, &bob.token).await;
    let (mut cat_wt, _) = Ws::connect_on(&server, Transport::WebTransport, &cat.token).await;

    let ack = ann_wt
        .send_message(&direct, "d1", "hi bob, over HTTP/3")
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(bob_ws.messages(1).await[0], ack["message"]);
    let ack = bob_ws.send_message(&direct, "d2", "hi ann, over TCP").await;
    assert_eq!(
        ann_wt.wait_message(&ack["message"]).await["message"],
        ack["message"]
    );

    // Interleaved sends from both transports: everyone sees one order.
    for i in 0..10 {
        ann_wt
            .send_text(&group, &format!("a{i}"), &format!("ann {i}"))
            .await;
        bob_ws
            .send_text(&group, &format!("b{i}"), &format!("bob {i}"))
            .await;
    }
    let mut orders = Vec::new();
    for client in [&mut ann_wt, &mut bob_ws, &mut cat_wt] {
        let mut got = Vec::new();
        while got.len() < 20 {
            let frame = client
                .wait_for(|f| f["type"] == "message" && f["message"]["channel_id"] == group)
                .await;
            got.push(frame["message"].clone());
        }
        orders.push(ids(&got));
    }
    assert_eq!(
        orders[0], orders[1],
        "ann (WebTransport) and bob (WebSocket)"
    );
    assert_eq!(
        orders[1], orders[2],
        "bob (WebSocket) and cat (WebTransport)"
    );
}

/// Ann and bob in a direct channel; bob is on WebSocket throughout.
struct Pair {
    server: Server,
    api: Api,
    ann: String,
    bob_ws: Ws,
    channel: String,
    channel_id: u64,
}

impl Pair {
    async fn new() -> Self {
        let server = Server::start().await;
        let api = Api::new(&server);
        let ann = api.signup("ann").await;
        let bob = api.signup("bob").await;
        let channel = api.direct(&ann, &bob).await;
        let channel_id = channel.parse().expect("channel id");
        let (bob_ws, _) = Ws::connect_on(&server, Transport::WebSocket, &bob.token).await;
        Self {
            server,
            api,
            ann: ann.token,
            bob_ws,
            channel,
            channel_id,
        }
    }

    /// Bob sends one text; the message as stored.
    async fn bob_sends(&mut self, client_msg_id: &str) -> Value {
        let ack = self
            .bob_ws
            .send_message(&self.channel, client_msg_id, "x")
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        ack["message"].clone()
    }

    /// Ann back on `transport`, from a fresh sign-in, with the cursor of
    /// the last message she holds.
    async fn ann_resumes(&self, transport: Transport, held: &[Value]) -> Ws {
        let last = held.last().expect("a message held");
        let id: u64 = support::api::str_of(&last["id"]).parse().expect("id");
        let cursors = Cursors::from([(self.channel_id, id)]);
        let token = ann_token(&self.api).await;
        Ws::resume_on(&self.server, transport, &token, &cursors)
            .await
            .0
    }
}

/// Nothing more arrives: up to the answer of a ping, no other message came.
async fn nothing_twice(ws: &mut Ws) {
    ws.send_json(json!({"type": "ping", "nonce": "end"})).await;
    assert_eq!(ws.wait_type("pong").await["nonce"], "end");
    assert_eq!(ws.pending_of("message"), Vec::<Value>::new());
}

#[tokio::test]
async fn a_client_resumes_across_transports_with_its_cursors() {
    let mut pair = Pair::new().await;

    // Ann on WebTransport gets the first two, then leaves.
    let (mut ann, _) = Ws::connect_on(&pair.server, Transport::WebTransport, &pair.ann).await;
    let mut sent = Vec::new();
    for i in 0..2 {
        sent.push(pair.bob_sends(&format!("m{i}")).await);
    }
    let got = ann.messages(2).await;
    assert_eq!(got, sent);
    ann.close().await;

    // Three more while she is away; she comes back over WebSocket.
    for i in 2..5 {
        sent.push(pair.bob_sends(&format!("m{i}")).await);
    }
    let mut ann = pair.ann_resumes(Transport::WebSocket, &got).await;
    assert_eq!(ann.messages(3).await, sent[2..5]);
    ann.close().await;

    // And back to WebTransport from the WebSocket cursor.
    sent.push(pair.bob_sends("m5").await);
    let mut ann = pair.ann_resumes(Transport::WebTransport, &sent[..5]).await;
    assert_eq!(ann.messages(1).await, sent[5..6]);
    nothing_twice(&mut ann).await;
}

/// A fresh token for ann (each device signs in).
async fn ann_token(api: &Api) -> String {
    let login = json!({"username": "ann", "password": "correct horse battery"});
    let reply = api
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login),
        )
        .await
        .expect(200);
    support::api::str_of(&reply["token"])
}

#[tokio::test]
async fn frames_may_arrive_in_pieces_and_broken_framing_closes_with_its_code() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let (mut ws, _) = Ws::connect_on(&server, Transport::WebTransport, &ann.token).await;

    // Two frames written a byte at a time, then two in one write.
    let ping = |nonce: &str| json!({"type": "ping", "nonce": nonce}).to_string();
    let bytes: Vec<u8> = [ping("a"), ping("b")]
        .iter()
        .flat_map(|text| support::wt::frame(text.as_bytes()))
        .collect();
    for byte in &bytes {
        ws.send_bytes(std::slice::from_ref(byte)).await;
    }
    ws.send_bytes(&bytes).await;
    for nonce in ["a", "b", "a", "b"] {
        let pong = ws.wait_type("pong").await;
        assert_eq!(pong["nonce"], nonce, "{pong}");
    }

    // A header announcing more than the limit is refused before its body.
    let limit: u32 = 1 << 20;
    ws.send_bytes(&(limit + 1).to_be_bytes()).await;
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 1009, "{closed:?}");

    // The stream ending inside a frame.
    let (mut ws, _) = Ws::connect_on(&server, Transport::WebTransport, &ann.token).await;
    ws.send_bytes(&[0, 0, 0, 10, b'{']).await;
    ws.finish_stream().await;
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 1002, "{closed:?}");
    assert!(closed.reason.contains("inside a frame"), "{closed:?}");

    // And the server still serves.
    let (mut ws, _) = Ws::connect_on(&server, Transport::WebTransport, &ann.token).await;
    ws.send_json(json!({"type": "ping", "nonce": "after"}))
        .await;
    assert_eq!(ws.wait_type("pong").await["nonce"], "after");
}

#[tokio::test]
async fn only_the_session_path_is_served_and_a_session_must_open_its_stream() {
    let server = Server::start_with(
        support::DataDir::new(),
        &[],
        &[("CHAT_EDGE__HELLO_TIMEOUT_MS", "300")],
    )
    .await;
    let (addr, hash) = support::wt::locate(&server).await;
    let config = wtransport::ClientConfig::builder()
        .with_bind_default()
        .with_server_certificate_hashes([hash])
        .build();
    let endpoint = wtransport::Endpoint::client(config).expect("client endpoint");
    let refused = endpoint.connect(format!("https://{addr}/elsewhere")).await;
    let err = refused.expect_err("a wrong path is refused").to_string();
    assert!(err.contains("rejected"), "{err}");

    // A session that never opens its chat stream is closed with 4002.
    let connection = endpoint
        .connect(format!("https://{addr}/wt"))
        .await
        .expect("session");
    let closed = tokio::time::timeout(support::STEP, connection.closed())
        .await
        .expect("closed in time");
    assert!(closed.to_string().contains("4002"), "{closed}");

    // The hash served is the one the server presents, and HTTP says where.
    let reply = reqwest::get(server.url("/healthz")).await.expect("healthz");
    let alt_svc = reply.headers()["alt-svc"].to_str().expect("ascii");
    assert_eq!(alt_svc, format!("h3=\":{}\"; ma=86400", addr.port()));
    let body: Value = reqwest::get(server.url("/webtransport/cert-hash"))
        .await
        .expect("cert-hash")
        .json()
        .await
        .expect("json");
    let left = body["expires_at_ms"].as_i64().expect("self-signed expires") - now_ms();
    let days = left as f64 / 86_400_000.0;
    assert!(days > 13.9 && days <= 14.0, "valid for {days} days");
}

#[tokio::test]
async fn a_session_whose_network_vanishes_mid_burst_resumes_with_nothing_missed_or_twice() {
    let mut pair = Pair::new().await;
    let (mut ann_wt, _) = Ws::connect_on(&pair.server, Transport::WebTransport, &pair.ann).await;

    // A burst of 100 in one write; ann's path goes silent after 10 arrive
    // (a cut UDP relay: no close, no reset, just nothing).
    let burst: Vec<Value> = (0..100)
        .map(|i| json!({"type": "send", "channel_id": pair.channel, "client_msg_id": format!("b{i}"), "text": format!("burst {i}")}))
        .collect();
    pair.bob_ws.send_all(burst).await;
    let mut got = ann_wt.messages(10).await;
    ann_wt.abort();
    let mut sent = Vec::new();
    for i in 0..100 {
        let ack = pair.bob_ws.reply_to(&format!("b{i}")).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        sent.push(ack["message"].clone());
    }

    // A new session with the cursor of the last message she holds.
    let mut ann_wt = pair.ann_resumes(Transport::WebTransport, &got).await;
    got.extend(ann_wt.messages(90).await);
    assert_eq!(ids(&got), ids(&sent), "all 100, each once, in order");

    // Gone again; five more meanwhile; back over WebSocket this time.
    ann_wt.abort();
    for i in 0..5 {
        sent.push(pair.bob_sends(&format!("late{i}")).await);
    }
    let mut ann_ws = pair.ann_resumes(Transport::WebSocket, &got).await;
    got.extend(ann_ws.messages(5).await);
    nothing_twice(&mut ann_ws).await;
    assert_eq!(ids(&got), ids(&sent), "all 105, each once, in order");
}

/// Now as Unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// Bob watching his 1:1 channel with ann, over WebSocket; ann's id and the channel.
async fn bob_watches_ann(server: &Server) -> (Api, support::Account, Ws) {
    let api = Api::new(server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut bob_ws, _) = Ws::connect_on(server, Transport::WebSocket, &bob.token).await;
    bob_ws
        .send_json(json!({"type": "watch_presence", "channel_id": dm}))
        .await;
    bob_ws.wait_type("presence_list").await;
    (api, ann, bob_ws)
}

async fn presence_of(ws: &mut Ws, user: &str, status: &str) {
    ws.wait_for(|f| f["type"] == "presence" && f["user_id"] == user && f["status"] == status)
        .await;
}

#[tokio::test]
async fn a_closed_tab_goes_offline_at_once_though_its_stream_reset_came_first() {
    let server = Server::start().await;
    let (_api, ann, mut bob) = bob_watches_ann(&server).await;

    // As Chromium closes a tab: RESET_STREAM, then CONNECTION_CLOSE in a
    // later packet. The server used to look for the close once, at the
    // reset, and took the tab for a lost client (30 s of grace).
    let (ann_wt, _) = Ws::connect_on(&server, Transport::WebTransport, &ann.token).await;
    presence_of(&mut bob, &ann.id, "online").await;
    let left = Instant::now();
    ann_wt.leave_like_a_tab(Duration::from_millis(100)).await;
    presence_of(&mut bob, &ann.id, "offline").await;
    assert!(
        left.elapsed() < Duration::from_secs(10),
        "a closed tab is offline at once, not after the 30 s grace"
    );

    // A stream reset with the connection kept is a goodbye too.
    let (mut ann_wt, _) = Ws::connect_on(&server, Transport::WebTransport, &ann.token).await;
    presence_of(&mut bob, &ann.id, "online").await;
    let left = Instant::now();
    ann_wt.reset_stream();
    presence_of(&mut bob, &ann.id, "offline").await;
    assert!(
        left.elapsed() < Duration::from_secs(10),
        "a reset stream is offline at once"
    );
}

#[tokio::test]
async fn a_session_survives_a_change_of_network_without_a_new_handshake() {
    let mut pair = Pair::new().await;
    let (mut ann, _) = Ws::connect_on(&pair.server, Transport::WebTransport, &pair.ann).await;
    let mut sent = vec![pair.bob_sends("before").await];
    assert_eq!(ann.messages(1).await, sent);

    // Ann's packets now come from another address (a phone leaving Wi-Fi):
    // what the server sends her old address goes nowhere until QUIC moves
    // the connection to the new one. The session, its cursors and its
    // order stay: no new hello, nothing missed, nothing twice.
    ann.move_network().await;
    for i in 0..3 {
        sent.push(pair.bob_sends(&format!("after-{i}")).await);
    }
    assert_eq!(ann.messages(3).await, sent[1..]);
    let ack = ann.send_message(&pair.channel, "ann-after", "moved").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let id = ack["message"]["id"].clone();
    pair.bob_ws
        .wait_for(|f| f["type"] == "message" && f["message"]["id"] == id)
        .await;
    // Her own sessions get her message too (docs/protocol.md), once.
    ann.wait_for(|f| f["type"] == "message" && f["message"]["id"] == id)
        .await;
    nothing_twice(&mut ann).await;
}
