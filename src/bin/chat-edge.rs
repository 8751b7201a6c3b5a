//! `chat-edge`: the cluster's edge node. Terminates clients' HTTP and
//! WebSocket connections and forwards to the core over gRPC; holds no
//! storage.

use anyhow::Context;
use axum::serve::Listener as _;
use chat_edge::Edge;
use chat_edge::core_client::CoreClient;
use chat_node::node_config::{EdgeCli, EdgeNodeConfig};
use chat_node::telemetry::{self, Process};
use chat_node::{listen, signals};
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = EdgeCli::parse();
    let config = match EdgeNodeConfig::load(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("chat-edge: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init_logs(cli.log_format);
    let runtime = match chat_node::runtime(config.worker_threads) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat-edge: cannot start the runtime: {e}");
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

async fn run(config: EdgeNodeConfig) -> anyhow::Result<()> {
    chat_node::raise_open_file_limit();
    let render_metrics = telemetry::init_metrics(Process::Edge).context("metrics")?;
    let core = CoreClient::connect(config.edge.core.clone())
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let link = &config.edge.core;
    let tls = match (&link.tls_ca, &link.tls_domain) {
        (Some(ca), Some(name)) => format!("over TLS (CA {ca}, name {name})"),
        (Some(ca), None) => format!("over TLS (CA {ca})"),
        (None, _) => "without TLS".to_owned(),
    };
    let edge = Edge::start(core, config.edge.clone(), render_metrics)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "registering with the core at {} {tls}: {}",
                link.url,
                e.message
            )
        })?;
    let listener = listen::listen(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let signal = signals::install().context("installing signal handlers")?;
    tracing::info!(%addr, edge_id = edge.config.edge_id, core = %config.edge.core.url, "listening");
    chat_node::serve::edge_http(edge, listener, signal).await;
    tracing::info!("stopped");
    Ok(())
}
