//! `chat`: the single-node chat server. Core and edge run in one process;
//! the edge calls the core through the same gRPC client as in cluster
//! mode, over an in-memory link instead of TCP.

use anyhow::Context;
use axum::serve::Listener as _;
use chat_core::{CoreService, SqliteStore};
use chat_edge::core_client::CoreClient;
use chat_edge::peers::{Me, Peers};
use chat_edge::{Edge, MetricsRender};
use chat_proto::v1::chat_core_server::ChatCoreServer;
use tokio_util::sync::CancellationToken;

use chat_node::config::Config;
use chat_node::node_config::DEFAULT_REGION;
use chat_node::{listen, signals};

fn main() -> std::process::ExitCode {
    chat_node::run_binary::<Config, _, _, _>(run)
}

async fn run(config: Config, render_metrics: MetricsRender) -> anyhow::Result<()> {
    let store = SqliteStore::open(&config.data_dir).context("opening storage")?;
    let core = CoreService::start(store, config.core.clone())
        .await
        .context("starting core")?;
    let link_stop = CancellationToken::new();
    let (channel, link) =
        chat_proto::link::memory::link(ChatCoreServer::from_arc(core.clone()), link_stop.clone());
    let link = tokio::spawn(link);
    let client = CoreClient::over(channel, config.edge.core.clone());
    let edge = Edge::start(client, config.edge.clone(), render_metrics)
        .await
        .context("starting edge")?;
    let listener = listen::listen(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    edge.set_peers(Peers::alone(Me {
        id: 0,
        region: DEFAULT_REGION.to_owned(),
        websocket_url: config.edge.websocket_url(addr),
    }));
    let webtransport = chat_node::serve::webtransport(&edge, addr).await?;
    let signal = signals::install().context("installing signal handlers")?;
    tracing::info!(%addr,
        %webtransport, data_dir = %config.data_dir.display(), "listening");

    chat_node::serve::edge_http(edge, listener, signal).await;
    // The edge's last calls (sessions closing) are done: close the link.
    link_stop.cancel();
    let _ = link.await;
    tracing::info!("flushing storage");
    core.shutdown().await.context("flushing storage")?;
    tracing::info!("stopped");
    Ok(())
}
