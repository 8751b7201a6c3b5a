//! The `main` of every server binary: flags and configuration, logs,
//! metrics, the runtime, the open-file limit, and the exit status. Each
//! binary brings only its configuration type and what it runs.

use std::fmt::Display;
use std::future::Future;
use std::process::ExitCode;

use chat_edge::MetricsRender;
use clap::{CommandFactory, Parser};

use crate::config::LogFormat;
use crate::telemetry::{self, Process};

/// A server binary's configuration and the flags it is read with.
pub trait NodeConfig: Sized {
    /// The binary's flags; the command's name prefixes errors before logs start.
    type Cli: Parser;
    /// Which part of the service the binary runs, and so which metrics it exports.
    const PROCESS: Process;
    /// Reads the configuration for `cli`: defaults, file, environment, flags.
    fn from_cli(cli: &Self::Cli) -> Result<Self, String>;
    /// How `cli` asks for log lines to look.
    fn log_format(cli: &Self::Cli) -> LogFormat;
    /// Whether `cli` asks only for the configuration to be checked.
    fn check_only(cli: &Self::Cli) -> bool;
    /// Runtime worker threads; 0 means one per core.
    fn worker_threads(&self) -> usize;
}

/// Runs a server binary: reads `C` (exit 2 if it is invalid; with
/// `--check-config`, exit 0 here if it is valid), starts logs,
/// the runtime and the metrics recorder, raises the open-file limit, and
/// runs `run` with the configuration and the metrics renderer; exits 0
/// when it returns, 1 (the error logged with its causes) when it fails.
pub fn run_binary<C, F, Fut, E>(run: F) -> ExitCode
where
    C: NodeConfig,
    F: FnOnce(C, MetricsRender) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let cli = C::Cli::parse();
    let name = C::Cli::command().get_name().to_owned();
    let config = match C::from_cli(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(2);
        }
    };
    if C::check_only(&cli) {
        println!("{name}: the configuration is valid");
        return ExitCode::SUCCESS;
    }
    telemetry::init_logs(C::log_format(&cli));
    let runtime = match crate::runtime(config.worker_threads()) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        crate::raise_open_file_limit();
        // Before anything records a metric, or it would go nowhere.
        let render = telemetry::init_metrics(C::PROCESS).map_err(|e| format!("metrics: {e}"))?;
        run(config, render).await.map_err(|e| format!("{e:#}"))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
