//! Serving an edge's HTTP (REST and WebSocket) until a signal, then the
//! graceful part of shutdown: the edge drains (sessions are told to
//! reconnect elsewhere, the rest closed with 1001) and in-flight requests
//! get the grace period.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chat_edge::Edge;
use tokio_util::sync::CancellationToken;

use crate::listen::Listener;

/// Starts the edge's WebTransport endpoint beside HTTP on `http`, unless
/// configured off; says where it listens ("off" when it does not), for the
/// `listening` log line.
pub async fn webtransport(edge: &Arc<Edge>, http: std::net::SocketAddr) -> anyhow::Result<String> {
    if !edge.config.webtransport.enabled {
        return Ok("off".to_owned());
    }
    let addr = chat_edge::wt::start(edge, http).await?;
    Ok(addr.to_string())
}

/// Serves `edge` on `listener` until `signal` resolves or the server fails,
/// then closes the edge's sessions and waits (bounded) for the server.
pub async fn edge_http(edge: Arc<Edge>, listener: Listener, signal: impl Future<Output = ()>) {
    let stop = CancellationToken::new();
    // A make-service hands each connection a clone of the finished router;
    // a bare Router rebuilds its route table for every connection.
    let routes = edge
        .router()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server =
        axum::serve(listener, routes).with_graceful_shutdown(stop.clone().cancelled_owned());
    let mut server = tokio::spawn(server.into_future());
    let mut server_done = false;
    tokio::select! {
        // A signal also ends the server (graceful shutdown): when both are
        // ready, the signal is the reason.
        biased;
        _ = signal => {}
        result = &mut server => {
            server_done = true;
            match result {
                Ok(Ok(())) => tracing::warn!("HTTP server stopped on its own"),
                Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed"),
                Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
            }
        }
    }
    tracing::info!("shutting down: draining sessions");
    // New connections are refused from the drain's start; the listener
    // keeps answering (REST, the refusals) until the sessions are gone.
    edge.drain().await;
    stop.cancel();
    if !server_done {
        let grace = Duration::from_millis(edge.config.shutdown_grace_ms);
        let _ = tokio::time::timeout(grace, server).await;
    }
}
