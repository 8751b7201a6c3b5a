//! Failover under load: pairs of users chat 1:1 across a cluster's edges
//! while core nodes are SIGKILLed on a schedule and replaced, and the
//! checker (`loadtest::checker`) judges the whole record at the end.
//! Reports the failover time of each channel the killed core owned: from
//! the kill to the first ack of a send in it first tried after the kill;
//! and per kill, that of its slowest channel. The replacement core starts
//! only once every channel is back.
//!
//! Needs a cluster from `scripts/cluster.sh up --cores N` (N ≥ 2): it reads
//! the cores from `cluster.json` before each kill and starts a replacement
//! with `scripts/cluster.sh add-core`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chat_discovery::ownership::owner;
use futures::SinkExt;
use loadtest::checker::{Checker, SendKey};
use serde::Deserialize;
use tokio::sync::watch;

use crate::client::{self, Account, Frame};
use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;

/// Failover options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pairs of users; each pair has a 1:1 channel, its two users on
    /// different edges, one sending.
    #[arg(long, default_value_t = 24)]
    pub pairs: usize,
    /// Cores killed, one after another.
    #[arg(long, default_value_t = 10)]
    pub kills: usize,
    /// Pause before each kill, in ms (longer than the failover, so each
    /// kill is measured on its own).
    #[arg(long, default_value_t = 8_000)]
    pub every_ms: u64,
    /// Pause between one pair's acked send and its next, in ms.
    #[arg(long, default_value_t = 20)]
    pub send_every_ms: u64,
    /// The cluster file, read again before each kill.
    #[arg(long, default_value = "target/cluster/cluster.json")]
    pub cluster_file: PathBuf,
    /// The command that starts a replacement core (run from the current
    /// directory; it updates the cluster file).
    #[arg(long, default_value = "scripts/cluster.sh add-core")]
    pub replace: String,
}

/// The cores part of `cluster.json`.
#[derive(Debug, Deserialize)]
struct ClusterFile {
    cores: Vec<CoreEntry>,
}

#[derive(Debug, Deserialize)]
struct CoreEntry {
    id: u64,
    pid: u32,
}

fn live_cores(path: &PathBuf) -> anyhow::Result<Vec<CoreEntry>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let file: ClusterFile = serde_json::from_str(&text)?;
    let live = file
        .cores
        .into_iter()
        .filter(|c| std::path::Path::new(&format!("/proc/{}", c.pid)).exists())
        .collect();
    Ok(live)
}

/// One acked send: its channel, when first tried, when acked.
#[derive(Debug, Clone, Copy)]
struct Acked {
    channel: u64,
    first_try: Instant,
    at: Instant,
}

/// What every task writes into.
#[derive(Default)]
struct Record {
    checker: Checker,
    acks: Vec<Acked>,
    /// Per channel, the acked ids, for the receivers' target.
    acked: HashMap<u64, Vec<u64>>,
    retries: u64,
}

type Shared = Arc<Mutex<Record>>;

fn lock(record: &Shared) -> std::sync::MutexGuard<'_, Record> {
    record.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    if run.target.addrs.len() < 2 {
        bail!("failover needs a cluster with two edges or more (--cluster)");
    }
    let users = run.users(args.pairs * 2, "fo").await?;
    let mut channels = Vec::with_capacity(args.pairs);
    for pair in users.chunks(2) {
        channels.push(run.rest.direct(&pair[0], &pair[1]).await?);
    }
    let record: Shared = Arc::default();
    let (stop_tx, stop) = watch::channel(false);
    let (done_tx, done) = watch::channel(false);
    // Every receiver is connected before any sender starts, so each sees
    // its channel's messages from the first.
    let mut receivers = Vec::new();
    for (i, pair) in users.chunks(2).enumerate() {
        let (sink, source, beat) =
            client::spawn_connect_via(&run.target, 1, &pair[1].token, &[]).await?;
        receivers.push(tokio::spawn(receive_loop(
            (sink, source, beat),
            pair[1].id,
            channels[i],
            record.clone(),
            done.clone(),
        )));
    }
    let mut connected = Vec::new();
    for pair in users.chunks(2) {
        connected.push(client::spawn_connect_via(&run.target, 0, &pair[0].token, &[]).await?);
    }
    let mut senders = Vec::new();
    for (i, conn) in connected.into_iter().enumerate() {
        senders.push(tokio::spawn(send_loop(
            conn,
            users[i * 2].clone(),
            channels[i],
            format!("p{i}"),
            Duration::from_millis(args.send_every_ms),
            record.clone(),
            stop.clone(),
        )));
    }

    // Per channel of a killed core, and per kill its slowest channel.
    let mut failovers = Latency::default();
    let mut last_channel = Latency::default();
    let mut report = run.report("failover");
    report.param("pairs", args.pairs);
    report.param("kills", args.kills);
    for k in 0..args.kills {
        tokio::time::sleep(Duration::from_millis(args.every_ms)).await;
        let cores = live_cores(&args.cluster_file)?;
        if cores.len() < 2 {
            bail!(
                "fewer than two live cores in {}",
                args.cluster_file.display()
            );
        }
        let ids: Vec<u64> = cores.iter().map(|c| c.id).collect();
        // The core owning the most of this run's channels.
        let mut owned: HashMap<u64, Vec<u64>> = HashMap::new();
        for &c in &channels {
            if let Some(o) = owner(c, &ids) {
                owned.entry(o).or_default().push(c);
            }
        }
        let (victim, theirs) = owned
            .into_iter()
            .max_by_key(|(_, v)| v.len())
            .context("no channel has an owner")?;
        let pid = cores
            .iter()
            .find(|c| c.id == victim)
            .map(|c| c.pid)
            .context("victim pid")?;
        let status = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        let killed = Instant::now();
        anyhow::ensure!(status.success(), "kill -KILL {pid} failed");
        // Each of its channels is back at the first ack of a send tried
        // after the kill; wait (bounded) for all of them.
        let deadline = killed + Duration::from_secs(60);
        let back: Vec<Instant> = loop {
            let acks = lock(&record).acks.clone();
            let back: Option<Vec<Instant>> = theirs
                .iter()
                .map(|c| {
                    acks.iter()
                        .filter(|a| a.channel == *c && a.first_try >= killed)
                        .map(|a| a.at)
                        .min()
                })
                .collect();
            if let Some(back) = back {
                break back;
            }
            if Instant::now() > deadline {
                bail!("kill {k}: the channels of core {victim} did not come back in 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        for at in &back {
            failovers.record(*at - killed);
        }
        let slowest = back.iter().max().map_or(Duration::ZERO, |at| *at - killed);
        last_channel.record(slowest);
        println!(
            "kill {k}: core {victim} (pid {pid}), its {} channels all acked again after {:.0} ms",
            theirs.len(),
            slowest.as_secs_f64() * 1e3
        );
        // Only then the replacement, so it does not take channels over early.
        let replace = tokio::process::Command::new("sh")
            .args(["-c", &args.replace])
            .stdout(std::process::Stdio::null())
            .status()
            .await?;
        anyhow::ensure!(replace.success(), "{} failed", args.replace);
    }
    stop_tx.send_replace(true);
    for s in senders {
        s.await??;
    }
    done_tx.send_replace(true);
    for r in receivers {
        r.await??;
    }
    // The whole history of every channel, for the checker.
    let mut histories = Vec::with_capacity(channels.len());
    for (i, &channel) in channels.iter().enumerate() {
        let reader = &users[i * 2];
        let mut after = 0;
        let mut ids = Vec::new();
        loop {
            let (page, more) = run.rest.history_after(reader, channel, after, 100).await?;
            after = page.last().copied().unwrap_or(after);
            ids.extend(page);
            if !more {
                break;
            }
        }
        histories.push((channel, ids));
    }
    let mut record = lock(&record);
    for (channel, ids) in histories {
        record.checker.final_history(channel, ids);
    }
    let verdict = record.checker.verdict();
    println!("checker: {verdict}");
    report.figure("acked_sends", record.acks.len() as f64);
    report.figure("retried_sends", record.retries as f64);
    report.latency("failover_per_channel", &failovers);
    report.latency("failover_per_kill", &last_channel);
    if !verdict.passed() {
        report.violation(format!("{verdict}"));
    }
    Ok(report)
}

type Conn = (client::Sink, client::Source, Duration);

/// Sends until stopped, each send until acked (the same key again after an
/// error or a silent second), then pauses.
async fn send_loop(
    (mut sink, mut source, every): Conn,
    who: Account,
    channel: u64,
    base: String,
    pause: Duration,
    record: Shared,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut beat = client::heartbeat(every);
    let sender: u64 = who.id;
    for n in 0.. {
        if *stop.borrow() {
            return Ok(());
        }
        let key = SendKey {
            channel,
            sender,
            client_msg_id: format!("{base}-{n}"),
        };
        let first_try = Instant::now();
        loop {
            lock(&record).checker.sent(&key);
            sink.send(client::send_frame(channel, &key.client_msg_id))
                .await?;
            match reply(&mut sink, &mut source, &mut beat, &key.client_msg_id).await? {
                Some(id) => {
                    let mut r = lock(&record);
                    r.checker.acked(&key, id);
                    r.acked.entry(channel).or_default().push(id);
                    r.acks.push(Acked {
                        channel,
                        first_try,
                        at: Instant::now(),
                    });
                    break;
                }
                None => {
                    lock(&record).retries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            if first_try.elapsed() > Duration::from_secs(60) {
                bail!("{key:?} not acked within 60 s");
            }
        }
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// The id of the ack for `key`, or `None` after an error or a silent
/// 2 s (the send is tried again).
async fn reply(
    sink: &mut client::Sink,
    source: &mut client::Source,
    beat: &mut tokio::time::Interval,
    key: &str,
) -> anyhow::Result<Option<u64>> {
    let limit = Duration::from_secs(2);
    loop {
        let wait = client::next_beating(sink, source, beat, limit * 10);
        let Ok(next) = tokio::time::timeout(limit, wait).await else {
            return Ok(None);
        };
        let Some(message) = next? else {
            bail!("the sender's connection closed");
        };
        let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
            continue;
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        if frame.client_msg_id.as_deref() != Some(key) {
            continue;
        }
        match frame.kind.as_ref() {
            "ack" => return Ok(frame.message().map(|m| m.id)),
            "error" => return Ok(None),
            _ => {}
        }
    }
}

/// Records every message of `channel` until `done` and every acked id was
/// seen (or 30 s after `done`).
async fn receive_loop(
    (mut sink, mut source, every): Conn,
    viewer: u64,
    channel: u64,
    record: Shared,
    done: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut beat = client::heartbeat(every);
    let name = viewer.to_string();
    lock(&record).checker.expect_complete(&name, channel);
    let mut seen = std::collections::BTreeSet::new();
    let mut finish: Option<Instant> = None;
    loop {
        if *done.borrow() {
            let until = *finish.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
            let all = lock(&record)
                .acked
                .get(&channel)
                .is_none_or(|ids| ids.iter().all(|id| seen.contains(id)));
            if all || Instant::now() > until {
                return Ok(());
            }
        }
        let limit = Duration::from_millis(500);
        let wait = client::next_beating(&mut sink, &mut source, &mut beat, limit * 10);
        let Ok(next) = tokio::time::timeout(limit, wait).await else {
            continue;
        };
        let Some(message) = next? else {
            bail!("a receiver's connection closed");
        };
        let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
            continue;
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        if frame.kind == "message"
            && let Some(m) = frame.message()
            && m.channel_id == channel
        {
            seen.insert(m.id);
            lock(&record).checker.delivered(&name, &name, channel, m.id);
        }
    }
}
