//! The webhook worker: one per core, for the deliveries of the channels
//! that core owns. Each due row is claimed (a crash mid-try leaves it to
//! be tried again when the claim lapses), signed, posted, and then removed,
//! retried with backoff, or kept as a dead letter: at least once, each
//! delivery with the same id on every try.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chat_protocol::{ServerFrame, webhook};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::convert;
use crate::ownership::Ownership;
use crate::pipeline::now_ms;
use crate::push::provider::{self, Outcome};
use crate::push::rounds::{self, Deliveries, Pace};
use crate::push::{PushConfig, retry};
use crate::store::{HookKind, HookRecord, Id, Store, StoreError, StoreResult};

/// What the worker needs.
pub struct HookWorker<S> {
    /// The outbox, and the messages it delivers.
    pub store: Arc<S>,
    /// Which channels' rows are this core's to deliver.
    pub ownership: Arc<dyn Ownership>,
    /// The client deliveries are posted with.
    pub client: reqwest::Client,
    /// Timing, retries, limits (those of push notifications).
    pub config: PushConfig,
    /// Whether URLs may name non-public addresses.
    pub allow_private: bool,
    /// Told when rows were queued.
    pub wake: Arc<Notify>,
}

impl<S: Store> HookWorker<S> {
    /// Delivers until `stop`; a try in flight then is finished first.
    pub async fn run(self, stop: CancellationToken) {
        let pace = Pace::new(&*self.ownership, &self.config, &self.wake);
        rounds::run(&self, pace, stop).await;
    }

    /// One try of one row.
    async fn attempt(&self, row: HookRecord) -> StoreResult<()> {
        let now = now_ms() as i64;
        let claim_until = now + self.config.claim_ms as i64;
        if !self
            .store
            .claim_hook(row.key, row.due_at_ms, claim_until)
            .await?
        {
            return Ok(());
        }
        let Some(body) = self.body(&row).await? else {
            // The message is gone (deleted, or its channel): nothing to say.
            return self.store.hook_delivered(row.key).await;
        };
        let outcome = self.post(&row, body).await;
        let now = now_ms() as i64;
        match outcome {
            Outcome::Delivered => {
                metrics::counter!("chat_webhook_delivered_total").increment(1);
                let waited = (now - row.created_at_ms).max(0) as f64 / 1_000.0;
                metrics::histogram!("chat_webhook_delivery_seconds").record(waited);
                self.store.hook_delivered(row.key).await
            }
            Outcome::Retry { after, reason } => {
                let Some(due) =
                    retry::next_try(&self.config, row.attempts, row.created_at_ms, now, after)
                else {
                    return self
                        .dead(&row, format!("too old to retry; last: {reason}"))
                        .await;
                };
                metrics::counter!("chat_webhook_retried_total").increment(1);
                self.store.hook_retry(row.key, due, reason).await
            }
            Outcome::Gone(reason) | Outcome::Rejected(reason) => self.dead(&row, reason).await,
        }
    }

    async fn dead(&self, row: &HookRecord, reason: String) -> StoreResult<()> {
        tracing::warn!(bot = row.key.bot_id, event = row.key.event_id, %reason, "webhook dead-lettered");
        metrics::counter!("chat_webhook_dead_letters_total").increment(1);
        self.store.hook_dead(row.key, reason, now_ms() as i64).await
    }

    /// What to post: a command as it was queued, a message as it is now
    /// (`None` once it was deleted).
    async fn body(&self, row: &HookRecord) -> StoreResult<Option<String>> {
        if row.kind == HookKind::Command {
            return Ok(Some(row.body.clone()));
        }
        match self.store.message(row.channel_id, row.key.event_id).await {
            Ok(Some(m)) if !m.deleted => {
                let frame = ServerFrame::Message {
                    message: convert::message(&m).into(),
                };
                Ok(Some(frame.encode().to_string()))
            }
            Ok(_) => Ok(None),
            Err(StoreError::Backend(e)) => Err(StoreError::Backend(e)),
            Err(_) => Ok(None),
        }
    }

    /// Signs and posts `body` once.
    async fn post(&self, row: &HookRecord, body: String) -> Outcome {
        if row.url.is_empty() {
            return Outcome::Rejected("the bot's webhook was removed".to_owned());
        }
        if let Err(e) = super::check_url(&row.url, self.allow_private) {
            return Outcome::Rejected(e.to_string());
        }
        let id = row.key.event_id.to_string();
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let signature = match webhook::sign(&row.secret, &id, at, body.as_bytes()) {
            Ok(signature) => signature,
            Err(e) => return Outcome::Rejected(e.to_string()),
        };
        let request = self
            .client
            .post(&row.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(webhook::ID_HEADER, &id)
            .header(webhook::TIMESTAMP_HEADER, at.to_string())
            .header(webhook::SIGNATURE_HEADER, signature)
            .header(webhook::BOT_HEADER, row.key.bot_id.to_string())
            .body(body);
        match provider::exchange(request).await {
            Ok((status, retry_after, text)) => {
                match provider::by_status(status, retry_after, &text) {
                    // A receiver's 404 or 410 is its answer, not a device gone.
                    Outcome::Gone(reason) => Outcome::Rejected(reason),
                    other => other,
                }
            }
            Err(outcome) => outcome,
        }
    }
}

impl<S: Store> Deliveries for HookWorker<S> {
    type Row = HookRecord;
    const WHAT: &'static str = "webhook";

    async fn due(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<HookRecord>> {
        self.store.due_hooks(now_ms, limit).await
    }

    async fn next_due(&self) -> StoreResult<Option<i64>> {
        self.store.next_hook_due().await
    }

    fn channel(row: &HookRecord) -> Id {
        row.channel_id
    }

    async fn try_row(&self, row: HookRecord) -> StoreResult<()> {
        self.attempt(row).await
    }
}
