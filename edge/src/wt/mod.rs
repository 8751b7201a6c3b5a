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
    /// `Alt-Svc: h3=":port"`, made once: it goes on every HTTP response.
    pub alt_svc: axum::http::HeaderValue,
}

impl Advert {
    /// The advert of an endpoint on `addr` presenting a certificate hashed
    /// `hash`.
    pub fn new(addr: SocketAddr, hash: [u8; 32], expires_at_ms: Option<i64>) -> Self {
        let alt_svc =
            axum::http::HeaderValue::from_str(&format!("h3=\":{}\"; ma=86400", addr.port()))
                // A port number always makes a valid value; "clear" (no
                // alternative) would be the honest answer if it did not.
                .unwrap_or_else(|_| axum::http::HeaderValue::from_static("clear"));
        Self {
            addr,
            hash,
            expires_at_ms,
            alt_svc,
        }
    }
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
