//! A delaying TCP proxy on loopback: the far-region benchmark's stand-in for
//! `tc netem` on a kernel without it (`scripts/far_region.sh`).
//!
//! Every chunk read from one side is written to the other `--one-way-ms`
//! after it was read, in order and pipelined: a latency, as a long link
//! adds, not a throughput cap (tokio-netem's `DelayedWriter` delays each
//! write in turn, which caps a stream at one write per delay). Unlike
//! netem it sits above TCP, so the proxied connections' own TCP (windows,
//! slow start, losses) sees loopback; what it models is the delay.
//!
//! `delay-proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:PORT --one-way-ms 80`
//! prints `listening on ADDR` once it accepts, and runs until SIGTERM or
//! Ctrl-C, stopping every connection's tasks.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

/// Chunks in flight in one direction of one connection; a full line makes
/// the reader wait (as a full network buffer would).
const IN_FLIGHT: usize = 1024;
/// Largest chunk read at once.
const CHUNK: usize = 64 * 1024;

/// A delaying TCP proxy on loopback.
#[derive(Debug, Parser)]
struct Cli {
    /// Where to accept, a loopback IP:port (port 0: any free one).
    #[arg(long)]
    listen: SocketAddr,
    /// Where to forward, a loopback IP:port.
    #[arg(long)]
    upstream: SocketAddr,
    /// Delay each way, in milliseconds.
    #[arg(long, default_value_t = 80)]
    one_way_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    for addr in [cli.listen, cli.upstream] {
        if !addr.ip().is_loopback() {
            bail!("{addr} is not a loopback address");
        }
    }
    let delay = Duration::from_millis(cli.one_way_ms);
    let listener = TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("bind {}", cli.listen))?;
    println!("listening on {}", listener.local_addr()?);
    let mut links = JoinSet::new();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (client, _) = accepted?;
                links.spawn(link(client, cli.upstream, delay));
            }
            Some(_) = links.join_next(), if !links.is_empty() => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    links.shutdown().await;
    Ok(())
}

/// Carries one connection both ways until both sides closed.
async fn link(client: TcpStream, upstream: SocketAddr, delay: Duration) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    for stream in [&client, &server] {
        let _ = stream.set_nodelay(true);
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        pump(client_read, server_write, delay),
        pump(server_read, client_write, delay),
    );
}

/// Writes to `to` what `from` gives, each chunk `delay` after it was read.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (line, mut due) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let read = async move {
        let mut buf = vec![0; CHUNK];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let chunk = buf[..n].to_vec();
                    if line.send((Instant::now() + delay, chunk)).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = due.recv().await {
            sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}
