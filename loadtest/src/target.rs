//! Where the load goes: a loopback server (or a cluster's edges), reached
//! from one or more loopback source addresses (each gives another ~28,000
//! ephemeral ports).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};

/// What carries the chat protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// WebSocket over TCP (`/ws`).
    #[value(name = "websocket")]
    WebSocket,
    /// WebTransport over HTTP/3 (`/wt` on the UDP endpoint that
    /// `/webtransport/cert-hash` names), pinning its certificate hash.
    #[value(name = "webtransport")]
    WebTransport,
}

/// The servers under load and the addresses connections come from.
#[derive(Debug)]
pub struct Target {
    /// What sessions run over.
    pub transport: Transport,
    /// The servers' addresses: one for a single node, one per edge for a
    /// cluster. REST goes to the first; connections are spread over all.
    pub addrs: Vec<SocketAddr>,
    sources: Vec<IpAddr>,
    next: AtomicUsize,
    next_addr: AtomicUsize,
}

impl Target {
    /// Refuses anything but loopback servers; `addrs` is one `IP:port` or
    /// several separated by commas; `sources` loopback source addresses are
    /// used in turn (127.0.0.1, 127.0.0.2, ...).
    pub fn new(addrs: &str, sources: usize) -> anyhow::Result<Self> {
        let addrs = addrs
            .split(',')
            .map(|a| {
                let addr: SocketAddr = a
                    .trim()
                    .parse()
                    .with_context(|| format!("--target {a:?} is not an IP:port"))?;
                if !addr.ip().is_loopback() {
                    bail!("--target must be a loopback address (127.0.0.0/8 or ::1), not {addr}");
                }
                Ok(addr)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let Some(first) = addrs.first() else {
            bail!("--target names no server");
        };
        if addrs.iter().any(|a| a.is_ipv4() != first.is_ipv4()) {
            bail!("--target mixes IPv4 and IPv6 servers");
        }
        let sources = match first.ip() {
            IpAddr::V4(_) => (0..sources.clamp(1, 250))
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + i as u8)))
                .collect(),
            IpAddr::V6(ip) => vec![IpAddr::V6(ip)],
        };
        Ok(Self {
            transport: Transport::WebSocket,
            addrs,
            sources,
            next: AtomicUsize::new(0),
            next_addr: AtomicUsize::new(0),
        })
    }

    /// The server REST calls go to.
    pub fn rest_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The index in [`Target::addrs`] of the next server to connect to,
    /// round robin.
    pub fn next_via(&self) -> usize {
        self.next_addr.fetch_add(1, Ordering::Relaxed) % self.addrs.len()
    }

    /// Server `via` (taken modulo their number).
    pub fn addr(&self, via: usize) -> SocketAddr {
        self.addrs[via % self.addrs.len()]
    }

    /// The next source address, round robin; `None` with a single source,
    /// so the kernel picks the port at connect time. Binding port 0 first
    /// searches for a port no socket holds, and with the tens of thousands
    /// left in TIME_WAIT by a previous run that search slowed connects
    /// tenfold.
    pub fn source(&self) -> Option<IpAddr> {
        if self.sources.len() < 2 {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.sources[i % self.sources.len()])
    }

    /// An URL on the server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.rest_addr())
    }
}

/// Open files wanted for the largest runs.
const WANTED_FILES: u64 = 1 << 20;

/// Raises this process's open-file limit (past the hard limit when allowed
/// to, as root); returns it.
pub fn raise_file_limit() -> u64 {
    let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, WANTED_FILES, WANTED_FILES);
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}
