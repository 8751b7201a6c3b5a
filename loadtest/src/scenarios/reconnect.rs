//! Reconnect storm: connected clients drop at once (the sockets cut, no
//! close handshake) while messages keep coming, then all resume with their
//! cursors at once. Reports the time until all are live again and checks
//! that each got exactly the messages sent meanwhile, once, in order.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::connect::connect_all;
use super::order::OrderCheck;
use crate::client::{self, Frame};
use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;
use crate::target::Target;
use crate::timeline::Timeline;

/// Reconnect-storm options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Clients that drop and resume.
    #[arg(long, default_value_t = 2_000)]
    pub clients: usize,
    /// Clients per group (each group also has one sender who stays).
    #[arg(long, default_value_t = 50)]
    pub group_size: usize,
    /// Messages each sender posts while its group is away, and again
    /// during the storm.
    #[arg(long, default_value_t = 5)]
    pub messages: usize,
    /// Connections being opened at once before the storm (in the storm,
    /// every client reconnects at once).
    #[arg(long, default_value_t = 1_000)]
    pub parallel: usize,
}

/// The text of the last message each sender posts.
const MARKER: &str = "marker";
/// How long a resumed client may wait for its next message.
const STORM_LIMIT: Duration = Duration::from_secs(120);

/// A connected sender: sends and waits for each ack.
struct Sender {
    sink: client::Sink,
    source: client::Source,
    channel: u64,
    heartbeat: Duration,
    sent: u64,
    acked: Vec<u64>,
}

impl Sender {
    async fn send(&mut self, text_marker: bool) -> anyhow::Result<u64> {
        let key = format!("s-{}", self.sent);
        self.sent += 1;
        let frame = if text_marker {
            let f = serde_json::json!({"type": "send", "channel_id": self.channel.to_string(),
                "client_msg_id": key, "text": MARKER});
            Message::text(f.to_string())
        } else {
            client::send_frame(self.channel, &key)
        };
        self.sink.send(frame).await?;
        // Heartbeat while waiting, as a real client's timer would: in a
        // storm the ack may take longer than the server's idle timeout.
        let mut beat = client::heartbeat(self.heartbeat);
        loop {
            let next =
                client::next_beating(&mut self.sink, &mut self.source, &mut beat, STORM_LIMIT)
                    .await?;
            let Some(Message::Text(text)) = next else {
                anyhow::bail!("sender connection ended: {next:?}");
            };
            let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
            match (
                frame.kind.as_ref(),
                frame.client_msg_id.as_deref(),
                frame.message(),
            ) {
                ("ack", Some(k), Some(m)) if k == key => {
                    self.acked.push(m.id);
                    return Ok(m.id);
                }
                ("error", Some(k), _) if k == key => anyhow::bail!("send refused: {text}"),
                _ => {}
            }
        }
    }
}

/// Every sender sends `n` messages, the senders side by side.
async fn all_send(senders: &mut [Sender], n: usize, marker: bool) -> anyhow::Result<()> {
    futures::future::try_join_all(senders.iter_mut().map(|sender| async move {
        for _ in 0..n {
            sender.send(marker).await?;
        }
        anyhow::Ok(())
    }))
    .await?;
    Ok(())
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let group_size = args.group_size.clamp(1, 99);
    let groups = args.clients.div_ceil(group_size).max(1);
    let clients = groups * group_size;
    let mut report = run.report("reconnect");
    report.param("clients", clients);
    report.param("group_size", group_size);
    report.param("messages_while_away_per_group", args.messages);
    report.param("messages_during_storm_per_group", args.messages);
    let accounts = run.users(clients, "r").await?;
    let owners = run.users(groups, "o").await?;
    let mut channels = Vec::with_capacity(groups);
    for (g, members) in accounts.chunks(group_size).enumerate() {
        let ids: Vec<u64> = members.iter().map(|a| a.id).collect();
        channels.push(
            run.rest
                .group(&owners[g], &format!("storm {g}"), &ids)
                .await?,
        );
    }
    // Clients heartbeat and note what they hold until they are cut off.
    let (cut, cut_rx) = watch::channel(false);
    let connects = accounts.iter().enumerate().map(|(i, account)| {
        let (channel, cut) = (channels[i / group_size], cut_rx.clone());
        async move {
            let (sink, source, heartbeat) =
                client::spawn_connect(&run.target, &account.token, &[]).await?;
            anyhow::Ok(tokio::spawn(keep(sink, source, channel, heartbeat, cut)))
        }
    });
    let keepers = run.in_order("connect", args.parallel, connects).await?;
    // Senders connect last, so none sits idle while the clients connect.
    let mut senders = Vec::with_capacity(groups);
    for (g, (sink, source, heartbeat)) in connect_all(run, &owners, args.parallel)
        .await?
        .into_iter()
        .enumerate()
    {
        senders.push(Sender {
            sink,
            source,
            channel: channels[g],
            heartbeat,
            sent: 0,
            acked: Vec::new(),
        });
    }
    all_send(&mut senders, 1, false).await?;
    // Everyone drops at once: the sockets are cut, no close frame. A client
    // resumes from the largest id it held, whatever that was.
    cut.send_replace(true);
    let mut cursors = Vec::with_capacity(clients);
    for keeper in keepers {
        cursors.push(keeper.await??);
    }
    all_send(&mut senders, args.messages, false).await?;

    // The storm: everyone at once, while senders keep posting.
    let cpu = crate::stats::CpuMark::now(&run.server_pids);
    let storm = Instant::now();
    let (storm_done, mut storm_over) = tokio::sync::oneshot::channel::<()>();
    let posting = tokio::spawn(async move {
        for _ in 0..args.messages {
            all_send(&mut senders, 1, false).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Heartbeat until the storm is over, however long it takes.
        loop {
            tokio::select! {
                _ = &mut storm_over => break,
                _ = tokio::time::sleep(Duration::from_secs(5)) => {
                    for sender in &mut senders {
                        sender.sink.send(client::ping_frame()).await?;
                    }
                }
            }
        }
        anyhow::Ok(senders)
    });
    let bar = run.progress(clients, "resume");
    let resumed: Vec<_> = futures::stream::iter(accounts.iter().enumerate())
        .map(|(i, account)| {
            let (target, token) = (run.target.clone(), account.token.clone());
            let (channel, cursor) = (channels[i / group_size], cursors[i]);
            // Each client on its own task: in one task, 20,000 handshakes
            // and catch-ups would share one thread, and clients would sit
            // on a finished upgrade long enough to miss the hello timeout.
            async move {
                tokio::spawn(async move { resume(&target, i, &token, channel, cursor).await })
                    .await?
            }
        })
        .buffer_unordered(clients)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let _ = storm_done.send(());
    let mut senders = posting.await??;
    let all_live = storm.elapsed();
    cpu.report_since(&run.server_pids, "storm", &mut report);
    all_send(&mut senders, 1, true).await?;

    let mut latency = Latency::default();
    let mut timeline = Timeline::default();
    let mut finishing = Vec::with_capacity(clients);
    let mut retries = 0;
    for result in resumed {
        match result {
            Ok((live_at, took, i, failed, task)) => {
                latency.record(took);
                timeline.event(live_at, Some(took));
                retries += failed;
                finishing.push((i, task));
            }
            Err(e) => {
                report.errors += 1;
                report.violation(format!("a client did not resume: {e:#}"));
            }
        }
    }
    report.figure("all_live_seconds", all_live.as_secs_f64());
    report.figure("failed_attempts_retried", f64::from(retries));
    report.latency("resume", &latency);
    report.timeline("resume", "resumes", timeline);
    let bar = run.progress(finishing.len(), "verify");
    let mut checks = Vec::with_capacity(finishing.len());
    for (i, task) in finishing {
        let g = i / group_size;
        let expected: Vec<u64> = senders[g]
            .acked
            .iter()
            .copied()
            .filter(|&id| id > cursors[i])
            .collect();
        checks.push((i, task.await?, expected));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut delivered = 0;
    for (i, got, expected) in checks {
        match got {
            Ok(got) if got == expected => delivered += got.len(),
            Ok(got) => report.violation(format!(
                "client {i}: expected {} messages after its cursor, got {} ({:?} vs {:?})",
                expected.len(),
                got.len(),
                &expected[..expected.len().min(5)],
                &got[..got.len().min(5)]
            )),
            Err(e) => report.violation(format!("client {i}: {e:#}")),
        }
    }
    report.figure("messages_delivered_after_resume", delivered as f64);
    Ok(report)
}

/// Heartbeats and reads until cut off; returns the largest id held.
async fn keep(
    mut sink: client::Sink,
    mut source: client::Source,
    channel: u64,
    heartbeat: Duration,
    mut cut: watch::Receiver<bool>,
) -> anyhow::Result<u64> {
    let mut beat = tokio::time::interval(heartbeat);
    let mut order = OrderCheck::default();
    let mut held = 0;
    loop {
        tokio::select! {
            _ = cut.changed() => return Ok(held),
            _ = beat.tick() => sink.send(client::ping_frame()).await?,
            next = source.next() => {
                let Some(Ok(message)) = next else {
                    anyhow::bail!("connection ended before the cut: {next:?}");
                };
                let Message::Text(text) = message else { continue };
                let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
                if let Some(m) = frame.message().filter(|m| frame.kind == "message" && m.channel_id == channel) {
                    order.see(channel, m.id).map_err(anyhow::Error::msg)?;
                    held = m.id;
                }
            }
        }
    }
}

/// What one resumed client hands on: when it was live and how long that
/// took, how many attempts failed first, and the task still reading.
type Resumed = (
    Instant,
    Duration,
    usize,
    u32,
    JoinHandle<anyhow::Result<Vec<u64>>>,
);

/// Attempts before a client gives up, as a real client's backoff would.
const ATTEMPTS: u32 = 6;

/// Reconnects with a cursor and reads until `synced`, retrying with
/// jittered exponential backoff like a real client; returns how long that
/// took, the failed attempts, and a task that goes on reading (and
/// heartbeating) until the marker message, returning every id received
/// after the cursor.
async fn resume(
    target: &Target,
    i: usize,
    token: &str,
    channel: u64,
    cursor: u64,
) -> anyhow::Result<Resumed> {
    let started = Instant::now();
    let mut failed = 0;
    let (sink, source, heartbeat, ids, marked) = loop {
        match catch_up(target, token, channel, cursor).await {
            Ok(done) => break done,
            Err(e) if failed + 1 >= ATTEMPTS => {
                return Err(e.context(format!("{ATTEMPTS} attempts")));
            }
            Err(_) => {
                // A failed attempt's messages are dropped: the next one
                // resumes from the same cursor and gets them again.
                let jitter = Duration::from_millis((i as u64 * 7_919) % 1_000);
                tokio::time::sleep(Duration::from_millis(500 << failed) + jitter).await;
                failed += 1;
            }
        }
    };
    let took = started.elapsed();
    let rest = tokio::spawn(async move {
        let (mut source, mut sink) = (source, sink);
        let live = if marked {
            Vec::new()
        } else {
            read_until(&mut source, &mut sink, channel, heartbeat).await?
        };
        let _ = sink.close().await;
        Ok([ids, live].concat())
    });
    Ok((started + took, took, i, failed, rest))
}

/// One attempt: connects with the cursor and reads until `synced`.
async fn catch_up(
    target: &Target,
    token: &str,
    channel: u64,
    cursor: u64,
) -> anyhow::Result<(client::Sink, client::Source, Duration, Vec<u64>, bool)> {
    let (mut sink, mut source, heartbeat) =
        client::connect(target, token, &[(channel, cursor)]).await?;
    let mut beat = client::heartbeat(heartbeat);
    let mut ids = Vec::new();
    let mut marked = false;
    loop {
        let next = client::next_beating(&mut sink, &mut source, &mut beat, client::STEP).await?;
        let Some(Message::Text(text)) = next else {
            anyhow::bail!("connection ended during catch-up: {next:?}");
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        match (frame.kind.as_ref(), frame.message()) {
            ("synced", _) => return Ok((sink, source, heartbeat, ids, marked)),
            ("message", Some(m)) if m.channel_id == channel => {
                ids.push(m.id);
                marked |= m.text == MARKER;
            }
            _ => {}
        }
    }
}

/// Reads messages of `channel`, heartbeating, until the marker message;
/// returns their ids.
async fn read_until(
    source: &mut client::Source,
    sink: &mut client::Sink,
    channel: u64,
    heartbeat: Duration,
) -> anyhow::Result<Vec<u64>> {
    let mut ids = Vec::new();
    let mut beat = client::heartbeat(heartbeat);
    loop {
        let next = client::next_beating(sink, source, &mut beat, STORM_LIMIT).await?;
        let Some(message) = next else {
            anyhow::bail!("connection ended before the marker");
        };
        let Message::Text(text) = message else {
            continue;
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        let Some(m) = frame.message().filter(|_| frame.kind == "message") else {
            continue;
        };
        if m.channel_id != channel {
            continue;
        }
        ids.push(m.id);
        if m.text == MARKER {
            return Ok(ids);
        }
    }
}
