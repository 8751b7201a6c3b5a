//! The chat edge: HTTP and WebSocket for clients, sessions, and delivery of
//! the core's events to connected devices.
//!
//! The edge reaches the core only through [`core_client::CoreClient`]:
//! gRPC over TCP in cluster mode, over an in-memory link in single-node mode.

pub mod cache;
pub mod clock;
pub mod config;
pub mod core_client;
pub mod dispatch;
pub mod error;
pub mod http;
pub mod link;
pub mod peers;
pub mod principals;
pub mod ready;
pub mod registry;
pub mod watches;
pub mod ws;
pub mod wt;

/// The client protocol without IO, in its own crate.
pub use chat_protocol as protocol;
/// The wire JSON shapes (part of the protocol crate).
pub use chat_protocol::wire;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::core_client::CoreClient;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::EdgeConfig;
pub use error::ApiError;

/// Renders the process's metrics in Prometheus text format.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// One edge: its sessions, its link to the core and its lifecycle.
pub struct Edge {
    /// The core.
    pub core: CoreClient,
    /// Settings.
    pub config: EdgeConfig,
    /// The per-session settings, shared by every session.
    pub session_config: Arc<protocol::SessionConfig>,
    /// Sessions by user.
    pub registry: Arc<registry::Registry>,
    /// Cancelled when the edge shuts down.
    pub shutdown: CancellationToken,
    /// Every task the edge started.
    pub tracker: TaskTracker,
    /// Free connection slots.
    pub connections: Arc<Semaphore>,
    /// True once the edge takes traffic.
    pub ready: AtomicBool,
    /// True from the start of a drain: no new connections.
    draining: AtomicBool,
    /// Metrics text for `/metrics`.
    pub render_metrics: MetricsRender,
    /// REST calls per user.
    pub rest_limiter: Arc<http::UserLimiter>,
    /// Profiles, channels and searches, kept fresh by the core's events.
    pub cache: Arc<cache::MetaCache>,
    /// Who the bearer tokens of recent REST calls belong to.
    pub principals: Arc<principals::Principals>,
    /// Where WebTransport listens and the certificate it presents.
    pub webtransport: wt::Adverts,
    /// The live edges discovery offers, once the binary said where they are.
    peers: OnceLock<peers::Peers>,
    /// The CPU use last measured, in percent of one core (`f32` bits).
    cpu_percent: AtomicU32,
    next_session: AtomicU64,
}

impl Edge {
    /// Subscribes to the core's events and starts delivering them.
    pub async fn start(
        core: CoreClient,
        mut config: EdgeConfig,
        render_metrics: MetricsRender,
    ) -> Result<Arc<Self>, ApiError> {
        let mut identity = dispatch::Identity {
            edge_id: config.edge_id,
            incarnation: incarnation(),
        };
        let owner = {
            let core = core.clone();
            Arc::new(move |channel| core.owner(channel)) as watches::OwnerOf
        };
        let watches = Arc::new(watches::Watches::new(owner));
        let first =
            core.nodes().first().copied().ok_or_else(|| {
                ApiError::new(503, "unavailable", "no core is live to subscribe to")
            })?;
        let subscribed = dispatch::subscribe(&core, first, identity, None, &watches).await?;
        let (edge_id, stream) = (subscribed.edge_id, subscribed.events);
        identity.edge_id = edge_id;
        config.edge_id = edge_id;
        tracing::info!(edge_id, "registered with the core");
        let registry = Arc::new(registry::Registry::new(core.clone(), edge_id, watches));
        let rest_limiter = Arc::new(http::UserLimiter::new(
            config.rest_per_sec,
            config.rest_burst,
        ));
        let edge = Arc::new(Self {
            principals: principals::Principals::start(
                config.principal_cache_size,
                Duration::from_millis(config.principal_cache_ttl_ms),
            ),
            rest_limiter: rest_limiter.clone(),
            cache: Arc::new(cache::MetaCache::new(config.metadata_cache_bytes)),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            session_config: Arc::new(config.session()),
            core: core.clone(),
            registry: registry.clone(),
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            ready: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            render_metrics,
            peers: OnceLock::new(),
            webtransport: wt::Adverts::default(),
            cpu_percent: AtomicU32::new(0),
            next_session: AtomicU64::new(1),
            config,
        });
        edge.tracker.spawn(dispatch::run(
            core,
            registry,
            edge.cache.clone(),
            identity,
            (first, stream),
            edge.shutdown.clone(),
        ));
        edge.tracker
            .spawn(forget_idle_users(rest_limiter, edge.shutdown.clone()));
        edge.ready.store(true, Ordering::Release);
        Ok(edge)
    }

    /// The HTTP router of this edge.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        http::router(self.clone())
    }

    /// Says where the live edges are, for discovery (once; later calls do
    /// nothing).
    pub fn set_peers(&self, peers: peers::Peers) {
        let _ = self.peers.set(peers);
    }

    /// The edges to offer a client of `region`, best first (none before
    /// [`Self::set_peers`]).
    pub fn offer(&self, region: &str) -> Vec<peers::EdgeOffer> {
        self.peers
            .get()
            .map(|p| p.offer(region, self.load()))
            .unwrap_or_default()
    }

    /// The caches a session's calls read first.
    pub fn caches(&self) -> core_client::session::Caches {
        core_client::session::Caches {
            metadata: self.cache.clone(),
            principals: self.principals.clone(),
        }
    }

    /// The WebSocket URLs of the other edges that take connections, best
    /// first for this edge's own region (where its clients likely are).
    pub fn alternatives(&self) -> Vec<String> {
        let Some(peers) = self.peers.get() else {
            return Vec::new();
        };
        peers
            .offer(peers.region(), self.load())
            .into_iter()
            .filter(|e| e.id != peers.id())
            .map(|e| e.websocket_url)
            .collect()
    }

    /// Records the CPU use just measured, for [`Self::load`].
    pub fn record_cpu(&self, percent: f32) {
        self.cpu_percent.store(percent.to_bits(), Ordering::Relaxed);
    }

    /// Client connections (WebSocket and WebTransport) held now.
    pub fn connection_count(&self) -> u64 {
        let free = self.connections.available_permits();
        self.config.max_connections.saturating_sub(free) as u64
    }

    /// This edge's load now: connections of its capacity, and the CPU use
    /// last measured.
    pub fn load(&self) -> chat_discovery::Load {
        chat_discovery::Load {
            connections: self.connection_count(),
            cpu_percent: f32::from_bits(self.cpu_percent.load(Ordering::Relaxed)),
            capacity: self.config.max_connections as u64,
        }
    }

    /// A fresh session id.
    pub fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether the edge is draining (or shut down): it takes no new
    /// connections.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire) || self.shutdown.is_cancelled()
    }

    /// Leaves for a deploy: takes no new connections, tells every session
    /// to `reconnect` at another edge, waits at most `edge.drain_timeout_ms`
    /// for them to go, then [`Self::shutdown`]s. An edge that knows no
    /// other edge has nowhere to send its clients, and shuts down at once.
    pub async fn drain(&self) {
        self.ready.store(false, Ordering::Release);
        self.draining.store(true, Ordering::Release);
        let alternatives = self.alternatives();
        if !alternatives.is_empty() {
            let frame = protocol::ServerFrame::Reconnect {
                alternatives,
                reason: "draining".to_owned(),
            };
            let text = serde_json::to_string(&frame).unwrap_or_default();
            let frame = Arc::new(protocol::SharedFrame::plain(text.into()));
            let told = self.registry.deliver_all(&frame);
            metrics::counter!("chat_edge_drains_total").increment(1);
            tracing::info!(
                sessions = told,
                "draining: sessions told to reconnect elsewhere"
            );
            let wait = Duration::from_millis(self.config.drain_timeout_ms);
            match tokio::time::timeout(wait, self.registry.until_empty()).await {
                Ok(()) => tracing::info!("drained: every session left"),
                Err(_) => tracing::warn!(
                    remaining = self.registry.session_count(),
                    "sessions still here after the drain timeout: closing them"
                ),
            }
        }
        self.shutdown().await;
    }

    /// Closes every session with 1001 and waits for them, at most the grace period.
    pub async fn shutdown(&self) {
        self.ready.store(false, Ordering::Release);
        self.shutdown.cancel();
        self.tracker.close();
        let grace = Duration::from_millis(self.config.shutdown_grace_ms);
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.tracker.len(),
                "sessions still open after the grace period"
            );
        }
    }
}

/// A number that differs between edge processes: the process id and the
/// start time in nanoseconds, never 0.
fn incarnation() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ (u64::from(std::process::id()) << 40)).max(1)
}

/// Forgets idle users' REST buckets now and then, until shutdown.
async fn forget_idle_users(limiter: Arc<http::UserLimiter>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(http::user_limit::FORGET_EVERY) => limiter.forget_idle(),
        }
    }
}
