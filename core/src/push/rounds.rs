//! The loop every outbox worker runs (push notifications, webhooks): look
//! at the due rows, try those of the channels this core owns, a few at a
//! time, and sleep until the next falls due, new rows are queued, or the
//! poll interval passes.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::ownership::Ownership;
use crate::pipeline::now_ms;
use crate::store::{Id, StoreResult};

/// Rows read per look at an outbox.
const BATCH: usize = 256;

/// One outbox and how a try of one of its rows goes.
pub trait Deliveries: Send + Sync {
    /// A row.
    type Row: Send;
    /// What the log calls it.
    const WHAT: &'static str;
    /// Up to `limit` rows due at `now_ms`, soonest first.
    fn due(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;
    /// When the soonest row falls due, if any.
    fn next_due(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
    /// The channel whose owner delivers `row`.
    fn channel(row: &Self::Row) -> Id;
    /// One try of `row`, its outcome recorded.
    fn try_row(&self, row: Self::Row) -> impl Future<Output = StoreResult<()>> + Send;
}

/// How a worker paces itself.
pub struct Pace<'a> {
    /// Which channels' rows are this core's.
    pub ownership: &'a dyn Ownership,
    /// Rows tried at once.
    pub concurrency: usize,
    /// The longest sleep.
    pub poll: Duration,
    /// Told when rows were queued.
    pub wake: &'a Notify,
}

impl<'a> Pace<'a> {
    /// The pace `config` sets (push notifications and webhooks share it).
    pub fn new(ownership: &'a dyn Ownership, config: &super::PushConfig, wake: &'a Notify) -> Self {
        Self {
            ownership,
            concurrency: config.concurrency,
            poll: Duration::from_millis(config.poll_ms),
            wake,
        }
    }
}

/// Delivers until `stop`; a try in flight then is finished first.
pub async fn run<D: Deliveries>(d: &D, pace: Pace<'_>, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let wait = match round(d, &pace).await {
            Ok(Some(wait)) => wait.min(pace.poll),
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, outbox = D::WHAT, "outbox not read");
                pace.poll
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = pace.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Tries the due rows this core owns; `None` to look again at once, else
/// how long there is nothing to do.
async fn round<D: Deliveries>(d: &D, pace: &Pace<'_>) -> StoreResult<Option<Duration>> {
    let now = now_ms() as i64;
    let due = d.due(now, BATCH).await?;
    let seen = due.len();
    let mine: Vec<D::Row> = due
        .into_iter()
        .filter(|row| pace.ownership.fence(D::channel(row)).is_ok())
        .collect();
    if mine.is_empty() {
        if seen > 0 {
            // Due, but other cores' to deliver.
            return Ok(Some(pace.poll));
        }
        let next = d.next_due().await?;
        let wait = next.map_or(u64::MAX, |at| at.saturating_sub(now).max(1) as u64);
        return Ok(Some(Duration::from_millis(wait)));
    }
    futures::stream::iter(mine)
        .for_each_concurrent(pace.concurrency, |row| async move {
            if let Err(e) = d.try_row(row).await {
                tracing::warn!(error = %e, outbox = D::WHAT, "outcome not recorded; tried again later");
            }
        })
        .await;
    Ok(if seen == BATCH {
        None
    } else {
        Some(Duration::ZERO)
    })
}
