//! Reconnect storm: connected clients drop at once (the sockets cut, no
//! close handshake) while messages keep coming, then all resume with their
//! cursors at once. Reports the time until all are live again and checks
//! that each got exactly the messages sent meanwhile, once, in order.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::connect::connect_all;
use super::order::OrderCheck;
use crate::client::{self, Account, Frame};
use crate::run::Run;
use crate::stats::{Latency, Report};

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
    /// Connections being opened at once, before and during the storm.
    #[arg(long, default_value_t = 1_000)]
    pub parallel: usize,
}

/// A connected sender: sends and waits for each ack.
struct Sender {
    sink: client::Sink,
    source: client::Source,
    channel: u64,
    sent: u64,
    acked: Vec<u64>,
}

impl Sender {
    async fn send(&mut self, text_marker: bool) -> anyhow::Result<u64> {
        let key = format!("s-{}", self.sent);
        self.sent += 1;
        let frame = if text_marker {
            let f = serde_json::json!({"type": "send", "channel_id": self.channel.to_string(),
                "client_msg_id": key, "text": "marker"});
            Message::text(f.to_string())
        } else {
            client::send_frame(self.channel, &key)
        };
        self.sink.send(frame).await?;
        loop {
            let next = tokio::time::timeout(client::STEP, self.source.next()).await?;
            let Some(Ok(Message::Text(text))) = next else {
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
    let mut senders = Vec::with_capacity(groups);
    for (g, (sink, source, _)) in connect_all(run, &owners, args.parallel)
        .await?
        .into_iter()
        .enumerate()
    {
        senders.push(Sender {
            sink,
            source,
            channel: channels[g],
            sent: 0,
            acked: Vec::new(),
        });
    }
    let conns = connect_all(run, &accounts, args.parallel).await?;

    // Everyone holds the first message: that is the cursor they resume from.
    let mut firsts = Vec::with_capacity(groups);
    for sender in &mut senders {
        firsts.push(sender.send(false).await?);
    }
    let bar = run.progress(clients, "cursor");
    let cursors: Vec<u64> = futures::stream::iter(conns.into_iter().enumerate())
        .map(|(i, (sink, mut source, _))| {
            let (channel, first) = (channels[i / group_size], firsts[i / group_size]);
            async move {
                let cursor = read_until(&mut source, channel, |id, _| id == first).await;
                // The socket is cut here: no close frame.
                drop((sink, source));
                cursor.map(|ids| ids.last().copied().unwrap_or(0))
            }
        })
        .buffered(args.parallel)
        .inspect(|_| bar.inc(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    bar.finish_and_clear();
    for sender in &mut senders {
        for _ in 0..args.messages {
            sender.send(false).await?;
        }
    }

    // The storm: everyone at once, while senders keep posting.
    let storm = Instant::now();
    let posting = tokio::spawn(async move {
        for _ in 0..args.messages {
            for sender in &mut senders {
                sender.send(false).await?;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::Ok(senders)
    });
    let bar = run.progress(clients, "resume");
    let resumed: Vec<_> = futures::stream::iter(accounts.iter().enumerate())
        .map(|(i, account)| {
            let channel = channels[i / group_size];
            let cursor = cursors[i];
            resume(run, i, account, channel, cursor)
        })
        .buffer_unordered(args.parallel)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut senders = posting.await??;
    let all_live = storm.elapsed();
    for sender in &mut senders {
        sender.send(true).await?;
    }

    let mut latency = Latency::default();
    let mut finishing = Vec::with_capacity(clients);
    for result in resumed {
        match result {
            Ok((took, ws)) => {
                latency.record(took);
                finishing.push(ws);
            }
            Err(e) => {
                report.errors += 1;
                report.violation(format!("a client did not resume: {e:#}"));
            }
        }
    }
    report.figure("all_live_seconds", all_live.as_secs_f64());
    report.latency("resume", &latency);
    let bar = run.progress(finishing.len(), "verify");
    let checks: Vec<_> = futures::stream::iter(finishing)
        .map(|(i, caught_up, mut source, sink)| {
            let g = i / group_size;
            let channel = channels[g];
            let expected: Vec<u64> = senders[g]
                .acked
                .iter()
                .copied()
                .filter(|&id| id > cursors[i])
                .collect();
            let marker = senders[g].acked.last().copied().unwrap_or(0);
            async move {
                let done = caught_up.last() == Some(&marker);
                let live = if done {
                    Ok(Vec::new())
                } else {
                    read_until(&mut source, channel, |id, _| id == marker).await
                };
                drop(sink);
                let got = live.map(|live| [caught_up, live].concat());
                (i, got, expected)
            }
        })
        .buffer_unordered(args.parallel)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
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

/// A resumed client: its index, the ids caught up on, and its connection.
type Resumed = (usize, Vec<u64>, client::Source, client::Sink);

/// Reconnects with a cursor and reads until `synced`; returns how long that
/// took, the ids caught up on, and the open connection.
async fn resume(
    run: &Run,
    i: usize,
    account: &Account,
    channel: u64,
    cursor: u64,
) -> anyhow::Result<(Duration, Resumed)> {
    let started = Instant::now();
    let (sink, mut source, _) =
        client::connect(&run.target, &account.token, &[(channel, cursor)]).await?;
    let mut ids = Vec::new();
    loop {
        let next = tokio::time::timeout(client::STEP, source.next()).await?;
        let Some(Ok(Message::Text(text))) = next else {
            anyhow::bail!("connection ended during catch-up: {next:?}");
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        match (frame.kind.as_ref(), frame.message()) {
            ("synced", _) => break,
            ("message", Some(m)) if m.channel_id == channel => ids.push(m.id),
            _ => {}
        }
    }
    Ok((started.elapsed(), (i, ids, source, sink)))
}

/// Reads messages of `channel` until `stop` says so; returns their ids.
async fn read_until(
    source: &mut client::Source,
    channel: u64,
    stop: impl Fn(u64, &str) -> bool,
) -> anyhow::Result<Vec<u64>> {
    let mut ids = Vec::new();
    let mut order = OrderCheck::default();
    loop {
        let next = tokio::time::timeout(client::STEP, source.next()).await?;
        let Some(Ok(message)) = next else {
            anyhow::bail!("connection ended: {next:?}");
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
        order.see(channel, m.id).map_err(anyhow::Error::msg)?;
        ids.push(m.id);
        if stop(m.id, &m.text) {
            return Ok(ids);
        }
    }
}
