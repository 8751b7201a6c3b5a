//! Many cores, real processes: three `chat-core`s sharing the channels
//! through ZooKeeper, two `chat-edge`s that route each channel's calls to
//! its owner, PostgreSQL. Clients on both edges chat while cores fail, and
//! the checker (`loadtest::checker`) judges the whole record: nothing acked
//! is lost, nothing is stored or delivered twice, every member sees each
//! channel in id order. Skipped, said on stderr, without `TEST_ZOOKEEPER`
//! and `TEST_POSTGRES_URL`.

mod metadata;
mod presence;
mod rolling;
#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chat_discovery::Members;
use chat_discovery::ownership::owner;
use loadtest::checker::{Checker, SendKey, Verdict};
use serde_json::Value;
use support::api::str_of;
use support::cores::{Cores, FAST_FRAMES, SESSION_TIMEOUT_MS, services, three_cores_two_edges};
use support::{Account, Api, STEP, Ws};
use tokio::sync::watch;
use tokio::time::Instant;

/// How long after a core dies its channels take sends again, at most: the
/// session timeout (ZooKeeper notices), then the edges' and cores' views
/// and the client's retry (the stated bound is the timeout + 2 s; debug
/// builds on two CPUs get 2 s more).
const FAILOVER_BOUND: Duration = Duration::from_millis(SESSION_TIMEOUT_MS + 4_000);

fn id(v: &Value) -> u64 {
    str_of(v).parse().expect("numeric id")
}

/// Four users, two on each edge, each with a session.
struct People {
    api: Api,
    accounts: Vec<Account>,
}

async fn people(cores: &Cores) -> People {
    let api = Api::new(&cores.edges[0]);
    let mut accounts = Vec::new();
    for name in ["ann", "ben", "cat", "dan"] {
        accounts.push(api.signup(name).await);
    }
    People { api, accounts }
}

/// Groups of all four until `enough` holds for the channels made so far
/// (at most 30); each channel with its owner among `members`.
async fn groups_until(
    people: &People,
    members: &Members,
    enough: impl Fn(&[(String, u64)]) -> bool,
) -> Vec<(String, u64)> {
    let a = &people.accounts;
    let mut made = Vec::new();
    for n in 0..30 {
        let channel = people
            .api
            .group(&a[0], &format!("g{n}"), &[&a[1], &a[2], &a[3]])
            .await;
        let key: u64 = channel.parse().expect("numeric channel id");
        made.push((channel, owner(key, &members.ids()).expect("an owner")));
        if enough(&made) {
            return made;
        }
    }
    panic!("30 groups and still not: {made:?}");
}

/// `n` groups of one owner: that owner's node id and the channels.
async fn channels_of_one_owner(people: &People, members: &Members, n: usize) -> (u64, Vec<String>) {
    let made = groups_until(people, members, |made| {
        let first = made[0].1;
        made.iter().filter(|(_, o)| *o == first).count() >= n
    })
    .await;
    let owner = made[0].1;
    let channels = made
        .into_iter()
        .filter(|(_, o)| *o == owner)
        .map(|(c, _)| c)
        .take(n)
        .collect();
    (owner, channels)
}

/// One session's record: the message frames it got, per channel.
#[derive(Default)]
struct Seen {
    frames: Vec<(u64, u64)>,
    resyncs: BTreeSet<u64>,
}

/// Reads `ws` until every id `want` names (per channel) was seen, or the
/// step bound after `want` was set passes; returns what it saw.
async fn receive(mut ws: Ws, mut want: watch::Receiver<Option<Vec<(u64, u64)>>>) -> Seen {
    let mut seen = Seen::default();
    let mut deadline: Option<Instant> = None;
    loop {
        if let Some(target) = want.borrow().clone() {
            deadline.get_or_insert_with(|| Instant::now() + STEP);
            let got: BTreeSet<(u64, u64)> = seen.frames.iter().copied().collect();
            if target.iter().all(|m| got.contains(m)) {
                return seen;
            }
        }
        let wait = deadline.map_or(STEP * 4, |d| d.saturating_duration_since(Instant::now()));
        tokio::select! {
            changed = want.changed() => {
                if changed.is_err() {
                    return seen;
                }
            }
            frame = tokio::time::timeout(wait, ws.recv()) => match frame {
                Ok(Ok(frame)) => record(&mut seen, &frame),
                Ok(Err(closed)) => panic!("a session closed: {closed:?}"),
                Err(_) => return seen,
            },
        }
    }
}

fn record(seen: &mut Seen, frame: &Value) {
    match frame["type"].as_str() {
        Some("message") => seen.frames.push((
            id(&frame["message"]["channel_id"]),
            id(&frame["message"]["id"]),
        )),
        Some("resync") => {
            seen.resyncs.insert(id(&frame["channel_id"]));
        }
        _ => {}
    }
}

/// What a sender did: per send, its key, its id, when it was first sent
/// and when it was acked.
struct Sent {
    key: SendKey,
    id: u64,
    first_try: Instant,
    acked: Instant,
    tries: u32,
}

/// Sends `n` messages to each of `channels` in turn from `ws`, each until
/// acked (resending the same key after an error), calling `at(i)` before
/// the `i`th; the other frames it read stay in `ws`.
async fn send_burst(
    ws: &mut Ws,
    sender: u64,
    tag: &str,
    channels: &[String],
    n: usize,
    mut at: impl FnMut(usize),
) -> Vec<Sent> {
    let mut out = Vec::new();
    for i in 0..n {
        for channel in channels {
            at(out.len());
            let key = SendKey {
                channel: channel.parse().expect("numeric channel id"),
                sender,
                client_msg_id: format!("{tag}-{i}-{channel}"),
            };
            let (first_try, mut tries) = (Instant::now(), 0);
            let deadline = first_try + STEP + FAILOVER_BOUND;
            loop {
                tries += 1;
                let reply = ws.send_message(channel, &key.client_msg_id, tag).await;
                if reply["type"] == "ack" {
                    out.push(Sent {
                        id: id(&reply["message"]["id"]),
                        key,
                        first_try,
                        acked: Instant::now(),
                        tries,
                    });
                    break;
                }
                let code = reply["code"].as_str().unwrap_or_default();
                assert!(
                    ["unavailable", "not_owner", "timeout", "overloaded"].contains(&code),
                    "only a failing core refuses: {reply}"
                );
                assert!(Instant::now() < deadline, "{key:?} acked in time");
                // A client's retry backoff.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    out
}

/// The history of `channel` as `who` reads it, in order.
async fn history_ids(api: &Api, who: &Account, channel: &str) -> Vec<u64> {
    api.all_messages(who, channel)
        .await
        .iter()
        .map(|m| id(&m["id"]))
        .collect()
}

/// The receivers, ben (edge 0) and dan (edge 1), each reading in a task
/// of its own until told what to expect.
struct Readers {
    want: watch::Sender<Option<Vec<(u64, u64)>>>,
    tasks: Vec<tokio::task::JoinHandle<(usize, Seen)>>,
}

impl Readers {
    fn start(ben: Ws, dan: Ws) -> Self {
        let (want, rx) = watch::channel(None);
        let tasks = [(1, ben), (3, dan)]
            .into_iter()
            .map(|(who, ws)| {
                let rx = rx.clone();
                tokio::spawn(async move { (who, receive(ws, rx).await) })
            })
            .collect();
        Self { want, tasks }
    }

    /// Tells them what was acked, waits until they saw it (bounded), and
    /// judges the whole run, every reader a member of every channel.
    async fn judge(self, people: &People, channels: &[String], sent: &[Sent]) -> Verdict {
        self.judge_where(people, channels, sent, |_, _| true).await
    }

    /// [`Readers::judge`], where user `who` is in `channel` if `member` says so.
    async fn judge_where(
        self,
        people: &People,
        channels: &[String],
        sent: &[Sent],
        member: impl Fn(usize, &str) -> bool,
    ) -> Verdict {
        let target: Vec<(u64, u64)> = sent.iter().map(|s| (s.key.channel, s.id)).collect();
        self.want.send_replace(Some(target));
        let mut seen = Vec::new();
        for task in self.tasks {
            seen.push(task.await.expect("reader"));
        }
        judge(people, channels, sent, seen, member).await.verdict()
    }
}

/// Everything a run recorded, judged.
async fn judge(
    people: &People,
    channels: &[String],
    sent: &[Sent],
    seen: Vec<(usize, Seen)>,
    member: impl Fn(usize, &str) -> bool,
) -> Checker {
    let mut checker = Checker::new();
    for s in sent {
        checker.sent(&s.key);
        checker.acked(&s.key, s.id);
    }
    for (who, record) in seen {
        let name = people.accounts[who].id.clone();
        for (channel, message) in &record.frames {
            checker.delivered(&name, &name, *channel, *message);
        }
        for channel in &record.resyncs {
            let ids = history_ids(&people.api, &people.accounts[who], &channel.to_string()).await;
            checker.read_history(&name, *channel, &ids);
        }
        for channel in channels.iter().filter(|c| member(who, c)) {
            checker.expect_complete(&name, channel.parse().expect("numeric channel id"));
        }
    }
    for channel in channels {
        let reader = (0..people.accounts.len())
            .find(|who| member(*who, channel))
            .expect("a member reads the history");
        let ids = history_ids(&people.api, &people.accounts[reader], channel).await;
        checker.final_history(channel.parse().expect("numeric channel id"), ids);
    }
    checker
}

/// Sessions: senders ann (edge 0) and cat (edge 1), receivers ben (edge 0)
/// and dan (edge 1).
async fn sessions(cores: &Cores, people: &People) -> (Ws, Ws, Ws, Ws) {
    let a = &people.accounts;
    let (ann, _) = Ws::connect(&cores.edges[0], &a[0].token).await;
    let (ben, _) = Ws::connect(&cores.edges[0], &a[1].token).await;
    let (cat, _) = Ws::connect(&cores.edges[1], &a[2].token).await;
    let (dan, _) = Ws::connect(&cores.edges[1], &a[3].token).await;
    (ann, ben, cat, dan)
}

#[tokio::test]
async fn one_to_one_and_group_chat_over_channels_of_different_owners() {
    let Some((cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let people = people(&cores).await;
    let made = groups_until(&people, &members, |made| {
        made.iter().map(|(_, o)| *o).collect::<BTreeSet<_>>().len() >= 2 && made.len() >= 3
    })
    .await;
    let channels: Vec<String> = made.iter().map(|(c, _)| c.clone()).collect();
    let (mut ann, ben, mut cat, dan) = sessions(&cores, &people).await;
    let readers = Readers::start(ben, dan);
    let (ann_id, cat_id) = (people.accounts[0].user_id(), people.accounts[2].user_id());
    let (a, c) = tokio::join!(
        send_burst(&mut ann, ann_id, "ann", &channels, 5, |_| {}),
        send_burst(&mut cat, cat_id, "cat", &channels, 5, |_| {}),
    );
    let sent: Vec<Sent> = a.into_iter().chain(c).collect();
    assert!(
        sent.iter().all(|s| s.tries == 1),
        "no core failed: every send acked at once"
    );
    let verdict = readers.judge(&people, &channels, &sent).await;
    assert!(verdict.passed(), "{verdict}");
}

#[tokio::test]
async fn killing_the_owner_of_busy_channels_mid_burst_loses_nothing() {
    let Some((mut cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let people = people(&cores).await;
    // Two groups of one owner: the core that is killed.
    let (victim_id, channels) = channels_of_one_owner(&people, &members, 2).await;
    let victim = cores.index_of(&members, victim_id);
    let (mut ann, ben, mut cat, dan) = sessions(&cores, &people).await;
    let readers = Readers::start(ben, dan);
    let (ann_id, cat_id) = (people.accounts[0].user_id(), people.accounts[2].user_id());
    let (kill_tx, mut kill_rx) = watch::channel(false);
    // Ann's 20th send is the signal; the kill happens beside both bursts.
    let killer = async {
        kill_rx.wait_for(|k| *k).await.expect("kill signal");
        let at = Instant::now();
        cores.kill(victim).await;
        at
    };
    let (killed_at, a, c) = tokio::join!(
        killer,
        send_burst(&mut ann, ann_id, "ann", &channels, 30, |i| {
            if i == 20 {
                kill_tx.send_replace(true);
            }
        }),
        send_burst(&mut cat, cat_id, "cat", &channels, 30, |_| {}),
    );
    let sent: Vec<Sent> = a.into_iter().chain(c).collect();
    // Kill to the first send, started after the kill, that was acked.
    let back = sent
        .iter()
        .filter(|s| s.first_try >= killed_at)
        .map(|s| s.acked)
        .min()
        .expect("sends after the kill");
    let failover = back - killed_at;
    eprintln!("failover: sends acked again {failover:?} after the kill");
    assert!(
        failover <= FAILOVER_BOUND,
        "sends came back after {failover:?}, past the bound of {FAILOVER_BOUND:?}"
    );
    let verdict = readers.judge(&people, &channels, &sent).await;
    assert!(verdict.passed(), "{verdict}");
    let retried = sent.iter().filter(|s| s.tries > 1).count();
    eprintln!(
        "{} sends, {retried} retried across the failover",
        sent.len()
    );
}

/// The Snowflake node slot that issued `id` (`chat_core::ids`).
fn slot(id: u64) -> u16 {
    chat_core::ids::parts(id).node
}

#[tokio::test]
async fn a_paused_owner_commits_nothing_once_its_channels_moved() {
    let Some((cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let people = people(&cores).await;
    // Three groups of one owner: the core that is paused.
    let (victim_id, channels) = channels_of_one_owner(&people, &members, 3).await;
    let victim = cores.index_of(&members, victim_id);
    let (mut ann, ben, mut cat, dan) = sessions(&cores, &people).await;
    let readers = Readers::start(ben, dan);
    let (ann_id, cat_id) = (people.accounts[0].user_id(), people.accounts[2].user_id());
    let (step_tx, mut step) = watch::channel(0usize);
    let pauser = async {
        step.wait_for(|n| *n >= 15).await.expect("pause signal");
        cores.nodes[victim].signal(nix::sys::signal::Signal::SIGSTOP);
        let stopped = Instant::now();
        cores
            .members_until("the paused owner's session to expire", |m| {
                m.get(victim_id).is_none()
            })
            .await;
        // Sends acked at the new owner, then the old one wakes up.
        step.wait_for(|n| *n >= 30).await.expect("resume signal");
        cores.nodes[victim].signal(nix::sys::signal::Signal::SIGCONT);
        stopped
    };
    let (stopped, a, c) = tokio::join!(
        pauser,
        send_burst(&mut ann, ann_id, "ann", &channels, 40, |i| {
            step_tx.send_replace(i);
        }),
        send_burst(&mut cat, cat_id, "cat", &channels, 40, |_| {}),
    );
    let sent: Vec<Sent> = a.into_iter().chain(c).collect();
    let verdict = readers.judge(&people, &channels, &sent).await;
    assert!(verdict.passed(), "{verdict}");
    // Ids carry the slot of the core that issued them: after the first
    // message of another core, none of the paused one's, in every channel
    // it did not win back when it registered again (with a new id).
    let now = cores
        .members_until("three cores again", |m| m.len() == 3)
        .await;
    let back_id = now
        .nodes
        .iter()
        .find(|m| members.get(m.id).is_none())
        .map(|m| m.id)
        .expect("the resumed core registered again");
    let mut checked = 0;
    for channel in &channels {
        let key: u64 = channel.parse().expect("numeric channel id");
        if owner(key, &now.ids()) == Some(back_id) {
            continue;
        }
        checked += 1;
        let history = history_ids(&people.api, &people.accounts[0], channel).await;
        let old = slot(history[0]);
        let moved = history
            .iter()
            .position(|&id| slot(id) != old)
            .expect("the new owner wrote");
        assert!(
            history[moved..].iter().all(|&id| slot(id) != old),
            "the paused owner committed after the move: {history:?}"
        );
    }
    eprintln!(
        "{checked} of {} channels checked for late commits",
        channels.len()
    );
    let after = sent.iter().filter(|s| s.first_try >= stopped).count();
    assert!(after > 0, "sends went on while it was paused");
}

/// Runs `scripts/zookeeper.sh` with `args`; its stdout.
fn zookeeper_sh(args: &[&str]) -> String {
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/zookeeper.sh"))
        .args(args)
        .output()
        .expect("run scripts/zookeeper.sh");
    assert!(
        out.status.success(),
        "zookeeper.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A ZooKeeper server of this test's own (the shared one must not
/// restart under the other tests), stopped when dropped.
struct OwnZookeeper {
    dir: tempfile::TempDir,
    connect: String,
}

impl OwnZookeeper {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_str().expect("utf-8 path").to_owned();
        let connect = zookeeper_sh(&["start", &path]);
        Self { dir, connect }
    }

    /// Restarts it (stop, start on the same port and data), off the
    /// runtime's thread.
    async fn restart(&self) {
        let path = self.dir.path().to_str().expect("utf-8 path").to_owned();
        let back = tokio::task::spawn_blocking(move || zookeeper_sh(&["restart", &path]))
            .await
            .expect("restart task");
        assert_eq!(back, self.connect, "same port");
    }
}

impl Drop for OwnZookeeper {
    fn drop(&mut self) {
        if let Some(path) = self.dir.path().to_str() {
            let _ = std::process::Command::new("bash")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/zookeeper.sh"))
                .args(["stop", path])
                .output();
        }
    }
}

#[tokio::test]
async fn chat_resumes_after_zookeeper_restarts_under_load() {
    if services().is_none() {
        return;
    }
    let zk = OwnZookeeper::start();
    let mut cores = Cores::start(&zk.connect, 3).await;
    let members = cores.members_until("three cores", |m| m.len() == 3).await;
    cores.add_edge(&FAST_FRAMES).await;
    cores.add_edge(&FAST_FRAMES).await;
    let people = people(&cores).await;
    let made = groups_until(&people, &members, |made| made.len() >= 3).await;
    let channels: Vec<String> = made.iter().map(|(c, _)| c.clone()).collect();
    let (mut ann, ben, mut cat, dan) = sessions(&cores, &people).await;
    let readers = Readers::start(ben, dan);
    let (ann_id, cat_id) = (people.accounts[0].user_id(), people.accounts[2].user_id());
    let (step_tx, mut step) = watch::channel(0usize);
    let restarter = async {
        step.wait_for(|n| *n >= 15).await.expect("restart signal");
        zk.restart().await;
    };
    let (_, a, c) = tokio::join!(
        restarter,
        send_burst(&mut ann, ann_id, "ann", &channels, 15, |i| {
            step_tx.send_replace(i);
        }),
        send_burst(&mut cat, cat_id, "cat", &channels, 15, |_| {}),
    );
    let sent: Vec<Sent> = a.into_iter().chain(c).collect();
    let verdict = readers.judge(&people, &channels, &sent).await;
    assert!(verdict.passed(), "{verdict}");
    // Every core is registered again (the same sessions, or new ones).
    cores
        .members_until("three cores after the restart", |m| m.len() == 3)
        .await;
}

#[tokio::test]
async fn a_core_added_and_one_removed_move_only_their_share() {
    let Some((mut cores, members)) = three_cores_two_edges().await else {
        return;
    };
    let people = people(&cores).await;
    let made = groups_until(&people, &members, |made| made.len() >= 6).await;
    let channels: Vec<String> = made.iter().map(|(c, _)| c.clone()).collect();
    let keys: Vec<u64> = channels.iter().map(|c| c.parse().expect("id")).collect();
    let (mut ann, ben, mut cat, dan) = sessions(&cores, &people).await;
    let readers = Readers::start(ben, dan);
    let (ann_id, cat_id) = (people.accounts[0].user_id(), people.accounts[2].user_id());
    let (step_tx, mut step) = watch::channel(0usize);
    let changer = async {
        step.wait_for(|n| *n >= 12).await.expect("add signal");
        cores.add().await;
        let four = cores.members_until("a fourth core", |m| m.len() == 4).await;
        step.wait_for(|n| *n >= 30).await.expect("remove signal");
        // Remove one of the first three (SIGTERM: it hands over first).
        let leaving = members.nodes[0].id;
        let at = cores.index_of(&four, leaving);
        cores.terminate(at).await;
        let three = cores
            .members_until("the removed core gone", |m| {
                m.len() == 3 && m.get(leaving).is_none()
            })
            .await;
        (four, three)
    };
    let ((four, three), a, c) = tokio::join!(
        changer,
        send_burst(&mut ann, ann_id, "ann", &channels, 16, |i| {
            step_tx.send_replace(i);
        }),
        send_burst(&mut cat, cat_id, "cat", &channels, 16, |_| {}),
    );
    let sent: Vec<Sent> = a.into_iter().chain(c).collect();
    let verdict = readers.judge(&people, &channels, &sent).await;
    assert!(verdict.passed(), "{verdict}");

    // Rendezvous moves only what it must: adding a core moves channels to
    // it alone; removing one moves only the channels it owned.
    let before = |k| owner(k, &members.ids());
    let added: Vec<u64> = four
        .ids()
        .into_iter()
        .filter(|id| members.get(*id).is_none())
        .collect();
    for &k in &keys {
        let (b, f, t) = (before(k), owner(k, &four.ids()), owner(k, &three.ids()));
        assert!(
            f == b || f == added.first().copied(),
            "moved elsewhere than the new core"
        );
        let removed = members.nodes[0].id;
        assert!(
            t == f || f == Some(removed),
            "moved though its owner stayed"
        );
    }
    // And the cores agree: each channel is answered by its owner alone.
    let token = &people.accounts[0].token;
    for &k in &keys {
        let expected = owner(k, &three.ids()).expect("an owner");
        for member in &three.nodes {
            let mut client = cores.nodes[cores.index_of(&three, member.id)]
                .client()
                .await;
            let mut request = tonic::Request::new(chat_proto::v1::HistoryRequest {
                actor_id: ann_id,
                channel_id: k,
                limit: 1,
                anchor: None,
            });
            let bearer = format!("Bearer {token}").parse().expect("ascii");
            request
                .metadata_mut()
                .insert(chat_proto::AUTHORIZATION_KEY, bearer);
            let answer = client.history(request).await;
            assert_eq!(
                answer.is_ok(),
                member.id == expected,
                "channel {k} at core {}: {answer:?}",
                member.id
            );
        }
    }
}
