//! `chat-core`: the cluster's core node. Serves the `ChatCore` gRPC service
//! to edges over TCP (optionally TLS), owns ordering, storage and fan-out.

use std::time::Duration;

use anyhow::Context;
use chat_core::store::Store;
use chat_core::{CoreService, PgStore, SqliteStore};
use chat_edge::MetricsRender;
use chat_node::admin::Admin;
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
    let core = CoreService::start(store, config.core.clone())
        .await
        .context("starting core")?;
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
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let signal = signals::install().context("installing signal handlers")?;
    tracing::info!(
        %addr,
        admin = %admin.addr(),
        node_id = config.core.node_id,
        storage = ?config.storage,
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
            tracing::info!("shutting down: ending edge streams");
            stop.cancel();
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut serve).await.is_err() {
                tracing::warn!("calls still in flight after the grace period");
            }
        }
    }
    tracing::info!("flushing storage");
    core.shutdown().await.context("flushing storage")?;
    tracing::info!("stopped");
    Ok(())
}
