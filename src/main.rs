//! `chat`: the single-node chat server. Core and edge run in one process;
//! the edge calls the core through the same `ChatCore` trait that carries
//! gRPC in cluster mode.

mod config;
mod listen;
mod signals;
mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::Listener as _;
use chat_core::{CoreService, SqliteStore};
use chat_edge::Edge;
use chat_proto::CoreHandle;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::config::{Cli, Config};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("chat: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init_logs(cli.log_format);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if config.worker_threads > 0 {
        builder.worker_threads(config.worker_threads);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    raise_open_file_limit();
    let render_metrics = telemetry::init_metrics().context("metrics")?;
    let store = SqliteStore::open(&config.data_dir).context("opening storage")?;
    let core = Arc::new(
        CoreService::start(store, config.core.clone())
            .await
            .context("starting core")?,
    );
    let handle: CoreHandle = core.clone();
    let edge = Edge::start(handle, config.edge.clone(), render_metrics)
        .await
        .context("starting edge")?;
    let listener = listen::listen(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let signal = signals::install().context("installing signal handlers")?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "listening");

    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            signal.await;
            stop.cancel();
        }
    });
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
        _ = stop.cancelled() => {}
        result = &mut server => {
            server_done = true;
            match result {
                Ok(Ok(())) if stop.is_cancelled() => {}
                Ok(Ok(())) => tracing::warn!("HTTP server stopped on its own"),
                Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed"),
                Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
            }
        }
    }
    tracing::info!("shutting down: closing sessions");
    stop.cancel();
    edge.shutdown().await;
    if !server_done {
        let grace = Duration::from_millis(config.edge.shutdown_grace_ms);
        let _ = tokio::time::timeout(grace, server).await;
    }
    tracing::info!("flushing storage");
    core.shutdown().await.context("flushing storage")?;
    tracing::info!("stopped");
    Ok(())
}

/// Many connections need many file descriptors: use the hard limit.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open file limit"),
    }
}
