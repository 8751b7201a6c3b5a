//! Logs and metrics for the process.

use std::io::IsTerminal;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Logs go to stderr; `RUST_LOG` filters them (default `info`).
pub fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Which parts of the service a process runs, and so which series it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// `chat`: core and edge in one process.
    Single,
    /// `chat-core`: storage, ordering, presence.
    Core,
    /// `chat-edge`: clients' connections.
    Edge,
}

impl Process {
    fn runs_core(self) -> bool {
        matches!(self, Process::Single | Process::Core)
    }

    fn runs_edge(self) -> bool {
        matches!(self, Process::Single | Process::Edge)
    }
}

/// Installs the Prometheus recorder for `process` and returns its renderer.
pub fn init_metrics(process: Process) -> Result<chat_edge::MetricsRender, BuildError> {
    let latency = [
        0.000_25, 0.000_5, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
        1.0,
    ];
    let batch = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("chat_storage_append_seconds".into()),
            &latency,
        )?
        .set_buckets_for_metric(
            Matcher::Full("chat_storage_checkpoint_seconds".into()),
            &latency,
        )?
        .set_buckets_for_metric(
            Matcher::Full("chat_storage_append_batch_size".into()),
            &batch,
        )?
        .install_recorder()?;
    describe();
    zero(process);
    Ok(std::sync::Arc::new(move || handle.render()))
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("chat_ws_connections", "Open WebSocket connections.");
    describe_counter!("chat_ws_frames_in_total", "Frames received from clients.");
    describe_counter!("chat_ws_frames_out_total", "Frames sent to clients.");
    describe_counter!(
        "chat_ws_deliveries_total",
        "Event frames queued for sessions."
    );
    describe_counter!("chat_ws_closed_total", "Closed connections, by reason.");
    describe_gauge!("chat_wt_connections", "Open WebTransport sessions.");
    describe_counter!(
        "chat_wt_frames_in_total",
        "Frames received from WebTransport clients."
    );
    describe_counter!(
        "chat_wt_frames_out_total",
        "Frames sent to WebTransport clients."
    );
    describe_counter!(
        "chat_wt_closed_total",
        "Closed WebTransport sessions, by reason."
    );
    describe_counter!(
        "chat_wt_refused_total",
        "WebTransport sessions refused, by reason."
    );
    describe_counter!(
        "chat_ws_slow_consumers_total",
        "Sessions closed for reading too slowly."
    );
    describe_counter!("chat_messages_stored_total", "Messages written durably.");
    describe_gauge!("chat_presence_online_users", "Users online on any device.");
    describe_gauge!(
        "chat_ws_sessions_registered",
        "Authenticated sessions receiving events."
    );
    describe_histogram!(
        "chat_storage_append_seconds",
        "Time to write one batch of messages durably."
    );
    describe_histogram!(
        "chat_storage_checkpoint_seconds",
        "Time to copy the write-ahead log back into the database, by where it ran."
    );
    describe_histogram!(
        "chat_storage_append_batch_size",
        "Messages per durable batch write."
    );
    describe_counter!(
        "chat_push_queued_total",
        "Push outbox rows a message counted into (new or coalesced)."
    );
    describe_counter!(
        "chat_push_delivered_total",
        "Notifications push services took, by provider."
    );
    describe_counter!(
        "chat_push_retried_total",
        "Failed delivery tries scheduled again, by provider."
    );
    describe_counter!(
        "chat_push_dead_letters_total",
        "Notifications given up and kept as dead letters, by provider."
    );
    describe_counter!(
        "chat_push_targets_gone_total",
        "Push targets removed because their service said they are gone, by provider."
    );
    describe_counter!(
        "chat_push_suppressed_total",
        "Due notifications not sent because the member muted the channel or turned them off."
    );
    describe_counter!(
        "chat_push_queue_failures_total",
        "Notifications lost because the outbox could not be written."
    );
    describe_histogram!(
        "chat_push_delivery_seconds",
        "Time from a notification becoming pending to its delivery, by provider."
    );
}

/// Exports every series of `process` from the start, so dashboards see
/// zeros rather than gaps. A process leaves out the series of the part it
/// does not run: an edge showing `chat_messages_stored_total 0` forever
/// would hide where the real count is.
fn zero(process: Process) {
    if process.runs_edge() {
        metrics::gauge!("chat_ws_connections").set(0.0);
        metrics::gauge!("chat_wt_connections").set(0.0);
        for name in [
            "chat_wt_frames_in_total",
            "chat_wt_frames_out_total",
            "chat_ws_frames_in_total",
            "chat_ws_frames_out_total",
            "chat_ws_deliveries_total",
            "chat_ws_slow_consumers_total",
        ] {
            metrics::counter!(name).increment(0);
        }
    }
    if process.runs_core() {
        metrics::gauge!("chat_presence_online_users").set(0.0);
        metrics::counter!("chat_messages_stored_total").increment(0);
        for name in [
            "chat_push_queued_total",
            "chat_push_suppressed_total",
            "chat_push_queue_failures_total",
        ] {
            metrics::counter!(name).increment(0);
        }
    }
}
