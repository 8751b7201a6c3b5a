//! Idle connections: open N authenticated connections that heartbeat and
//! otherwise wait, hold them, and report the server's memory per connection.
//! With `--watch-group`, the users are in groups of that size and each
//! connection watches its group's presence first, so the memory includes
//! one presence watch per connection (which, in a cluster, every core holds).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::client;
use crate::latency::Latency;
use crate::run::Run;
use crate::stats::Report;
use crate::timeline::Timeline;

/// Idle-connection options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Distinct users (connections are spread over them); default one each.
    #[arg(long)]
    pub users: Option<usize>,
    /// Seconds to hold the connections once all are open.
    #[arg(long, default_value_t = 30)]
    pub hold_seconds: u64,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 200)]
    pub parallel: usize,
    /// Put the users in groups of this many, and have each connection watch
    /// its group's presence (waiting for the list) before it idles.
    #[arg(long)]
    pub watch_group: Option<usize>,
}

/// Runs the scenario.
pub async fn run(run: &Run, args: Args) -> anyhow::Result<Report> {
    let mut report = run.report("idle");
    report.param("connections", args.connections);
    report.param("hold_seconds", args.hold_seconds);
    let users = args
        .users
        .unwrap_or(args.connections)
        .clamp(1, args.connections);
    report.param("users", users);
    let accounts = run.users(users, "i").await?;
    // The channel each user's connections watch, if any.
    let watched: Vec<Option<u64>> = match args.watch_group {
        Some(size) => {
            let size = size.max(1);
            report.param("watch_group", size);
            let creates = accounts.chunks(size).enumerate().map(|(g, group)| {
                let ids: Vec<u64> = group[1..].iter().map(|a| a.id).collect();
                let name = format!("idle group {g}");
                async move { run.rest.group(&group[0], &name, &ids).await }
            });
            let channels = run.in_order("groups", 8, creates).await?;
            (0..users).map(|i| Some(channels[i / size])).collect()
        }
        None => vec![None; users],
    };

    let (stop_tx, stop) = watch::channel(false);
    let dropped = Arc::new(AtomicU64::new(0));
    // A first few connections warm the server up (runtime, caches, buffer
    // pools); memory per connection is measured over the rest.
    let warm = (args.connections / 100).clamp(1, 500);
    let mut holders = Vec::new();
    for (i, account) in accounts.iter().enumerate().cycle().take(warm) {
        let (mut sink, mut source, heartbeat) =
            client::spawn_connect(&run.target, &account.token, &[]).await?;
        if let Some(channel) = watched[i] {
            watch_presence(&mut sink, &mut source, channel).await?;
        }
        holders.push(tokio::spawn(hold(
            sink,
            source,
            heartbeat,
            stop.clone(),
            dropped.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = run.server_rss();
    let before_each = run.rss_each();
    let bar = run.progress(args.connections - warm, "connect");
    let started = Instant::now();
    // Each connection heartbeats from the moment it is open: opening the
    // rest may take longer than the server's idle timeout.
    let results: Vec<_> = futures::stream::iter(warm..args.connections)
        .map(|i| {
            let token = accounts[i % accounts.len()].token.clone();
            let channel = watched[i % accounts.len()];
            let (stop, dropped) = (stop.clone(), dropped.clone());
            async move {
                let began = Instant::now();
                let (mut sink, mut source, heartbeat) =
                    client::spawn_connect(&run.target, &token, &[]).await?;
                if let Some(channel) = channel {
                    watch_presence(&mut sink, &mut source, channel).await?;
                }
                let took = began.elapsed();
                let holder = tokio::spawn(hold(sink, source, heartbeat, stop, dropped));
                anyhow::Ok((holder, began, took))
            }
        })
        .buffer_unordered(args.parallel)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    let connect_time = started.elapsed();
    bar.finish_and_clear();

    let mut latency = Latency::default();
    let mut timeline = Timeline::default();
    for result in results {
        match result {
            Ok((holder, began, took)) => {
                latency.record(took);
                timeline.event(began + took, Some(took));
                holders.push(holder);
            }
            Err(e) => {
                report.errors += 1;
                if report.errors <= 5 {
                    eprintln!("connect failed: {e:#}");
                }
            }
        }
    }
    let open = holders.len();
    let measured = open.saturating_sub(warm);
    report.figure("connections_open", open as f64);
    report.figure(
        "connects_per_sec",
        measured as f64 / connect_time.as_secs_f64(),
    );
    report.latency("connect", &latency);
    report.timeline("connect", "connects", timeline);

    // Let the server settle (allocator, queues) before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let (Some(before), Some(after)) = (before, run.server_rss()) {
        report.figure("server_rss_before_mib", before as f64 / 1048576.0);
        report.figure("server_rss_after_mib", after as f64 / 1048576.0);
        let per = after.saturating_sub(before) as f64 / measured.max(1) as f64;
        report.figure("server_bytes_per_connection", per);
    }
    // A cluster's processes one by one: how the memory splits between the
    // edges that hold the connections and the core.
    if let (Some(before), Some(after)) = (before_each, run.rss_each())
        && run.server_pids.len() > 1
    {
        for ((pid, b), a) in run.server_pids.iter().zip(before).zip(after) {
            let delta = a as f64 - b as f64;
            report.figure(
                &format!("server_rss_growth_mib_pid_{pid}"),
                delta / 1048576.0,
            );
        }
    }
    let cpu = crate::stats::CpuMark::now(&run.server_pids);
    let hold_bar = run.progress(args.hold_seconds as usize, "hold (s)");
    for _ in 0..args.hold_seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        hold_bar.inc(1);
    }
    hold_bar.finish_and_clear();
    cpu.report_since(&run.server_pids, "hold", &mut report);
    if let Some(after) = run.server_rss() {
        report.figure("server_rss_end_of_hold_mib", after as f64 / 1048576.0);
    }
    let _ = stop_tx.send(true);
    for holder in holders {
        let _ = holder.await;
    }
    let lost = dropped.load(Ordering::Relaxed);
    report.figure("connections_lost_while_held", lost as f64);
    if lost > 0 {
        report.violation(format!("{lost} connections closed while held"));
    }
    Ok(report)
}

/// Watches `channel`'s presence and waits for the list.
async fn watch_presence(
    sink: &mut client::Sink,
    source: &mut client::Source,
    channel: u64,
) -> anyhow::Result<()> {
    let frame = serde_json::json!({"type": "watch_presence", "channel_id": channel.to_string()});
    sink.send(Message::text(frame.to_string())).await?;
    let mut beat = client::heartbeat(client::STEP);
    loop {
        let next = client::next_beating(sink, source, &mut beat, client::STEP).await?;
        let Some(message) = next else {
            anyhow::bail!("closed before the presence list");
        };
        if let Message::Text(text) = message {
            let frame: serde_json::Value = serde_json::from_str(text.as_str())?;
            match frame["type"].as_str() {
                Some("presence_list") => return Ok(()),
                Some("error") => anyhow::bail!("watch refused: {text}"),
                _ => {}
            }
        }
    }
}

/// Heartbeats until told to stop; counts the connection if it ends first.
async fn hold(
    mut sink: client::Sink,
    mut source: client::Source,
    heartbeat: Duration,
    mut stop: watch::Receiver<bool>,
    dropped: Arc<AtomicU64>,
) {
    let mut beat = tokio::time::interval(heartbeat);
    beat.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = beat.tick() => {
                if sink.send(client::ping_frame()).await.is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            frame = source.next() => match frame {
                Some(Ok(_)) => {}
                _ => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            },
        }
    }
    let _ = sink.close().await;
}
