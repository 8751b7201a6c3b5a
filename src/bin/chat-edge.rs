//! `chat-edge`: the cluster's edge node. Terminates clients' HTTP and
//! WebSocket connections and forwards to the core over gRPC; holds no
//! storage.

use std::sync::Arc;

use anyhow::Context;
use axum::serve::Listener as _;
use chat_discovery::{NodeInfo, NodeKind, Registration, watch_members};
use chat_edge::core_client::{CoreClient, Directory};
use chat_edge::peers::{Me, Peers, WS_ADDR};
use chat_edge::{Edge, MetricsRender};
use chat_node::node_config::EdgeNodeConfig;
use chat_node::{listen, signals};

fn main() -> std::process::ExitCode {
    chat_node::run_binary::<EdgeNodeConfig, _, _, _>(run)
}

async fn run(config: EdgeNodeConfig, render_metrics: MetricsRender) -> anyhow::Result<()> {
    let link = &config.edge.core;
    let tls = match (&link.tls_ca, &link.tls_domain) {
        (Some(ca), Some(name)) => format!("over TLS (CA {ca}, name {name})"),
        (Some(ca), None) => format!("over TLS (CA {ca})"),
        (None, _) => "without TLS".to_owned(),
    };
    let (core, cores, at) = match &config.zookeeper {
        Some(zk) => {
            let members = watch_members(zk, NodeKind::Core)
                .await
                .context("reading the live cores from ZooKeeper")?;
            let mut live = members.subscribe();
            let wait = link.call_timeout();
            tokio::time::timeout(wait, live.wait_for(|m| !m.is_empty()))
                .await
                .map_err(|_| anyhow::anyhow!("no core registered in ZooKeeper within {wait:?}"))?
                .context("membership watch")?;
            let directory = Arc::new(Directory::new(members.subscribe(), link.clone()));
            let at = format!("the cores ZooKeeper lists at {}{}", zk.connect, zk.chroot);
            (
                CoreClient::cluster(directory, link.clone()),
                Some(members),
                at,
            )
        }
        None => {
            let core =
                CoreClient::connect(link.clone()).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            (core, None, format!("the core at {}", link.url))
        }
    };
    let edge = Edge::start(core, config.edge.clone(), render_metrics)
        .await
        .map_err(|e| anyhow::anyhow!("registering with {at} {tls}: {}", e.message))?;
    let listener = listen::listen(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let websocket_url = config.edge.websocket_url(addr);
    let (registration, edges) = match &config.zookeeper {
        Some(zk) => {
            let info = NodeInfo::new(NodeKind::Edge, config.region.clone())
                .with_addr("http", addr.to_string())
                .with_addr(WS_ADDR, websocket_url.clone());
            let registration = Registration::register(zk, info)
                .await
                .context("registering the edge in ZooKeeper")?;
            let edges = watch_members(zk, NodeKind::Edge)
                .await
                .context("reading the live edges from ZooKeeper")?;
            (Some(registration), Some(edges))
        }
        None => (None, None),
    };
    let me = Me {
        id: registration.as_ref().map_or(0, Registration::id),
        region: config.region.clone(),
        websocket_url,
    };
    edge.set_peers(match &edges {
        Some(edges) => Peers::cluster(me, edges.subscribe()),
        None => Peers::alone(me),
    });
    let registration = registration.map(Arc::new);
    let stop_load = tokio_util::sync::CancellationToken::new();
    let load = registration.clone().map(|registration| {
        let stop_load = stop_load.clone();
        let (counted, recorded) = (edge.clone(), edge.clone());
        tokio::spawn(chat_node::load_report::publish_load(
            move |load| {
                recorded.record_cpu(load.cpu_percent);
                registration.update_load(load);
            },
            move || counted.connection_count(),
            config.edge.max_connections as u64,
            stop_load,
        ))
    });
    let webtransport = chat_node::serve::webtransport(&edge, addr).await?;
    let signal = signals::install().context("installing signal handlers")?;
    tracing::info!(
        %addr,
        %webtransport,
        edge_id = edge.config.edge_id,
        node = registration.as_ref().map(|r| r.id()),
        core = %at,
        "listening"
    );
    // On SIGTERM the edge leaves ZooKeeper first, so the other edges stop
    // offering it, and then drains.
    let leave = async move {
        stop_load.cancel();
        if let Some(load) = load {
            let _ = load.await;
        }
        if let Some(registration) = registration.and_then(|r| Arc::try_unwrap(r).ok()) {
            registration.close().await;
        }
    };
    let signal = async move {
        signal.await;
        tracing::info!("leaving ZooKeeper before draining");
        leave.await;
    };
    chat_node::serve::edge_http(edge, listener, signal).await;
    if let Some(members) = cores {
        members.shutdown().await;
    }
    if let Some(members) = edges {
        members.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}
