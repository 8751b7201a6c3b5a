//! The server's configuration: defaults, then an optional TOML file, then
//! `CHAT_*` environment variables, then command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use chat_core::CoreConfig;
use chat_edge::EdgeConfig;
use clap::Parser;
use serde::{Deserialize, Serialize};

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "chat",
    version,
    about = "Single-node chat server (core and edge in one process)."
)]
pub struct Cli {
    /// Address to listen on [env: CHAT_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory for the database [env: CHAT_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
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

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything the server can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the database.
    pub data_dir: PathBuf,
    /// Threads running connections and requests; 0 means one per core.
    pub worker_threads: usize,
    /// Core settings.
    pub core: CoreConfig,
    /// Edge settings.
    pub edge: EdgeConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            worker_threads: 0,
            core: CoreConfig::default(),
            edge: EdgeConfig::default(),
        }
    }
}

impl Config {
    /// Reads the configuration for `cli` from the file and environment it names.
    pub fn load(cli: &Cli) -> Result<Self, String> {
        let mut config: Config = crate::load::load(cli.config.as_deref())?;
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        if let Some(dir) = &cli.data_dir {
            config.data_dir = dir.clone();
        }
        crate::load::check_workers(config.worker_threads)?;
        config.core.validate()?;
        config.edge.validate()?;
        config.edge.max_text_chars = config.core.max_text_chars;
        config.edge.sync_page = u32::try_from(config.core.max_history_page).unwrap_or(u32::MAX);
        Ok(config)
    }
}

impl crate::NodeConfig for Config {
    type Cli = Cli;
    const PROCESS: crate::telemetry::Process = crate::telemetry::Process::Single;

    fn from_cli(cli: &Cli) -> Result<Self, String> {
        Self::load(cli)
    }

    fn log_format(cli: &Cli) -> LogFormat {
        cli.log_format
    }

    fn check_only(cli: &Cli) -> bool {
        cli.check_config
    }

    fn worker_threads(&self) -> usize {
        self.worker_threads
    }
}
