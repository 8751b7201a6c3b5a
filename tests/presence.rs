//! Presence, typing and heartbeats over real sockets: who is online, who
//! may know it, how dropped and silent connections are handled.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Api, DataDir, Server, Ws};

fn watch(channel: &str) -> Value {
    json!({"type": "watch_presence", "channel_id": channel})
}

/// The `presence` frame about `user` with `status`.
async fn presence_of(ws: &mut Ws, user: &str, status: &str) -> Value {
    ws.wait_for(|f| f["type"] == "presence" && f["user_id"] == user && f["status"] == status)
        .await
}

/// Ann and bob, both connected, with bob watching their 1:1 channel.
struct Watched {
    api: Api,
    ann: support::Account,
    dm: String,
    ann_ws: Ws,
    bob_ws: Ws,
}

impl Watched {
    async fn start(server: &Server) -> Self {
        let api = Api::new(server);
        let ann = api.signup("ann").await;
        let bob = api.signup("bob").await;
        let dm = api.direct(&ann, &bob).await;
        let (mut bob_ws, _) = Ws::connect(server, &bob.token).await;
        let (ann_ws, _) = Ws::connect(server, &ann.token).await;
        bob_ws.send_json(watch(&dm)).await;
        bob_ws.wait_type("presence_list").await;
        Self {
            api,
            ann,
            dm,
            ann_ws,
            bob_ws,
        }
    }
}

#[tokio::test]
async fn watching_a_channel_shows_members_coming_and_going() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    bob_ws.send_json(watch(&dm)).await;
    let list = bob_ws.wait_type("presence_list").await;
    assert_eq!(list["channel_id"], dm.as_str());
    let ann_now = list["presence"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["user_id"] == ann.id.as_str())
        .cloned()
        .expect("ann listed");
    assert_eq!(
        (&ann_now["status"], &ann_now["last_active_at_ms"]),
        (&json!("offline"), &json!(0))
    );

    let (ann_ws, _) = Ws::connect(&server, &ann.token).await;
    presence_of(&mut bob_ws, &ann.id, "online").await;
    let closed_at = Instant::now();
    ann_ws.close().await;
    let offline = presence_of(&mut bob_ws, &ann.id, "offline").await;
    assert!(
        closed_at.elapsed() < Duration::from_secs(10),
        "a clean close is offline at once, not after the 30 s grace"
    );
    assert!(
        offline["last_active_at_ms"].as_i64().unwrap_or(0) > 0,
        "{offline}"
    );

    bob_ws.send_json(unwatch(&dm)).await;
    let side = api.group(&bob, "side", &[]).await;
    settle_watches(&mut bob_ws, &side).await;
    assert_no_presence_of(&server, &ann, &mut bob_ws, &dm).await;
}

#[tokio::test]
async fn an_unwatch_sent_right_after_its_watch_is_applied_after_it() {
    const CHANNELS: usize = 10;
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    // Connected before the channels exist, so `ready` has not put their
    // members in the core's cache: each watch must read them from storage
    // while its unwatch needs nothing, the race a client flicking through
    // channels runs. With ten pairs, the race shows in every run when
    // watches are not kept in order.
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let mut groups = Vec::with_capacity(CHANNELS);
    for n in 0..CHANNELS {
        groups.push(api.group(&bob, &format!("g{n}"), &[&ann]).await);
    }
    let side = api.group(&bob, "side", &[]).await;
    bob_ws
        .send_all(groups.iter().flat_map(|g| [watch(g), unwatch(g)]))
        .await;
    for _ in 0..CHANNELS {
        bob_ws.wait_type("presence_list").await;
    }
    settle_watches(&mut bob_ws, &side).await;
    assert_no_presence_of(&server, &ann, &mut bob_ws, &groups[0]).await;
}

fn unwatch(channel: &str) -> Value {
    json!({"type": "unwatch_presence", "channel_id": channel})
}

/// Watches `side` and waits for the answer: watches are applied in the
/// order sent, so every earlier watch and unwatch has then taken effect.
async fn settle_watches(ws: &mut Ws, side: &str) {
    ws.send_json(watch(side)).await;
    ws.wait_for(|f| f["type"] == "presence_list" && f["channel_id"] == side)
        .await;
}

/// Ann comes and goes, and `ws` hears nothing of it; its own next message
/// in `dm` marks the point by which presence would have arrived.
async fn assert_no_presence_of(server: &Server, ann: &support::Account, ws: &mut Ws, dm: &str) {
    let (ann_ws, _) = Ws::connect(server, &ann.token).await;
    ann_ws.close().await;
    let ack = ws.send_message(dm, "marker", "marker").await;
    ws.wait_message(&ack["message"]).await;
    let stray: Vec<_> = ws
        .pending_of("presence")
        .into_iter()
        .filter(|p| p["user_id"] == ann.id.as_str())
        .collect();
    assert!(stray.is_empty(), "no presence after unwatching: {stray:?}");
}

#[tokio::test]
async fn logging_out_is_offline_at_once() {
    let server = Server::start().await;
    let Watched {
        api,
        ann,
        mut ann_ws,
        mut bob_ws,
        ..
    } = Watched::start(&server).await;
    let started = Instant::now();
    let logout = api.call(
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        Some(&ann.token),
        None,
    );
    assert_eq!(logout.await.status, 204);
    let (closed, _) = ann_ws.closed().await;
    assert_eq!(closed.code, 4001);
    presence_of(&mut bob_ws, &ann.id, "offline").await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a logout is offline at once, not after the 30 s grace"
    );
}

#[tokio::test]
async fn a_dropped_connection_stays_online_through_the_grace_period() {
    let server = Server::start().await;
    let Watched {
        ann,
        dm,
        ann_ws,
        mut bob_ws,
        ..
    } = Watched::start(&server).await;

    ann_ws.abort();
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let ack = ann_ws.send_message(&dm, "a-1", "back again").await;
    bob_ws.wait_message(&ack["message"]).await;
    let flaps: Vec<_> = bob_ws.pending_of("presence");
    assert!(flaps.is_empty(), "a brief drop does not flap: {flaps:?}");
}

#[tokio::test]
async fn a_dropped_connection_goes_offline_when_the_grace_period_ends() {
    let env = [("CHAT_CORE__PRESENCE_GRACE_MS", "300")];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    let Watched {
        ann,
        ann_ws,
        mut bob_ws,
        ..
    } = Watched::start(&server).await;
    ann_ws.abort();
    presence_of(&mut bob_ws, &ann.id, "offline").await;
}

#[tokio::test]
async fn heartbeats_keep_a_connection_and_silence_ends_it_and_its_presence() {
    let env = [
        ("CHAT_EDGE__HEARTBEAT_INTERVAL_MS", "100"),
        ("CHAT_EDGE__IDLE_TIMEOUT_MS", "500"),
    ];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut ann_ws, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["heartbeat_interval_ms"], 100);
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    bob_ws.send_json(watch(&dm)).await;
    bob_ws.wait_type("presence_list").await;

    // Heartbeats at the announced interval for over twice the idle timeout.
    let started = Instant::now();
    let mut beats = 0;
    while started.elapsed() < Duration::from_millis(1_200) && beats < 50 {
        ann_ws
            .send_json(json!({"type": "ping", "nonce": beats.to_string()}))
            .await;
        bob_ws.send_json(json!({"type": "ping"})).await;
        assert_eq!(ann_ws.wait_type("pong").await["nonce"], beats.to_string());
        beats += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Then silence: bob keeps heartbeating while ann's connection is closed.
    let (closed, _) = tokio::select! {
        closed = ann_ws.closed() => closed,
        () = async {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                bob_ws.send_json(json!({"type": "ping"})).await;
            }
        } => unreachable!(),
    };
    assert_eq!(closed.code, 4004, "{closed:?}");
    presence_of(&mut bob_ws, &ann.id, "offline").await;
}

#[tokio::test]
async fn presence_reaches_friends_and_watchers_only() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cyd = api.signup("cyd").await;
    let dan = api.signup("dan").await;
    let dm = api.direct(&ann, &bob).await;
    let befriend = format!("/api/v1/relationships/{}", dan.id);
    let request = json!({"action": "request"});
    api.post(&befriend, &cyd.token, request).await.expect(200);
    let accept = format!("/api/v1/relationships/{}", cyd.id);
    let accepted = api
        .post(&accept, &dan.token, json!({"action": "accept"}))
        .await;
    assert_eq!(accepted.expect(200)["kind"], "friend");
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;
    cyd_ws.send_json(watch(&dm)).await;
    let refused = cyd_ws.wait_type("error").await;
    assert_eq!(
        (&refused["code"], &refused["channel_id"]),
        (&json!("channel_not_found"), &json!(dm))
    );

    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    bob_ws.send_json(watch(&dm)).await;
    bob_ws.wait_type("presence_list").await;
    let (ann_ws, _) = Ws::connect(&server, &ann.token).await;
    presence_of(&mut bob_ws, &ann.id, "online").await;
    ann_ws.close().await;
    presence_of(&mut bob_ws, &ann.id, "offline").await;
    // dan is cyd's friend: his coming online reaches her, after anything
    // about ann would have.
    let (_dan_ws, _) = Ws::connect(&server, &dan.token).await;
    presence_of(&mut cyd_ws, &dan.id, "online").await;
    let leaks: Vec<_> = cyd_ws
        .pending()
        .into_iter()
        .filter(|f| f["user_id"] == ann.id.as_str())
        .collect();
    assert!(leaks.is_empty(), "cyd shares nothing with ann: {leaks:?}");
}

#[tokio::test]
async fn typing_reaches_the_other_members_only_and_is_rate_limited() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cyd = api.signup("cyd").await;
    let dan = api.signup("dan").await;
    let group = api.group(&ann, "room", &[&bob, &cyd]).await;
    let elsewhere = api.direct(&bob, &dan).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut ann_tablet, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let (mut cyd_ws, _) = Ws::connect(&server, &cyd.token).await;

    ann_ws
        .send_json(json!({"type": "typing", "channel_id": group}))
        .await;
    for ws in [&mut bob_ws, &mut cyd_ws] {
        let typing = ws.wait_type("typing").await;
        assert_eq!(
            (&typing["channel_id"], &typing["user_id"]),
            (&json!(group), &json!(ann.id))
        );
        assert_eq!(typing["expires_in_ms"], 5000);
    }
    ann_ws
        .send_json(json!({"type": "typing", "channel_id": group}))
        .await;
    let limited = ann_ws.wait_type("error").await;
    assert_eq!(
        (&limited["code"], &limited["channel_id"]),
        (&json!("rate_limited"), &json!(group))
    );
    ann_ws
        .send_json(json!({"type": "typing", "channel_id": elsewhere}))
        .await;
    assert_eq!(ann_ws.wait_type("error").await["code"], "channel_not_found");

    let ack = bob_ws.send_message(&group, "b-1", "marker").await;
    for ws in [&mut ann_ws, &mut ann_tablet, &mut cyd_ws] {
        ws.wait_message(&ack["message"]).await;
        let typing: Vec<_> = ws.pending_of("typing");
        assert!(typing.len() <= 1, "one typing frame at most: {typing:?}");
    }
    let own: Vec<_> = ann_tablet.pending_of("typing");
    assert!(
        own.is_empty(),
        "the typist's own devices get nothing: {own:?}"
    );
}

#[tokio::test]
async fn a_heartbeat_flood_is_answered_and_breaks_nothing() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let (mut ws, _) = Ws::connect(&server, &ann.token).await;
    // Five times the burst of 200, in one write: the bucket (100 a second)
    // cannot refill fast enough to pass them all unless the server takes
    // eight seconds to read them.
    const FLOOD: usize = 1000;
    ws.send_all((0..FLOOD).map(|n| json!({"type": "ping", "nonce": n.to_string()})))
        .await;
    let (mut pongs, mut limited) = (0, 0);
    while pongs + limited < FLOOD {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") if frame["code"] == "rate_limited" => limited += 1,
            _ => panic!("unexpected frame during the flood: {frame}"),
        }
    }
    assert!(
        limited > 0 && pongs >= 200,
        "{pongs} pongs, {limited} refused"
    );
    // The bucket refills at 100 frames a second; the connection goes on.
    let mut attempt = 0;
    let ack = loop {
        attempt += 1;
        assert!(attempt <= 50, "never got through after the flood");
        let reply = ws
            .send_message(&dm, &format!("a-{attempt}"), "after the flood")
            .await;
        if reply["type"] == "ack" {
            break reply;
        }
        assert_eq!(reply["code"], "rate_limited", "{reply}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(ack["message"]["text"], "after the flood");
}
