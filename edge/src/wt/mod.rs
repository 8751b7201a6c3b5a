//! WebTransport over HTTP/3 (wtransport on quinn): the same chat protocol
//! as on WebSocket, as length-prefixed JSON frames on one bidirectional
//! stream the client opens (see [`framing`] and docs/protocol.md).

mod accept;
pub mod config;
pub mod framing;
mod identity;
mod link;

use std::net::SocketAddr;
use std::sync::Arc;

pub use accept::start;
pub use config::WebTransportConfig;
pub use link::WtLink;

/// The path of WebTransport sessions (`https://host:port/wt`).
pub const PATH: &str = "/wt";

/// Why WebTransport could not start.
#[derive(Debug, thiserror::Error)]
pub enum WtError {
    /// The certificate could not be loaded or made.
    #[error("WebTransport certificate: {0}")]
    Certificate(String),
    /// The UDP socket could not be bound.
    #[error("WebTransport cannot listen on UDP {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
}

/// What clients learn about the WebTransport endpoint: its port and the
/// certificate it presents now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// The UDP address the endpoint is bound to.
    pub addr: SocketAddr,
    /// SHA-256 of the certificate presented now.
    pub hash: [u8; 32],
    /// When that certificate expires, for a self-signed one (Unix ms).
    pub expires_at_ms: Option<i64>,
}

/// The endpoint's advert, replaced when its certificate is.
#[derive(Default)]
pub struct Adverts(std::sync::RwLock<Option<Arc<Advert>>>);

impl Adverts {
    /// The advert now, once WebTransport has started.
    pub fn get(&self) -> Option<Arc<Advert>> {
        self.0.read().map(|a| a.clone()).unwrap_or_default()
    }

    fn set(&self, advert: Advert) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some(Arc::new(advert));
        }
    }
}

/// Lower-case hex, for logs and the hash endpoint.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
