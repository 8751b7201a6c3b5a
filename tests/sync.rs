//! Lossless sync: a device that comes back with its cursors gets exactly
//! what it missed, in order, then live messages, with nothing twice.

mod support;

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};
use support::api::str_of;
use support::{Account, Api, Cursors, DataDir, Server, Ws};

const FAST: [(&str, &str); 2] = [
    ("CHAT_EDGE__FRAMES_BURST", "100000"),
    ("CHAT_EDGE__FRAMES_PER_SEC", "100000"),
];

/// A message's channel and id, parsed.
fn position(message: &Value) -> (u64, u64) {
    let id = |v: &Value| str_of(v).parse::<u64>().expect("numeric id");
    (id(&message["channel_id"]), id(&message["id"]))
}

/// Sends `count` messages to each channel, pipelined, and returns the acked
/// positions in send order.
async fn burst(
    server: &Server,
    who: &Account,
    channels: &[u64],
    count: usize,
    tag: &str,
) -> Vec<(u64, u64)> {
    let (mut ws, _) = Ws::connect(server, &who.token).await;
    let acked = send_burst(&mut ws, channels, count, tag).await;
    ws.close().await;
    acked
}

/// [`burst`] on an open connection.
async fn send_burst(ws: &mut Ws, channels: &[u64], count: usize, tag: &str) -> Vec<(u64, u64)> {
    let mut keys = Vec::new();
    for n in 0..count {
        for channel in channels {
            let key = format!("{tag}-{channel}-{n}");
            ws.send_text(&channel.to_string(), &key, &format!("{tag} #{n}"))
                .await;
            keys.push(key);
        }
    }
    let mut acked = Vec::new();
    for key in keys {
        let ack = ws.reply_to(&key).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        acked.push(position(&ack["message"]));
    }
    acked
}

/// Sends `count` messages to `channel` with a window of unacked sends, the
/// way a busy client does, and returns the acked positions in id order.
/// Deliveries of its own messages are read and dropped, not kept.
async fn seed(ws: &mut Ws, channel: u64, count: usize) -> Vec<(u64, u64)> {
    const WINDOW: usize = 256;
    let mut acked = Vec::with_capacity(count);
    let mut sent = 0;
    while acked.len() < count {
        while sent < count && sent - acked.len() < WINDOW {
            ws.send_text(&channel.to_string(), &format!("seed-{sent}"), "backlog")
                .await;
            sent += 1;
        }
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("ack") => acked.push(position(&frame["message"])),
            Some("message") => {}
            _ => panic!("unexpected frame while seeding: {frame}"),
        }
    }
    acked.sort_unstable();
    acked
}

/// Reads until `synced`; returns the messages before it and its count.
async fn catch_up(ws: &mut Ws) -> (Vec<(u64, u64)>, u64) {
    let mut got = Vec::new();
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("message") => got.push(position(&frame["message"])),
            Some("synced") => return (got, frame["messages"].as_u64().expect("count")),
            _ => panic!("unexpected frame during catch-up: {frame}"),
        }
    }
}

/// Checks per-channel order and returns the positions as a set.
fn in_order(got: &[(u64, u64)]) -> HashSet<(u64, u64)> {
    let mut last = BTreeMap::new();
    for &(channel, id) in got {
        let prev = last.insert(channel, id).unwrap_or(0);
        assert!(
            id > prev,
            "channel {channel}: {id} after {prev} (out of order or twice)"
        );
    }
    got.iter().copied().collect()
}

async fn ten_channels(api: &Api, ann: &Account, bob: &Account) -> Vec<u64> {
    let mut channels = vec![api.direct(ann, bob).await];
    for n in 0..9 {
        channels.push(api.group(ann, &format!("room {n}"), &[bob]).await);
    }
    channels
        .iter()
        .map(|c| c.parse().expect("numeric id"))
        .collect()
}

#[tokio::test]
async fn an_offline_device_gets_exactly_what_it_missed() {
    let server = Server::start_with(DataDir::new(), &[], &FAST).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channels = ten_channels(&api, &ann, &bob).await;

    // The device sees one message per channel, then goes offline.
    let (mut device, _) = Ws::connect(&server, &ann.token).await;
    let seen = burst(&server, &ann, &channels, 1, "before").await;
    let mut cursors = Cursors::new();
    for (channel, id) in device.messages(seen.len()).await.iter().map(position) {
        cursors.insert(channel, id);
    }
    device.close().await;

    let missed = burst(&server, &bob, &channels, 100, "offline").await;
    assert_eq!(missed.len(), 1_000);

    let (mut device, _) = Ws::resume(&server, &ann.token, &cursors).await;
    let (got, count) = catch_up(&mut device).await;
    assert_eq!(count, 1_000);
    assert_eq!(got.len(), 1_000);
    assert_eq!(
        in_order(&got),
        missed.iter().copied().collect(),
        "exactly the missed messages"
    );
    let per_channel = |list: &[(u64, u64)], c: u64| {
        list.iter()
            .filter(|p| p.0 == c)
            .copied()
            .collect::<Vec<_>>()
    };
    for &c in &channels {
        assert_eq!(
            per_channel(&got, c),
            per_channel(&missed, c),
            "channel {c} in send order"
        );
    }

    // Then live, with nothing replayed.
    let live = burst(&server, &bob, &channels[..1], 1, "live").await;
    assert_eq!(
        device
            .messages(1)
            .await
            .iter()
            .map(position)
            .collect::<Vec<_>>(),
        live
    );
}

/// A small deterministic generator for cut points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn cutting_the_socket_mid_burst_loses_and_repeats_nothing() {
    const CYCLES: usize = 50;
    const PER_CHANNEL: usize = 20;
    let server = Server::start_with(DataDir::new(), &[], &FAST).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channels: Vec<u64> = ten_channels(&api, &ann, &bob).await[..3].to_vec();
    let seed = 0x9e37_79b9_7f4a_7c15;
    eprintln!("cut points from seed {seed:#x}");
    let mut rng = Rng(seed);

    let mut cursors = Cursors::new();
    for &c in &channels {
        cursors.insert(c, 0);
    }
    let mut received = Vec::new();
    let mut sent = Vec::new();
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    for cycle in 0..CYCLES {
        let tag = format!("c{cycle}");
        // The burst runs beside the device's catch-up, reads and cut.
        let sender = send_burst(&mut bob_ws, &channels, PER_CHANNEL, &tag);
        let device = async {
            let (mut ws, _) = Ws::resume(&server, &ann.token, &cursors).await;
            // Read less than a burst on average, so a backlog builds up and
            // later catch-ups run for several pages while the burst goes on.
            let cut = rng.below((PER_CHANNEL * channels.len()) as u64) as usize;
            let mut got = Vec::new();
            while got.len() < cut {
                let frame = ws.next().await;
                if frame["type"] == "message" {
                    got.push(position(&frame["message"]));
                }
            }
            ws.abort();
            got
        };
        let (acked, got) = tokio::join!(sender, device);
        sent.extend(acked);
        for &(channel, id) in &got {
            cursors.insert(channel, id);
        }
        received.extend(got);
    }
    // The last reconnect collects whatever is left.
    let (mut ws, _) = Ws::resume(&server, &ann.token, &cursors).await;
    let (rest, _) = catch_up(&mut ws).await;
    received.extend(rest);
    assert_eq!(sent.len(), CYCLES * PER_CHANNEL * channels.len());
    assert_eq!(received.len(), sent.len(), "nothing missed, nothing twice");
    assert_eq!(in_order(&received), sent.iter().copied().collect());
}

#[tokio::test]
async fn bad_cursors_are_refused_and_the_rest_syncs() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let cid = api.signup("cid").await;
    let mine: u64 = api.direct(&ann, &bob).await.parse().expect("id");
    let theirs: u64 = api.direct(&bob, &cid).await.parse().expect("id");
    let sent = burst(&server, &bob, &[mine], 3, "m").await;

    let cursors = Cursors::from([(theirs, 0), (mine, 0), (42, 0)]);
    let (mut ws, _) = Ws::resume(&server, &ann.token, &cursors).await;
    let mut errors = Vec::new();
    let mut got = Vec::new();
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("error") => errors.push((str_of(&frame["channel_id"]), str_of(&frame["code"]))),
            Some("message") => got.push(position(&frame["message"])),
            Some("synced") => break,
            _ => panic!("unexpected {frame}"),
        }
    }
    errors.sort();
    let mut expected = vec![
        (theirs.to_string(), "channel_not_found".to_owned()),
        ("42".to_owned(), "channel_not_found".to_owned()),
    ];
    expected.sort();
    assert_eq!(errors, expected);
    assert_eq!(got, sent, "bob's messages to ann still arrive");

    let mut bad = Ws::open(&server).await;
    bad.send_json(json!({"type": "hello", "token": ann.token, "cursors": {"x": "1"}}))
        .await;
    let (closed, frames) = bad.closed().await;
    assert_eq!(frames[0]["code"], "invalid_field", "{frames:?}");
    assert_eq!(closed.code, 4003);
}

#[tokio::test]
async fn a_silent_connection_is_closed_with_4004() {
    let env = [
        ("CHAT_EDGE__HEARTBEAT_INTERVAL_MS", "100"),
        ("CHAT_EDGE__IDLE_TIMEOUT_MS", "300"),
    ];
    let server = Server::start_with(DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let (mut ws, ready) = Ws::connect(&server, &ann.token).await;
    assert_eq!(ready["heartbeat_interval_ms"], 100);
    let (closed, _) = ws.closed().await;
    assert_eq!(closed.code, 4004, "{closed:?}");
    assert_eq!(closed.reason, "no heartbeat in time");
}

#[tokio::test]
async fn a_large_backlog_is_resumed_in_pages() {
    const BACKLOG: usize = 100_000;
    let server = Server::start_with(DataDir::new(), &[], &FAST).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel: u64 = api.direct(&ann, &bob).await.parse().expect("id");

    let started = std::time::Instant::now();
    let (mut ws, _) = Ws::connect(&server, &bob.token).await;
    let sent = seed(&mut ws, channel, BACKLOG).await;
    eprintln!("stored {} messages in {:?}", sent.len(), started.elapsed());

    let started = std::time::Instant::now();
    let (mut device, _) = Ws::resume(&server, &ann.token, &Cursors::from([(channel, 0)])).await;
    let (got, count) = catch_up(&mut device).await;
    eprintln!("caught up on {count} messages in {:?}", started.elapsed());
    assert_eq!(got.len(), BACKLOG);
    in_order(&got);
    assert_eq!(got, sent);
}

#[tokio::test]
async fn edits_and_deletes_made_while_away_reach_the_device_on_resume() {
    let server = Server::start().await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel: u64 = api.direct(&ann, &bob).await.parse().expect("id");
    let (mut phone, _) = Ws::connect(&server, &ann.token).await;
    let sent = send_burst(&mut phone, &[channel], 3, "p").await;
    let cursor = sent.iter().map(|&(_, id)| id).max().expect("sent");
    phone.abort();

    let (mut laptop, _) = Ws::connect(&server, &ann.token).await;
    let (first, second) = (sent[0].1, sent[1].1);
    laptop
        .send_json(json!({"type": "edit", "channel_id": channel.to_string(),
            "message_id": first.to_string(), "text": "edited while the phone slept"}))
        .await;
    let edited = laptop.wait_type("message_edited").await["message"].clone();
    laptop
        .send_json(json!({"type": "delete", "channel_id": channel.to_string(),
            "message_id": second.to_string()}))
        .await;
    laptop.wait_type("message_deleted").await;
    let newer = send_burst(&mut laptop, &[channel], 1, "l").await;

    let (mut phone, _) = Ws::resume(&server, &ann.token, &Cursors::from([(channel, cursor)])).await;
    let mut frames = Vec::new();
    loop {
        let frame = phone.next().await;
        if frame["type"] == "synced" {
            assert_eq!(
                (&frame["messages"], &frame["changes"]),
                (&json!(1), &json!(2))
            );
            break;
        }
        frames.push(frame);
    }
    let kinds: Vec<_> = frames
        .iter()
        .map(|f| f["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["message", "message_edited", "message_deleted"],
        "{frames:?}"
    );
    assert_eq!(position(&frames[0]["message"]), newer[0]);
    assert_eq!(frames[1]["message"], edited);
    let tombstone = &frames[2]["message"];
    assert_eq!(tombstone["id"], second.to_string());
    assert_eq!(
        (&tombstone["deleted"], &tombstone["text"]),
        (&json!(true), &json!(""))
    );
    let (v1, v2) = (
        str_of(&frames[1]["message"]["version_id"]),
        str_of(&tombstone["version_id"]),
    );
    let version = |v: &str| v.parse::<u64>().expect("version");
    assert!(
        version(&v1) > cursor && version(&v2) > version(&v1),
        "versions follow changes"
    );
}
