//! Configuration of the cluster's processes, `chat-core` and `chat-edge`,
//! read like the single node's: defaults, TOML file, `CHAT_*` variables,
//! flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use chat_core::{CoreConfig, PostgresConfig};
use chat_discovery::ZkConfig;
use chat_edge::EdgeConfig;
use clap::Parser;
use serde::{Deserialize, Serialize};

use crate::admin::AdminConfig;
use crate::config::LogFormat;
use crate::telemetry::Process;

/// Flags of `chat-core`.
#[derive(Debug, Parser)]
#[command(
    name = "chat-core",
    version,
    about = "Chat core node: ordering, storage, fan-out to edges."
)]
pub struct CoreCli {
    /// gRPC address to listen on [env: CHAT_LISTEN] [default: 127.0.0.1:7100]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// TOML config file; unknown keys are rejected
    #[arg(long, value_name = "FILE", env = "CHAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format [env: CHAT_LOG_FORMAT]
    #[arg(long, value_enum, env = "CHAT_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Read and check the configuration, print it is valid and exit (0), or
    /// print the first error (2); starts nothing
    #[arg(long)]
    pub check_config: bool,
}

/// Flags of `chat-edge`.
#[derive(Debug, Parser)]
#[command(
    name = "chat-edge",
    version,
    about = "Chat edge node: clients' HTTP and WebSocket, forwarded to a core."
)]
pub struct EdgeCli {
    /// HTTP address to listen on [env: CHAT_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// The core's gRPC URL [env: CHAT_EDGE__CORE__URL]
    #[arg(long, value_name = "URL")]
    pub core: Option<String>,
    /// TOML config file; unknown keys are rejected
    #[arg(long, value_name = "FILE", env = "CHAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format [env: CHAT_LOG_FORMAT]
    #[arg(long, value_enum, env = "CHAT_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Read and check the configuration, print it is valid and exit (0), or
    /// print the first error (2); starts nothing
    #[arg(long)]
    pub check_config: bool,
}

/// TLS of the core's gRPC listener (both files or neither).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerTls {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

/// The region a node is in unless configured.
pub const DEFAULT_REGION: &str = "local";

/// Which backend `chat-core` stores in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// PostgreSQL at `postgres.url` (the cluster's storage).
    Postgres,
    /// SQLite in `data_dir` (one core node only, for trying things out).
    Sqlite,
}

/// Everything `chat-core` can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoreNodeConfig {
    /// gRPC address edges connect to.
    pub listen: SocketAddr,
    /// Where to store: `postgres` or `sqlite`.
    pub storage: StorageKind,
    /// The PostgreSQL database, when `storage = "postgres"`.
    pub postgres: PostgresConfig,
    /// Directory of the SQLite database, when `storage = "sqlite"`.
    pub data_dir: PathBuf,
    /// Threads; 0 means one per core.
    pub worker_threads: usize,
    /// HTTP/2 PING interval towards each edge, in ms.
    pub keepalive_interval_ms: u64,
    /// How long a PING may go unanswered before the edge counts as gone, in ms.
    pub keepalive_timeout_ms: u64,
    /// TLS for the gRPC listener.
    pub tls: ServerTls,
    /// The admin HTTP listener: health, readiness, metrics.
    pub admin: AdminConfig,
    /// Core settings, as in the single node.
    pub core: CoreConfig,
    /// The node's region, published in its registration.
    pub region: String,
    /// ZooKeeper, for a cluster of several cores: with it the node
    /// registers, takes its node id from ZooKeeper (`core.node_id` is then
    /// unused) and owns its share of the channels; without it the node
    /// owns every channel and must be the only core.
    pub zookeeper: Option<ZkConfig>,
}

impl Default for CoreNodeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7100)),
            storage: StorageKind::Postgres,
            postgres: PostgresConfig::default(),
            data_dir: PathBuf::from("./data"),
            worker_threads: 0,
            keepalive_interval_ms: 2_000,
            keepalive_timeout_ms: 3_000,
            tls: ServerTls::default(),
            admin: AdminConfig::default(),
            core: CoreConfig::default(),
            region: DEFAULT_REGION.to_owned(),
            zookeeper: None,
        }
    }
}

impl CoreNodeConfig {
    /// Reads the configuration for `cli`.
    pub fn load(cli: &CoreCli) -> Result<Self, String> {
        let mut config: Self = crate::load::load(cli.config.as_deref())?;
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        crate::load::check_workers(config.worker_threads)?;
        if config.keepalive_interval_ms == 0 || config.keepalive_timeout_ms == 0 {
            return Err("invalid configuration: keepalive_* must be positive".into());
        }
        if config.tls.cert.is_some() != config.tls.key.is_some() {
            return Err("invalid configuration: tls.cert and tls.key go together".into());
        }
        config.core.validate()?;
        config.postgres.validate()?;
        if let Some(zk) = &config.zookeeper {
            zk.validate()
                .map_err(|e| format!("invalid configuration: {e}"))?;
            if config.storage == StorageKind::Sqlite {
                return Err(
                    "invalid configuration: a cluster of cores (zookeeper) stores in postgres"
                        .into(),
                );
            }
        }
        Ok(config)
    }
}

/// Everything `chat-edge` can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeNodeConfig {
    /// HTTP address clients connect to.
    pub listen: SocketAddr,
    /// Threads; 0 means one per core.
    pub worker_threads: usize,
    /// Edge settings, as in the single node, with `edge.core` naming the core.
    pub edge: EdgeConfig,
    /// The node's region, published in its registration.
    pub region: String,
    /// ZooKeeper, for a cluster of several cores: with it the edge finds
    /// the live cores there (`edge.core.url` is then unused), sends each
    /// call to the core that owns its channel, and registers itself.
    pub zookeeper: Option<ZkConfig>,
}

impl Default for EdgeNodeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            worker_threads: 0,
            edge: EdgeConfig::default(),
            region: DEFAULT_REGION.to_owned(),
            zookeeper: None,
        }
    }
}

impl EdgeNodeConfig {
    /// Reads the configuration for `cli`.
    pub fn load(cli: &EdgeCli) -> Result<Self, String> {
        let mut config: Self = crate::load::load(cli.config.as_deref())?;
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        if let Some(url) = &cli.core {
            config.edge.core.url = url.clone();
        }
        crate::load::check_workers(config.worker_threads)?;
        if let Some(zk) = &config.zookeeper {
            zk.validate()
                .map_err(|e| format!("invalid configuration: {e}"))?;
        }
        config.edge.validate()?;
        config
            .edge
            .core
            .check_tls()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        Ok(config)
    }
}

impl crate::NodeConfig for CoreNodeConfig {
    type Cli = CoreCli;
    const PROCESS: Process = Process::Core;

    fn from_cli(cli: &CoreCli) -> Result<Self, String> {
        Self::load(cli)
    }

    fn log_format(cli: &CoreCli) -> LogFormat {
        cli.log_format
    }

    fn check_only(cli: &CoreCli) -> bool {
        cli.check_config
    }

    fn worker_threads(&self) -> usize {
        self.worker_threads
    }
}

impl crate::NodeConfig for EdgeNodeConfig {
    type Cli = EdgeCli;
    const PROCESS: Process = Process::Edge;

    fn from_cli(cli: &EdgeCli) -> Result<Self, String> {
        Self::load(cli)
    }

    fn log_format(cli: &EdgeCli) -> LogFormat {
        cli.log_format
    }

    fn check_only(cli: &EdgeCli) -> bool {
        cli.check_config
    }

    fn worker_threads(&self) -> usize {
        self.worker_threads
    }
}
