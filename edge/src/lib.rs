//! The chat edge: HTTP and WebSocket for clients, sessions, and delivery of
//! the core's events to connected devices.
//!
//! The edge reaches the core only through [`chat_proto::CoreHandle`], the
//! generated `ChatCore` trait: in memory in single-node mode, over gRPC in
//! cluster mode.

pub mod config;
pub mod dispatch;
pub mod error;
pub mod http;
pub mod protocol;
pub mod registry;
pub mod wire;
pub mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chat_proto::CoreHandle;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::EdgeConfig;
pub use error::ApiError;

/// Renders the process's metrics in Prometheus text format.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// One edge: its sessions, its link to the core and its lifecycle.
pub struct Edge {
    /// The core.
    pub core: CoreHandle,
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
    /// Metrics text for `/metrics`.
    pub render_metrics: MetricsRender,
    /// REST calls per user.
    pub rest_limiter: Arc<http::UserLimiter>,
    next_session: AtomicU64,
}

impl Edge {
    /// Subscribes to the core's events and starts delivering them.
    pub async fn start(
        core: CoreHandle,
        config: EdgeConfig,
        render_metrics: MetricsRender,
    ) -> Result<Arc<Self>, ApiError> {
        let registry = Arc::new(registry::Registry::new(core.clone(), config.edge_id));
        let stream = dispatch::subscribe(&core, config.edge_id).await?;
        let rest_limiter = Arc::new(http::UserLimiter::new(
            config.rest_per_sec,
            config.rest_burst,
        ));
        let edge = Arc::new(Self {
            rest_limiter: rest_limiter.clone(),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            session_config: Arc::new(config.session()),
            core: core.clone(),
            registry: registry.clone(),
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            ready: AtomicBool::new(false),
            render_metrics,
            next_session: AtomicU64::new(1),
            config,
        });
        edge.tracker.spawn(dispatch::run(
            core,
            registry,
            edge.config.edge_id,
            stream,
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

    /// A fresh session id.
    pub fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
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

/// Forgets idle users' REST buckets now and then, until shutdown.
async fn forget_idle_users(limiter: Arc<http::UserLimiter>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(http::user_limit::FORGET_EVERY) => limiter.forget_idle(),
        }
    }
}
