//! The outbox writer: the write path hands it, after each durable batch,
//! the messages to notify offline members of and the messages bots'
//! webhooks get, and it writes them into the outboxes in one transaction
//! each per gathering, beside the write path rather than in it, so
//! acknowledgements never wait for the outbox.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use super::PushConfig;
use crate::pipeline::now_ms;
use crate::store::{HookEvent, OutboxTiming, QueuedPush, Store};

/// Most pushes counted in one transaction.
const BATCH_MAX: usize = 4_096;

/// What one durable batch leaves to deliver.
#[derive(Debug, Default)]
pub struct Outgoing {
    /// Notifications for offline members.
    pub pushes: Vec<QueuedPush>,
    /// Messages for bots' webhooks.
    pub hooks: Vec<HookEvent>,
}

impl Outgoing {
    fn len(&self) -> usize {
        self.pushes.len() + self.hooks.len()
    }

    fn extend(&mut self, more: Outgoing) {
        self.pushes.extend(more.pushes);
        self.hooks.extend(more.hooks);
    }
}

/// Who the writer wakes: the push worker, the webhook worker.
#[derive(Clone, Default)]
pub struct Wakes {
    /// Told when notifications were queued.
    pub push: Arc<Notify>,
    /// Told when webhook deliveries were queued.
    pub hooks: Arc<Notify>,
}

/// The handle the write path offers pushes through.
#[derive(Clone)]
pub struct PushQueue {
    tx: mpsc::Sender<Outgoing>,
}

impl PushQueue {
    /// Starts the writer; it ends once every handle is dropped, after
    /// writing what was offered. `wake` is told when rows were written.
    pub fn start<S: Store>(
        store: Arc<S>,
        config: &PushConfig,
        wake: Wakes,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(1_024);
        let timing = (config.coalesce_ms as i64, config.min_interval_ms as i64);
        (Self { tx }, tokio::spawn(run(store, rx, timing, wake)))
    }

    /// Queues `out`; waits while the writer is behind, so a slow outbox
    /// slows the write path instead of losing deliveries.
    pub async fn offer(&self, out: Outgoing) {
        if out.len() == 0 {
            return;
        }
        if self.tx.send(out).await.is_err() {
            tracing::error!("push outbox writer gone; notifications not queued");
        }
    }
}

async fn run<S: Store>(
    store: Arc<S>,
    mut rx: mpsc::Receiver<Outgoing>,
    (coalesce_ms, min_interval_ms): (i64, i64),
    wake: Wakes,
) {
    while let Some(mut batch) = rx.recv().await {
        while batch.len() < BATCH_MAX {
            match rx.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        let Outgoing { pushes, hooks } = batch;
        if !pushes.is_empty() {
            write(&*store, pushes, (coalesce_ms, min_interval_ms), &wake.push).await;
        }
        if !hooks.is_empty() {
            write_hooks(&*store, hooks, &wake.hooks).await;
        }
    }
}

/// Queues `hooks` for their bots, trying again twice when storage fails.
async fn write_hooks<S: Store>(store: &S, hooks: Vec<HookEvent>, wake: &Notify) {
    let offered = hooks.len();
    with_retries(HOOKS, offered, wake, || {
        store.queue_hooks(hooks.clone(), now_ms() as i64)
    })
    .await;
}

/// Counts `batch` into the outbox, trying again twice when storage fails.
async fn write<S: Store>(
    store: &S,
    batch: Vec<QueuedPush>,
    (coalesce_ms, min_interval_ms): (i64, i64),
    wake: &Notify,
) {
    let offered = batch.len();
    with_retries(PUSHES, offered, wake, || {
        let timing = OutboxTiming {
            now_ms: now_ms() as i64,
            coalesce_ms,
            min_interval_ms,
        };
        store.queue_pushes(batch.clone(), timing)
    })
    .await;
}

/// What an outbox is called in logs and metrics.
struct Outbox {
    what: &'static str,
    queued: &'static str,
    failures: &'static str,
}

const PUSHES: Outbox = Outbox {
    what: "push notifications",
    queued: "chat_push_queued_total",
    failures: "chat_push_queue_failures_total",
};

const HOOKS: Outbox = Outbox {
    what: "webhook deliveries",
    queued: "chat_webhook_queued_total",
    failures: "chat_webhook_queue_failures_total",
};

/// Runs `queue` until it succeeds, three tries at most with a pause that
/// grows fourfold from 100 ms; counts the rows it wrote and wakes `wake`
/// when there were any. After the last failure the `offered` deliveries
/// are counted as lost (their messages are stored; only the deliveries go).
async fn with_retries<F, Fut, E>(outbox: Outbox, offered: usize, wake: &Notify, mut queue: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    let mut pause = std::time::Duration::from_millis(100);
    for tries_left in (0..3).rev() {
        match queue().await {
            Ok(rows) => {
                metrics::counter!(outbox.queued).increment(rows as u64);
                if rows > 0 {
                    wake.notify_one();
                }
                return;
            }
            Err(e) if tries_left > 0 => {
                tracing::warn!(error = %e, offered, "{} not queued yet; again", outbox.what);
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
            Err(e) => {
                tracing::error!(error = %e, offered, "{} not queued", outbox.what);
                metrics::counter!(outbox.failures).increment(offered as u64);
            }
        }
    }
}
