//! `chat-core`: the cluster's core node. Serves the `ChatCore` gRPC service
//! to edges over TCP (optionally TLS), owns ordering, storage and fan-out.

use std::time::Duration;

use anyhow::Context;
use std::sync::Arc;

use chat_core::ownership::{Ownership, SoleOwner};
use chat_core::store::Store;
use chat_core::{CoreService, PgStore, SqliteStore};
use chat_discovery::{NodeInfo, NodeKind};
use chat_edge::MetricsRender;
use chat_node::admin::Admin;
use chat_node::core_cluster::CoreMembership;
use chat_node::node_config::{CoreNodeConfig, StorageKind};
use chat_node::signals;
use chat_proto::link::{MAX_MESSAGE_BYTES, tuning};
use chat_proto::v1::chat_core_server::ChatCoreServer;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// How long shutdown waits for calls in flight once the streams ended.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn main() -> std::process::ExitCode {
    chat_node::run_binary::<CoreNodeConfig, _, _, _>(run)
}

async fn run(config: CoreNodeConfig, render_metrics: MetricsRender) -> anyhow::Result<()> {
    // Before storage, so that probes see a live process that is not ready yet.
    let admin = Admin::start(config.admin.listen, render_metrics)
        .with_context(|| format!("cannot listen on {} (admin.listen)", config.admin.listen))?;
    match config.storage {
        StorageKind::Postgres => {
            let store = PgStore::connect(&config.postgres)
                .await
                .context("connecting to PostgreSQL (postgres.url)")?;
            serve(store, config, &admin).await?;
        }
        StorageKind::Sqlite => {
            let store = SqliteStore::open(&config.data_dir).context("opening storage")?;
            serve(store, config, &admin).await?;
        }
    }
    admin.stop().await;
    Ok(())
}

async fn serve<S: Store>(store: S, config: CoreNodeConfig, admin: &Admin) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let mut core_config = config.core.clone();
    let mut node_id = u64::from(core_config.node_id);
    let cluster = match &config.zookeeper {
        Some(zk) => {
            let info = NodeInfo::new(NodeKind::Core, config.region.clone())
                .with_addr("grpc", addr.to_string())
                .with_addr("admin", admin.addr().to_string());
            let membership = CoreMembership::join(zk, info).await?;
            node_id = membership.id;
            core_config.node_id = membership.slot;
            Some(membership)
        }
        None => None,
    };
    let ownership: Arc<dyn Ownership> = match &cluster {
        Some(membership) => membership.ownership.clone(),
        None => Arc::new(SoleOwner::new(core_config.node_id)),
    };
    let core = CoreService::start_owning(store, core_config, ownership)
        .await
        .context("starting core")?;
    // Caches follow the view, and the registration carries the load:
    // tasks that end with the process.
    let cluster = cluster.map(Arc::new);
    let stop_tasks = CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();
    if let Some(membership) = &cluster {
        let (mut changed, caches) = (membership.changed.clone(), core.clone());
        let stop = stop_tasks.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    changed = changed.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        caches.ownership_changed();
                    }
                }
            }
        });
        let (membership, streams) = (membership.clone(), core.clone());
        tasks.spawn(chat_node::load_report::publish_load(
            move |load| membership.update_load(load),
            move || streams.edge_streams() as u64,
            0,
            stop_tasks.clone(),
        ));
    }
    tasks.close();
    let keepalive = tuning::Keepalive {
        interval: Duration::from_millis(config.keepalive_interval_ms),
        timeout: Duration::from_millis(config.keepalive_timeout_ms),
    };
    let mut server = tuning::server_with_keepalive(Server::builder(), keepalive);
    if let (Some(cert), Some(key)) = (&config.tls.cert, &config.tls.key) {
        let cert = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        let tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
        server = server.tls_config(tls).context("TLS settings")?;
    }
    let signal = signals::install().context("installing signal handlers")?;
    tracing::info!(
        %addr,
        admin = %admin.addr(),
        node_id,
        storage = ?config.storage,
        zookeeper = config.zookeeper.as_ref().map(|zk| zk.connect.as_str()),
        tls = config.tls.cert.is_some(),
        "listening"
    );

    let stop = CancellationToken::new();
    let service = ChatCoreServer::from_arc(core.clone())
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let ending = {
        let (stop, core) = (stop.clone(), core.clone());
        async move {
            stop.cancelled().await;
            // Edges' event streams never end by themselves: end them, so
            // the graceful shutdown does not wait for them forever.
            core.end_edge_streams();
        }
    };
    let serve = server
        .add_service(service)
        .serve_with_incoming_shutdown(tuning::incoming(listener), ending);
    tokio::pin!(serve);
    admin.set_ready(true);
    tokio::select! {
        result = &mut serve => result.context("gRPC server failed")?,
        () = signal => {
            admin.set_ready(false);
            stop_tasks.cancel();
            tasks.wait().await;
            if let Some(membership) = cluster.and_then(|c| Arc::try_unwrap(c).ok()) {
                // Handover: the others own this node's channels from the
                // moment its znode is gone; what it still writes is fenced.
                tracing::info!("leaving the cluster");
                membership.leave().await;
            }
            tracing::info!("shutting down: ending edge streams");
            stop.cancel();
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut serve).await.is_err() {
                tracing::warn!("calls still in flight after the grace period");
            }
        }
    }
    stop_tasks.cancel();
    tasks.wait().await;
    tracing::info!("flushing storage");
    core.shutdown().await.context("flushing storage")?;
    tracing::info!("stopped");
    Ok(())
}
