//! Health, readiness and metrics: the edge's handlers, and the answers
//! every process of the service gives (`chat-core` serves them too).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::{Edge, MetricsRender};

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 while the server takes traffic, 503 while it starts or drains.
pub async fn readyz(State(edge): State<Arc<Edge>>) -> (StatusCode, &'static str) {
    readiness(edge.ready.load(Ordering::Acquire) && !edge.shutdown.is_cancelled())
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(edge): State<Arc<Edge>>) -> impl IntoResponse {
    metrics::gauge!("chat_ws_sessions_registered").set(edge.registry.session_count() as f64);
    metrics_page(&edge.render_metrics)
}

/// The answer to `/readyz` of a process that is `ready` or not; every
/// process of the service answers alike.
pub fn readiness(ready: bool) -> (StatusCode, &'static str) {
    if ready {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// The `/metrics` page of `render`'s metrics, in Prometheus text format.
pub fn metrics_page(render: &MetricsRender) -> impl IntoResponse + use<> {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(),
    )
}
