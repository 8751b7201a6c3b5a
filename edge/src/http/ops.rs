//! Health, readiness, metrics and the OpenAPI document.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::Edge;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 while the server takes traffic, 503 while it starts or drains.
pub async fn readyz(State(edge): State<Arc<Edge>>) -> (StatusCode, &'static str) {
    if edge.ready.load(Ordering::Acquire) && !edge.shutdown.is_cancelled() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(edge): State<Arc<Edge>>) -> impl IntoResponse {
    metrics::gauge!("chat_ws_sessions_registered").set(edge.registry.session_count() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        (edge.render_metrics)(),
    )
}
