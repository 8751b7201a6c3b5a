//! The edge's settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core_client::CoreLinkConfig;
use crate::protocol::SessionConfig;

/// Limits and tuning of the edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeConfig {
    /// This edge's id, unique among the edges of one core; 0 (the default)
    /// lets the core assign one. A core refuses an id another live edge holds.
    pub edge_id: u64,
    /// Most client connections (WebSocket and WebTransport together) held
    /// at once; more are refused (503 on WebSocket, 429 on WebTransport).
    pub max_connections: usize,
    /// Frames queued for one client before it counts as too slow and is closed.
    pub outbound_queue: usize,
    /// Largest WebSocket frame or message accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Largest REST request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a new connection may take to send `hello`, in milliseconds.
    pub hello_timeout_ms: u64,
    /// How often clients should ping, in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// Most `send`s per connection awaiting their ack.
    pub max_in_flight: usize,
    /// Frames per second one connection may send, sustained.
    pub frames_per_sec: f64,
    /// Frames one connection may send in a burst.
    pub frames_burst: f64,
    /// Bytes the WebSocket layer reads at a time, per connection. Held for
    /// the connection's life, so it dominates an idle connection's memory.
    pub ws_read_buffer: usize,
    /// Bytes of frames gathered before the WebSocket layer writes to the
    /// socket; a batch of deliveries under this size leaves in one write at
    /// its flush. The buffer grows only as frames fill it.
    pub ws_write_buffer: usize,
    /// How long shutdown waits for connections to close, in milliseconds.
    pub shutdown_grace_ms: u64,
    /// On SIGTERM, how long the edge waits, in milliseconds, for the
    /// sessions it told to `reconnect` elsewhere to leave before it closes
    /// the rest (a load balancer's deregistration delay should match).
    pub drain_timeout_ms: u64,
    /// Silence, in ms, after which a session is closed with 4004.
    pub idle_timeout_ms: u64,
    /// Most channel cursors one `hello` may carry.
    pub max_cursors: usize,
    /// Shortest time between two `typing` frames of one session for one channel.
    pub typing_interval_ms: u64,
    /// REST calls per second one user may make, sustained.
    pub rest_per_sec: u32,
    /// REST calls one user may make in a burst.
    pub rest_burst: u32,
    /// REST principals (token → user) kept, so a REST call need not ask
    /// the core who its token belongs to first.
    pub principal_cache_size: u64,
    /// Longest a cached REST principal is used, in ms; a revocation that
    /// reaches this edge drops it at once.
    pub principal_cache_ttl_ms: u64,
    /// Bytes of metadata (profiles, channels, autocomplete answers) the edge
    /// keeps, so reads need no core round trip; 0 turns the cache off.
    pub metadata_cache_bytes: u64,
    /// Take the client's address from the last entry of `X-Forwarded-For`
    /// (the one the load balancer in front of the edge appended) instead of
    /// the TCP peer. Only behind a proxy that sets it: otherwise clients
    /// could choose their address and dodge the login limits.
    pub trust_forwarded_for: bool,
    /// The WebSocket URL discovery gives clients for this edge (`ws://` or
    /// `wss://`, the address behind any load balancer); by default
    /// `ws://<listen address>/ws`.
    pub public_url: Option<String>,
    /// The link to the core.
    pub core: CoreLinkConfig,
    /// WebTransport over HTTP/3.
    pub webtransport: crate::wt::WebTransportConfig,
    /// Longest message text in characters; set from the core's setting.
    #[serde(skip)]
    pub max_text_chars: usize,
    /// Catch-up page size; set from the core's largest history page.
    #[serde(skip)]
    pub sync_page: u32,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            edge_id: 0,
            max_connections: 100_000,
            public_url: None,
            outbound_queue: 1024,
            max_frame_bytes: 1 << 20,
            max_body_bytes: 1 << 20,
            hello_timeout_ms: 10_000,
            heartbeat_interval_ms: 10_000,
            max_in_flight: 64,
            frames_per_sec: 100.0,
            frames_burst: 200.0,
            ws_read_buffer: 1024,
            ws_write_buffer: 16 * 1024,
            shutdown_grace_ms: 5_000,
            drain_timeout_ms: 10_000,
            idle_timeout_ms: 30_000,
            max_cursors: 10_000,
            typing_interval_ms: 1_000,
            rest_per_sec: 50,
            rest_burst: 100,
            principal_cache_size: 100_000,
            principal_cache_ttl_ms: 60_000,
            metadata_cache_bytes: 64 << 20,
            trust_forwarded_for: false,
            core: CoreLinkConfig::default(),
            webtransport: crate::wt::WebTransportConfig::default(),
            max_text_chars: 100_000,
            sync_page: 100,
        }
    }
}

impl EdgeConfig {
    /// The WebSocket URL to offer clients when the edge listens on `addr`.
    pub fn websocket_url(&self, addr: std::net::SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("ws://{addr}/ws"))
    }

    /// Checks the values against their allowed ranges.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("edge.max_connections", self.max_connections),
            ("edge.outbound_queue", self.outbound_queue),
            ("edge.max_frame_bytes", self.max_frame_bytes),
            ("edge.max_body_bytes", self.max_body_bytes),
            ("edge.max_in_flight", self.max_in_flight),
            ("edge.ws_read_buffer", self.ws_read_buffer),
            ("edge.rest_per_sec", self.rest_per_sec as usize),
            ("edge.rest_burst", self.rest_burst as usize),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be positive"));
            }
        }
        if self.principal_cache_size == 0 || self.principal_cache_ttl_ms == 0 {
            return Err(
                "edge.principal_cache_size and edge.principal_cache_ttl_ms must be positive".into(),
            );
        }
        if self.idle_timeout_ms <= self.heartbeat_interval_ms {
            return Err("edge.idle_timeout_ms must exceed edge.heartbeat_interval_ms".into());
        }
        self.core.validate()?;
        self.webtransport.validate()?;
        if let Some(url) = &self.public_url
            && !(url.starts_with("ws://") || url.starts_with("wss://"))
        {
            return Err(format!(
                "edge.public_url must be a ws:// or wss:// URL, not {url:?}"
            ));
        }
        if !(self.frames_per_sec > 0.0 && self.frames_burst >= 1.0) {
            return Err(
                "edge.frames_per_sec must be positive and edge.frames_burst at least 1".into(),
            );
        }
        Ok(())
    }

    /// The per-session part.
    pub fn session(&self) -> SessionConfig {
        SessionConfig {
            hello_timeout: Duration::from_millis(self.hello_timeout_ms),
            heartbeat_interval: Duration::from_millis(self.heartbeat_interval_ms),
            max_in_flight: self.max_in_flight,
            frames_per_sec: self.frames_per_sec,
            frames_burst: self.frames_burst,
            max_text_chars: self.max_text_chars,
            max_frame_bytes: self.max_frame_bytes,
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            sync_page: self.sync_page,
            max_cursors: self.max_cursors,
            typing_interval: Duration::from_millis(self.typing_interval_ms),
        }
    }
}
