//! What the three server binaries share: configuration loading, the
//! listening socket, signals, logs and metrics, serving an edge's HTTP, and
//! the core's admin listener.
//! `chat` is the single node; `chat-core` and `chat-edge` are the cluster's
//! two kinds of process.

pub mod admin;
mod binary;
pub mod config;
pub mod core_cluster;
pub mod listen;
pub mod load;
pub mod load_report;
pub mod node_config;
pub mod serve;
pub mod signals;
pub mod telemetry;

pub use binary::{NodeConfig, run_binary};

/// Many connections need many file descriptors: use the hard limit.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open file limit"),
    }
}

/// A multi-threaded runtime with `threads` workers (0: one per core).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        builder.worker_threads(threads);
    }
    builder.enable_all().build()
}
