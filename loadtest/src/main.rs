//! `loadtest`: drives a running chat server over its public protocol (REST
//! sign-up, WebSocket `hello`, frames) exactly as clients do, checks every
//! message it receives, and reports latency, throughput and memory.
//!
//! Every run is bounded in count and time, targets loopback only, and stops
//! by itself.

mod client;
mod cluster;
mod latency;
mod pause;
mod plot;
mod run;
mod scenarios;
mod stats;
mod target;
mod timeline;
mod wt;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use run::Run;
use scenarios::{browse, chat, failover, fanout, history, idle, migrate, reconnect, startup};

/// Load generator for the chat server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The server, a loopback IP:port; for a cluster, its edges separated
    /// by commas (connections are spread over them, REST goes to the first).
    #[arg(long, global = true, default_value = "127.0.0.1:8080")]
    target: String,
    /// A cluster's `target/cluster/cluster.json` (from `scripts/cluster.sh
    /// up`): its edges are the target and all its processes the server.
    #[arg(long, global = true, conflicts_with_all = ["target", "server_pid"])]
    cluster: Option<PathBuf>,
    /// Loopback source addresses to spread connections over (127.0.0.1,
    /// 127.0.0.2, ...); each allows about 28,000 connections.
    #[arg(long, global = true, default_value_t = 1)]
    sources: usize,
    /// The server's process ids (comma-separated for a cluster's
    /// processes), to read their memory and CPU time.
    #[arg(long, global = true, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// What carries the sessions: WebSocket, or WebTransport (HTTP/3 on
    /// the UDP port the server's `/webtransport/cert-hash` names).
    #[arg(long, global = true, value_enum, default_value = "websocket")]
    transport: target::Transport,
    /// Writes the report as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Draws latency (p50, p99, max) and throughput per second as an SVG
    /// picture in this file.
    #[arg(long, global = true, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Gives up after this many seconds, whatever the scenario.
    #[arg(long, global = true, default_value_t = 600)]
    max_seconds: u64,
    /// The scenario.
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Opens and holds authenticated, heartbeating connections.
    Idle(idle::Args),
    /// Users in pairs exchange 1:1 messages at a fixed offered rate.
    Chat(chat::Args),
    /// Groups of members; senders post at a fixed rate; everyone receives.
    Fanout(fanout::Args),
    /// Connected clients drop at once and resume with their cursors.
    Reconnect(reconnect::Args),
    /// Pages through a long channel.
    History(history::Args),
    /// Reads profiles, a member list and searches, one at a time.
    Browse(browse::Args),
    /// Times hello → ready for users with many channels, cold and warm.
    Startup(startup::Args),
    /// Pairs chat 1:1 while cores are killed and replaced; the checker's verdict.
    Failover(failover::Args),
    /// WebTransport receivers change network mid-chat; the time until each
    /// gets the next message.
    Migrate(migrate::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let limit = target::raise_file_limit();
    let (target, pids) = match &cli.cluster {
        Some(path) => cluster::read(path)?,
        None => (cli.target.clone(), cli.server_pid.clone()),
    };
    let run = Run::new(&target, cli.sources, cli.transport, pids, limit)?;
    let scenario = async {
        match cli.scenario {
            Scenario::Idle(args) => idle::run(&run, args).await,
            Scenario::Chat(args) => chat::run(&run, args).await,
            Scenario::Fanout(args) => fanout::run(&run, args).await,
            Scenario::Reconnect(args) => reconnect::run(&run, args).await,
            Scenario::History(args) => history::run(&run, args).await,
            Scenario::Browse(args) => browse::run(&run, args).await,
            Scenario::Startup(args) => startup::run(&run, args).await,
            Scenario::Failover(args) => failover::run(&run, args).await,
            Scenario::Migrate(args) => migrate::run(&run, args).await,
        }
    };
    let report = tokio::time::timeout(Duration::from_secs(cli.max_seconds), scenario)
        .await
        .context("the run exceeded --max-seconds")??;
    report.print();
    if let Some(path) = cli.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, json).with_context(|| format!("write {}", path.display()))?;
    }
    if let Some(path) = cli.plot {
        plot::write(&report, &path)?;
    }
    if !report.violations.is_empty() {
        anyhow::bail!("{} wrong answers; see the report", report.violations.len());
    }
    Ok(())
}
