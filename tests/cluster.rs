//! The cluster as real processes: one `chat-core` and two `chat-edge`s on
//! loopback, each edge reaching the core through a proxy the test can cut.
//! Faults a single node cannot have: a link cut mid-burst, an edge that
//! stops reading, an edge killed, the core killed and restarted. These
//! tests always start the processes, whatever `TEST_CHAT_TOPOLOGY` says.

mod support;

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use support::api::str_of;
use support::{Account, Api, Cluster, Cursors, STEP, Ws};
use tokio::time::Instant;

/// Frame limits high enough for a burst.
const FAST: [(&str, &str); 2] = [
    ("CHAT_EDGE__FRAMES_BURST", "100000"),
    ("CHAT_EDGE__FRAMES_PER_SEC", "100000"),
];

fn id(v: &Value) -> u64 {
    str_of(v).parse().expect("numeric id")
}

/// Sends until acked, resending the same key while the core is out of
/// reach (after calling `refused`, which may end the fault); the id.
async fn send_acked(
    ws: &mut Ws,
    channel: &str,
    key: &str,
    text: &str,
    mut refused: impl FnMut(),
) -> u64 {
    let deadline = Instant::now() + STEP;
    loop {
        let reply = ws.send_message(channel, key, text).await;
        if reply["type"] == "ack" {
            return id(&reply["message"]["id"]);
        }
        assert_eq!(
            reply["code"], "unavailable",
            "only an unreachable core refuses: {reply}"
        );
        assert!(Instant::now() < deadline, "{key} acked in time");
        refused();
        // A client's retry backoff: the fault ends on its own time.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The ids of the first `n` messages of `channel` that `ws` receives, in
/// the order received. Fails if the connection closes.
async fn first_messages(ws: &mut Ws, channel: &str, n: usize) -> Vec<u64> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let frame = tokio::time::timeout(STEP, ws.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {n} messages in time", got.len()))
            .expect("the connection stays open");
        if frame["type"] == "message" && str_of(&frame["message"]["channel_id"]) == channel {
            got.push(id(&frame["message"]["id"]));
        }
    }
    got
}

/// Sends `n` messages keyed `{tag}{i}`, each until acked; their ids.
async fn send_many(ws: &mut Ws, channel: &str, tag: &str, n: usize) -> Vec<u64> {
    let mut acked = Vec::with_capacity(n);
    for i in 0..n {
        acked.push(send_acked(ws, channel, &format!("{tag}{i}"), tag, || {}).await);
    }
    acked
}

/// Alice and Bob, signed up through edge 0, and their 1:1 channel.
struct Pair {
    api: Api,
    alice: Account,
    bob: Account,
    channel: String,
}

async fn pair(cluster: &Cluster) -> Pair {
    let api = Api::new(&cluster.edges[0]);
    let alice = api.signup("alice").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&alice, &bob).await;
    Pair {
        api,
        alice,
        bob,
        channel,
    }
}

/// A cursor at `last` for `channel`.
fn cursor_at(channel: &str, last: u64) -> Cursors {
    Cursors::from([(channel.parse().expect("numeric channel id"), last)])
}

/// Each of `n` messages once, in id order: what every member must see.
fn once_in_order(mut acked: Vec<u64>) -> Vec<u64> {
    acked.sort_unstable();
    acked.dedup();
    acked
}

#[tokio::test]
async fn a_group_spread_over_two_edges_gets_every_message_once_in_one_order() {
    let cluster = Cluster::start(2, &[], &FAST).await;
    let api = Api::new(&cluster.edges[0]);
    let mut users: Vec<Account> = Vec::new();
    for n in 0..20 {
        users.push(api.signup(&format!("member{n}")).await);
    }
    let others: Vec<&Account> = users[1..].iter().collect();
    let group = api.group(&users[0], "twenty", &others).await;
    // Ten members on each edge; three of each ten with a second device on
    // the other edge.
    let mut sessions = Vec::new();
    let mut home = Vec::new();
    for (n, user) in users.iter().enumerate() {
        home.push(sessions.len());
        sessions.push(Ws::connect(&cluster.edges[n / 10], &user.token).await.0);
        if n % 10 < 3 {
            let device = api.device(user, "second").await;
            let other = &cluster.edges[1 - n / 10];
            sessions.push(Ws::connect(other, &device.token).await.0);
        }
    }
    assert_eq!(sessions.len(), 26);
    // Four senders, two per edge, interleaved.
    let senders = [0, 5, 10, 15];
    for round in 0..10 {
        for &s in &senders {
            let key = format!("{s}-{round}");
            sessions[home[s]]
                .send_text(&group, &key, &format!("from {s}, #{round}"))
                .await;
        }
    }
    let mut acked = Vec::new();
    for round in 0..10 {
        for &s in &senders {
            let ack = sessions[home[s]].reply_to(&format!("{s}-{round}")).await;
            assert_eq!(ack["type"], "ack", "{ack}");
            acked.push(id(&ack["message"]["id"]));
        }
    }
    let want = once_in_order(acked);
    assert_eq!(want.len(), 40);
    for (n, ws) in sessions.iter_mut().enumerate() {
        let got = first_messages(ws, &group, want.len()).await;
        assert_eq!(got, want, "session {n}: every message once, in id order");
    }
}

#[tokio::test]
async fn a_link_cut_mid_burst_loses_nothing_and_repeats_nothing() {
    let cluster = Cluster::start(2, &[], &FAST).await;
    let Pair {
        api,
        alice,
        bob,
        channel,
    } = pair(&cluster).await;
    let laptop = api.device(&bob, "laptop").await;
    let (mut sender, _) = Ws::connect(&cluster.edges[0], &alice.token).await;
    let (mut far, _) = Ws::connect(&cluster.edges[1], &bob.token).await;
    let (mut near, _) = Ws::connect(&cluster.edges[0], &laptop.token).await;
    let mut acked = Vec::new();
    for n in 0..150 {
        match n {
            // Bob's far edge loses its link while Alice keeps sending.
            40 => cluster.links[1].cut(),
            80 => cluster.links[1].restore(),
            // Then Alice's own edge: her sends fail until it is back.
            100 => cluster.links[0].cut(),
            _ => {}
        }
        let restore = || cluster.links[0].restore();
        let text = format!("message {n}");
        acked.push(send_acked(&mut sender, &channel, &format!("m{n}"), &text, restore).await);
    }
    let want = once_in_order(acked.clone());
    assert_eq!(want, acked, "acked in send order, each once");
    for (who, ws) in [
        ("far", &mut far),
        ("near", &mut near),
        ("sender", &mut sender),
    ] {
        let got = first_messages(ws, &channel, want.len()).await;
        assert_eq!(got, want, "{who}: every acked message once, in order");
    }
    for (n, edge) in cluster.edges.iter().enumerate() {
        let breaks = edge.metric("chat_edge_stream_breaks_total").await;
        assert!(
            breaks >= Some(1.0),
            "edge {n}'s stream broke and resumed: {breaks:?}"
        );
    }
}

#[tokio::test]
async fn an_edge_that_stops_reading_delays_nobody_and_catches_up_when_it_reads() {
    // A short queue per edge, so the stopped edge overflows it soon.
    let cluster = Cluster::start(2, &[("CHAT_CORE__EDGE_QUEUE", "64")], &FAST).await;
    let Pair {
        api,
        alice,
        bob,
        channel,
    } = pair(&cluster).await;
    let laptop = api.device(&bob, "laptop").await;
    let (mut sender, _) = Ws::connect(&cluster.edges[0], &alice.token).await;
    let (near, _) = Ws::connect(&cluster.edges[0], &bob.token).await;
    let (far, _) = Ws::connect(&cluster.edges[1], &laptop.token).await;
    // Large messages, more than the HTTP/2 windows hold, so the core's
    // queue for the stopped edge fills.
    const COUNT: usize = 300;
    let text = "x".repeat(95_000);
    let read = |mut ws: Ws, channel: String| {
        tokio::spawn(async move {
            let got = first_messages(&mut ws, &channel, COUNT).await;
            (ws, got)
        })
    };
    cluster.edges[1].signal(Signal::SIGSTOP);
    let near = read(near, channel.clone());
    let mut acked = Vec::new();
    for n in 0..COUNT {
        let key = format!("big{n}");
        acked.push(send_acked(&mut sender, &channel, &key, &text, || {}).await);
    }
    let (_near, got) = near.await.expect("reader");
    assert_eq!(
        got, acked,
        "the running edge delivered everything while the other was stopped"
    );
    cluster.edges[1].signal(Signal::SIGCONT);
    // Read the far device only now: while its edge is stopped it gets
    // nothing, and sending may take longer than a reader waits per frame.
    let far = read(far, channel.clone());
    let (_far, got) = far.await.expect("reader");
    assert_eq!(
        got, acked,
        "the stopped edge caught up: everything once, in order"
    );
    let breaks = cluster.edges[1]
        .metric("chat_edge_stream_breaks_total")
        .await;
    assert!(
        breaks >= Some(1.0),
        "the stopped edge lost its stream and resumed: {breaks:?}"
    );
}

#[tokio::test]
async fn a_killed_edge_s_clients_resume_on_the_other_edge() {
    let mut cluster = Cluster::start(2, &[], &FAST).await;
    let Pair {
        api: _,
        alice,
        bob,
        channel,
    } = pair(&cluster).await;
    let (mut sender, _) = Ws::connect(&cluster.edges[0], &alice.token).await;
    let (mut far, _) = Ws::connect(&cluster.edges[1], &bob.token).await;
    let mut acked = send_many(&mut sender, &channel, "before", 10).await;
    let held = first_messages(&mut far, &channel, 10).await;
    assert_eq!(held, acked);
    cluster.edges.remove(1).kill().await;
    drop(far);
    acked.extend(send_many(&mut sender, &channel, "away", 10).await);
    // Bob comes back on the other edge with his cursor.
    let cursors = cursor_at(&channel, *held.last().expect("some"));
    let (mut back, _) = Ws::resume(&cluster.edges[0], &bob.token, &cursors).await;
    acked.extend(send_many(&mut sender, &channel, "live", 10).await);
    let got = first_messages(&mut back, &channel, 20).await;
    assert_eq!(
        got,
        acked[10..],
        "what he missed, then live: each once, in order"
    );
}

#[tokio::test]
async fn a_killed_core_restarts_and_edges_and_clients_resume() {
    let mut cluster = Cluster::start(2, &[], &FAST).await;
    let Pair {
        api,
        alice,
        bob,
        channel,
    } = pair(&cluster).await;
    let (mut sender, _) = Ws::connect(&cluster.edges[0], &alice.token).await;
    let (mut far, _) = Ws::connect(&cluster.edges[1], &bob.token).await;
    let mut acked = send_many(&mut sender, &channel, "before", 10).await;
    let held = first_messages(&mut far, &channel, 10).await;
    assert_eq!(held, acked);
    cluster.kill_core().await;
    cluster.restart_core().await;
    // The edges reconnect by themselves; the new core cannot resume their
    // streams, so every session is told to reconnect with its cursors.
    for ws in [&mut sender, &mut far] {
        let (closed, _) = ws.closed().await;
        assert_eq!(closed.code, 4009, "{closed:?}");
    }
    let cursors = cursor_at(&channel, *acked.last().expect("some"));
    let (mut sender, _) = Ws::resume(&cluster.edges[0], &alice.token, &cursors).await;
    let (mut far, _) = Ws::resume(&cluster.edges[1], &bob.token, &cursors).await;
    acked.extend(send_many(&mut sender, &channel, "after", 10).await);
    let got = first_messages(&mut far, &channel, 10).await;
    assert_eq!(got, acked[10..], "live again after the restart");
    let history: Vec<u64> = api
        .all_messages(&bob, &channel)
        .await
        .iter()
        .map(|m| id(&m["id"]))
        .collect();
    assert_eq!(history, acked, "every acknowledged message survived, once");
}

#[tokio::test]
async fn an_edge_that_missed_changes_drops_its_whole_metadata_cache() {
    let mut cluster = Cluster::start(2, &[], &FAST).await;
    let Pair {
        api, alice, bob, ..
    } = pair(&cluster).await;
    let far = Api::new(&cluster.edges[1]);
    let profile = format!("/api/v1/users/{}", alice.id);
    // `None` while the edge cannot answer.
    let name_at_far = || async {
        let reply = far.get(&profile, &bob.token).await;
        (reply.status == 200).then(|| reply.body["display_name"].clone())
    };
    assert_eq!(name_at_far().await, Some("".into()));
    assert_eq!(name_at_far().await, Some("".into()), "now cached there");

    // The far edge sleeps through a core restart and a profile change: the
    // event that would drop its entry is gone with the old core.
    cluster.edges[1].signal(Signal::SIGSTOP);
    cluster.kill_core().await;
    cluster.restart_core().await;
    let change = serde_json::json!({"display_name": "Alice A."});
    let deadline = Instant::now() + STEP;
    while api
        .patch("/api/v1/users/me", &alice.token, change.clone())
        .await
        .status
        != 200
    {
        assert!(Instant::now() < deadline, "the near edge answers again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.edges[1].signal(Signal::SIGCONT);

    // Its stream cannot be resumed, so it cannot tell what it missed: it
    // drops everything and reads the change.
    let deadline = Instant::now() + STEP;
    while name_at_far().await != Some("Alice A.".into()) {
        assert!(
            Instant::now() < deadline,
            "the far edge still shows the old profile"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let flushes = cluster.edges[1]
        .metric(r#"chat_edge_cache_flushes_total{kind="user"}"#)
        .await;
    assert!(flushes >= Some(1.0), "{flushes:?}");
}
