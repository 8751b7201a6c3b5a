//! A rolling restart of every edge, one at a time, while two senders post
//! and two readers read: each edge is replaced (a new one joins, the old
//! one gets SIGTERM and drains), and the clients follow the `reconnect`
//! frame to another edge with their cursors, as the web client does. The
//! checker judges the whole record, and no client is without a session for
//! longer than [`OFFLINE_BOUND`].

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::support::Cursors;
use super::support::cores::FAST_FRAMES;
use super::support::{Api, STEP, Ws};
use super::*;

/// Longest a client is without a session while its edge drains: from
/// closing the old connection to `ready` at the next edge (a debug build on
/// two CPUs; the catch-up of what it missed follows `ready`).
const OFFLINE_BOUND: Duration = Duration::from_secs(2);
/// Most messages each sender posts per channel, whatever happens.
const MAX_SENDS: usize = 400;

/// A client that follows its edge's `reconnect` frame.
struct Roamer {
    ws: Ws,
    token: String,
    cursors: Cursors,
    /// The longest it was without a session, and how often it moved.
    offline: Duration,
    moves: usize,
}

impl Roamer {
    async fn connect(url: &str, token: &str) -> Self {
        let (ws, _) = Ws::resume_url(url, token, &Cursors::new()).await;
        Self {
            ws,
            token: token.to_owned(),
            cursors: Cursors::new(),
            offline: Duration::ZERO,
            moves: 0,
        }
    }

    /// Leaves for the first edge `reconnect` names, with its cursors.
    async fn follow(&mut self, reconnect: &Value) {
        let to = reconnect["alternatives"][0]
            .as_str()
            .unwrap_or_else(|| panic!("an alternative: {reconnect}"))
            .to_owned();
        let began = Instant::now();
        let (ws, _) = Ws::resume_url(&to, &self.token, &self.cursors).await;
        std::mem::replace(&mut self.ws, ws).close().await;
        self.offline = self.offline.max(began.elapsed());
        self.moves += 1;
    }

    /// Takes one frame: records a message; follows a `reconnect`.
    async fn take(&mut self, seen: &mut Seen) {
        let frame = match self.ws.recv().await {
            Ok(frame) => frame,
            Err(closed) => panic!("a session closed instead of being moved: {closed:?}"),
        };
        if frame["type"] == "reconnect" {
            self.follow(&frame).await;
            return;
        }
        if frame["type"] == "message" {
            let (channel, message) = (
                id(&frame["message"]["channel_id"]),
                id(&frame["message"]["id"]),
            );
            let at = self.cursors.entry(channel).or_default();
            *at = (*at).max(message);
        }
        record(seen, &frame);
    }
}

/// Reads until every message `want` names was seen (bounded).
async fn read_roaming(
    mut roamer: Roamer,
    mut want: watch::Receiver<Option<Vec<(u64, u64)>>>,
) -> (Seen, Roamer) {
    let mut seen = Seen::default();
    let mut deadline: Option<Instant> = None;
    loop {
        if let Some(target) = want.borrow().clone() {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + STEP);
            let got: BTreeSet<(u64, u64)> = seen.frames.iter().copied().collect();
            if target.iter().all(|m| got.contains(m)) || Instant::now() > deadline {
                return (seen, roamer);
            }
        }
        tokio::select! {
            changed = want.changed() => {
                if changed.is_err() {
                    return (seen, roamer);
                }
            }
            () = roamer.take(&mut seen) => {}
        }
    }
}

/// Posts to each of `channels` in turn until `stop` (or [`MAX_SENDS`]
/// each), each send acked before the next; moves when told to, between
/// sends.
async fn send_roaming(
    mut roamer: Roamer,
    sender: u64,
    tag: &str,
    channels: &[String],
    stop: watch::Receiver<bool>,
) -> (Vec<Sent>, Roamer) {
    let mut out = Vec::new();
    for i in 0..MAX_SENDS {
        if *stop.borrow() {
            break;
        }
        for channel in channels {
            let key = SendKey {
                channel: channel.parse().expect("numeric channel id"),
                sender,
                client_msg_id: format!("{tag}-{i}-{channel}"),
            };
            let first_try = Instant::now();
            let ack = roamer
                .ws
                .send_message(channel, &key.client_msg_id, tag)
                .await;
            assert_eq!(ack["type"], "ack", "a draining edge still serves: {ack}");
            out.push(Sent {
                id: id(&ack["message"]["id"]),
                key,
                first_try,
                acked: Instant::now(),
                tries: 1,
            });
            if let Some(told) = roamer.ws.pending_of("reconnect").pop() {
                roamer.follow(&told).await;
            }
        }
    }
    (out, roamer)
}

/// The edges discovery at `edge` lists, once there are `n`.
async fn edges_listed(edge: &support::Server, n: usize) {
    let api = Api::new(edge);
    for _ in 0..100 {
        let reply = api
            .call(reqwest::Method::GET, "/api/v1/discover", None, None)
            .await
            .expect(200);
        if reply["edges"].as_array().is_some_and(|e| e.len() == n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("discovery never listed {n} edges");
}

#[tokio::test]
async fn a_rolling_restart_of_every_edge_under_load_loses_nothing() {
    let Some((mut cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let people = people(&cores).await;
    let made = groups_until(&people, &members, |made| made.len() >= 2).await;
    let channels: Vec<String> = made.into_iter().map(|(c, _)| c).collect();
    let a = &people.accounts;
    let on = |edge: usize| cores.edges[edge].ws_url();
    let (ann, ben) = (
        Roamer::connect(&on(0), &a[0].token).await,
        Roamer::connect(&on(0), &a[1].token).await,
    );
    let (cat, dan) = (
        Roamer::connect(&on(1), &a[2].token).await,
        Roamer::connect(&on(1), &a[3].token).await,
    );
    let (want, wanted) = watch::channel(None);
    let readers = [ben, dan].map(|r| tokio::spawn(read_roaming(r, wanted.clone())));
    let (stop, stopped) = watch::channel(false);
    let (ann_id, cat_id) = (a[0].user_id(), a[2].user_id());
    let senders = [(ann, ann_id, "ann"), (cat, cat_id, "cat")].map(|(r, who, tag)| {
        let (channels, stopped) = (channels.clone(), stopped.clone());
        tokio::spawn(async move { send_roaming(r, who, tag, &channels, stopped).await })
    });

    // Each edge in turn: its replacement joins, then it drains and exits.
    for _ in 0..2 {
        let fresh = cores.add_edge(&FAST_FRAMES).await;
        edges_listed(&cores.edges[0], 3).await;
        let (status, log) = cores.edges.remove(0).terminate().await;
        assert!(status.success(), "{log}");
        assert!(
            log.contains("drained: every session left"),
            "its sessions moved: {log}"
        );
        edges_listed(&cores.edges[fresh - 1], 2).await;
    }
    stop.send_replace(true);

    let mut sent = Vec::new();
    let mut roamers = Vec::new();
    for task in senders {
        let (s, roamer) = task.await.expect("sender");
        sent.extend(s);
        roamers.push(("sender", roamer));
    }
    let target: Vec<(u64, u64)> = sent.iter().map(|s| (s.key.channel, s.id)).collect();
    want.send_replace(Some(target));
    let mut seen = Vec::new();
    for (who, task) in [1, 3].into_iter().zip(readers) {
        let (record, roamer) = task.await.expect("reader");
        seen.push((who, record));
        roamers.push(("reader", roamer));
    }
    for (role, r) in &roamers {
        eprintln!(
            "{role}: moved {} times, offline at most {:?}",
            r.moves, r.offline
        );
        assert!(r.moves >= 1, "every client was on a restarted edge");
        assert!(
            r.offline <= OFFLINE_BOUND,
            "a {role} was without a session for {:?}, past {OFFLINE_BOUND:?}",
            r.offline
        );
    }
    eprintln!("{} sends across the rolling restart", sent.len());
    // The edge that signed them up is gone: histories are read at a new one.
    let people = People {
        api: Api::new(&cores.edges[0]),
        accounts: people.accounts,
    };
    let verdict = judge(&people, &channels, &sent, seen, |_, _| true)
        .await
        .verdict();
    assert!(verdict.passed(), "{verdict}");
}
