//! Where the load goes: a loopback server, reached from one or more
//! loopback source addresses (each gives another ~28,000 ephemeral ports).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};

/// The server under load and the addresses connections come from.
#[derive(Debug)]
pub struct Target {
    /// The server's address.
    pub addr: SocketAddr,
    sources: Vec<IpAddr>,
    next: AtomicUsize,
}

impl Target {
    /// Refuses anything but a loopback server; `sources` loopback source
    /// addresses are used in turn (127.0.0.1, 127.0.0.2, ...).
    pub fn new(addr: &str, sources: usize) -> anyhow::Result<Self> {
        let addr: SocketAddr = addr
            .parse()
            .with_context(|| format!("--target {addr:?} is not an IP:port"))?;
        if !addr.ip().is_loopback() {
            bail!("--target must be a loopback address (127.0.0.0/8 or ::1), not {addr}");
        }
        let sources = match addr.ip() {
            IpAddr::V4(_) => (0..sources.clamp(1, 250))
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + i as u8)))
                .collect(),
            IpAddr::V6(ip) => vec![IpAddr::V6(ip)],
        };
        Ok(Self {
            addr,
            sources,
            next: AtomicUsize::new(0),
        })
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
        format!("http://{}{path}", self.addr)
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
