//! Looks at (and takes part in) a cluster's ZooKeeper membership:
//! `members` prints the live nodes of a kind, `register` registers a node
//! and reports its state (used by the discovery tests, and handy to see
//! what a cluster's nodes see).

use std::process::ExitCode;
use std::time::Duration;

use chat_discovery::{
    NodeInfo, NodeKind, Registration, RegistrationState, ZkConfig, watch_members,
};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "A cluster's ZooKeeper membership: list nodes, or register one")]
struct Args {
    /// The ensemble, host:port[,host:port…].
    #[arg(
        long,
        env = "CHAT_ZOOKEEPER__CONNECT",
        default_value = "127.0.0.1:2181"
    )]
    connect: String,
    /// The cluster's znode.
    #[arg(long, env = "CHAT_ZOOKEEPER__CHROOT", default_value = "/chat")]
    chroot: String,
    /// The session timeout to ask for, in milliseconds.
    #[arg(
        long,
        env = "CHAT_ZOOKEEPER__SESSION_TIMEOUT_MS",
        default_value_t = 6000
    )]
    session_timeout_ms: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints the live nodes of KIND as one JSON line; with --follow, a
    /// line at every change until interrupted.
    Members {
        /// core or edge.
        kind: NodeKind,
        /// Keep printing changes.
        #[arg(long)]
        follow: bool,
    },
    /// Registers a node of KIND and prints `registered id=… epoch=…`, and
    /// `lost id=… epoch=… reason=…` when the registration is lost, after
    /// which it registers again; until SIGTERM or Ctrl-C.
    Register {
        /// core or edge.
        kind: NodeKind,
        /// The region to publish.
        #[arg(long, default_value = "")]
        region: String,
        /// An address to publish, PURPOSE=HOST:PORT (repeatable).
        #[arg(long = "addr", value_parser = parse_addr)]
        addrs: Vec<(String, String)>,
    },
}

fn parse_addr(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(p, a)| (p.to_owned(), a.to_owned()))
        .ok_or_else(|| format!("{s:?} is not PURPOSE=HOST:PORT"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = ZkConfig {
        connect: args.connect,
        chroot: args.chroot,
        session_timeout_ms: args.session_timeout_ms,
    };
    match run(config, args.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chat-discovery: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: ZkConfig, command: Command) -> Result<(), chat_discovery::Error> {
    config.validate()?;
    match command {
        Command::Members { kind, follow } => {
            let watch = watch_members(&config, kind).await?;
            let mut members = watch.subscribe();
            loop {
                let line =
                    serde_json::to_string(&*members.borrow_and_update()).map_err(|source| {
                        chat_discovery::Error::Json {
                            path: config.nodes_path(kind),
                            source,
                        }
                    })?;
                println!("{line}");
                if !follow {
                    break;
                }
                tokio::select! {
                    changed = members.changed() => if changed.is_err() { break },
                    _ = shutdown() => break,
                }
            }
            watch.shutdown().await;
            Ok(())
        }
        Command::Register {
            kind,
            region,
            addrs,
        } => {
            let mut info = NodeInfo::new(kind, region);
            info.addrs.extend(addrs);
            let mut registration = Registration::register(&config, info.clone()).await?;
            loop {
                println!(
                    "registered id={} epoch={}",
                    registration.id(),
                    registration.epoch()
                );
                tokio::select! {
                    lost = registration.lost() => {
                        if let RegistrationState::Lost { id, epoch, reason } = lost {
                            println!("lost id={id} epoch={epoch} reason={reason:?}");
                        }
                    }
                    _ = shutdown() => {
                        registration.close().await;
                        return Ok(());
                    }
                }
                registration = loop {
                    match Registration::register(&config, info.clone()).await {
                        Ok(r) => break r,
                        Err(err) => {
                            tracing::warn!(%err, "registering again failed; retrying in 1 s");
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                                _ = shutdown() => return Ok(()),
                            }
                        }
                    }
                };
            }
        }
    }
}

/// Resolves at SIGTERM or Ctrl-C.
async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
