//! `chat-core`'s admin HTTP listener: `/healthz`, `/readyz` and `/metrics`
//! on an address of their own (`admin.listen`), apart from the gRPC port
//! that edges use. The answers are the edge's (`chat_edge::http::ops`), so
//! probes and scrapers treat every process of the service alike.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::serve::Listener as _;
use chat_edge::MetricsRender;
use chat_edge::http::ops;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long [`Admin::stop`] waits for scrapes in flight.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Settings of the admin listener (`[admin]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of `/healthz`, `/readyz` and `/metrics` (port 0: any free one).
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7101)),
        }
    }
}

#[derive(Clone)]
struct AdminState {
    ready: Arc<AtomicBool>,
    render: MetricsRender,
}

/// A running admin listener; not ready until [`Admin::set_ready`].
pub struct Admin {
    addr: SocketAddr,
    ready: Arc<AtomicBool>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Admin {
    /// Binds `addr` and serves the admin endpoints with `render`'s metrics.
    pub fn start(addr: SocketAddr, render: MetricsRender) -> std::io::Result<Self> {
        let listener = crate::listen::listen(addr)?;
        let addr = listener.local_addr()?;
        let ready = Arc::new(AtomicBool::new(false));
        let state = AdminState {
            ready: ready.clone(),
            render,
        };
        let routes = axum::Router::new()
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(state);
        let stop = CancellationToken::new();
        let server =
            axum::serve(listener, routes).with_graceful_shutdown(stop.clone().cancelled_owned());
        let task = tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "admin HTTP server failed");
            }
        });
        Ok(Self {
            addr,
            ready,
            stop,
            task,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets what `/readyz` answers: 200 while `ready`, 503 otherwise.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Stops serving, after the requests in flight (bounded).
    pub async fn stop(self) {
        self.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn readyz(State(state): State<AdminState>) -> impl axum::response::IntoResponse {
    ops::readiness(state.ready.load(Ordering::Acquire))
}

async fn metrics(State(state): State<AdminState>) -> impl axum::response::IntoResponse {
    ops::metrics_page(&state.render)
}
