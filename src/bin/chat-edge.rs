//! `chat-edge`: the cluster's edge node. Terminates clients' HTTP and
//! WebSocket connections and forwards to the core over gRPC; holds no
//! storage.

use anyhow::Context;
use axum::serve::Listener as _;
use chat_edge::core_client::CoreClient;
use chat_edge::{Edge, MetricsRender};
use chat_node::node_config::EdgeNodeConfig;
use chat_node::{listen, signals};

fn main() -> std::process::ExitCode {
    chat_node::run_binary::<EdgeNodeConfig, _, _, _>(run)
}

async fn run(config: EdgeNodeConfig, render_metrics: MetricsRender) -> anyhow::Result<()> {
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
