//! The delivery worker: one per core, for the outbox rows of the channels
//! that core owns (so the outbox moves with ownership). It takes each due
//! row with a claim (a crash mid-try leaves the row to be tried again when
//! the claim lapses), asks the member's settings whether it should notify
//! at all, and hands the notification to the target's provider; then
//! records the delivery, a retry with backoff, a dead letter, or the end of
//! a target its push service says is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::notification::{self, Notification};
use super::provider::{Outcome, Provider};
use super::rounds::{self, Deliveries, Pace};
use super::{PushConfig, retry};
use crate::ids::IdGenerator;
use crate::ownership::Ownership;
use crate::pipeline::now_ms;
use crate::store::{
    ChannelKind, Id, NotificationLevel, OutboxRecord, PushKind, Store, StoreError, StoreResult,
};

/// What the worker needs.
pub struct Worker<S> {
    /// The outbox and what notifications say.
    pub store: Arc<S>,
    /// Which channels' rows are this core's to deliver.
    pub ownership: Arc<dyn Ownership>,
    /// One provider per kind of target.
    pub providers: HashMap<PushKind, Arc<dyn Provider>>,
    /// Timing, retries, limits.
    pub config: PushConfig,
    /// Ids for dead letters.
    pub ids: Arc<Mutex<IdGenerator>>,
    /// Told when rows were queued.
    pub wake: Arc<Notify>,
}

impl<S: Store> Worker<S> {
    /// Delivers until `stop`; a try in flight then is finished first.
    pub async fn run(self, stop: CancellationToken) {
        let pace = Pace::new(&*self.ownership, &self.config, &self.wake);
        rounds::run(&self, pace, stop).await;
    }

    /// One try of one row.
    async fn attempt(&self, row: OutboxRecord) -> StoreResult<()> {
        let now = now_ms() as i64;
        let key = row.key();
        let config = &self.config;
        if !self
            .store
            .claim_push(key, row.due_at_ms, now + config.claim_ms as i64)
            .await?
        {
            return Ok(());
        }
        let next_due = now + config.min_interval_ms as i64;
        let Some(note) = self.notification(&row).await? else {
            // The member's settings say not to: nothing to send, done.
            metrics::counter!("chat_push_suppressed_total").increment(1);
            return self
                .store
                .push_delivered(key, row.messages, now, next_due)
                .await;
        };
        let outcome = match self.providers.get(&row.target.kind) {
            None => Outcome::Rejected(format!(
                "no {:?} provider is configured on this core",
                row.target.kind
            )),
            Some(provider) => {
                let timeout = Duration::from_millis(config.request_timeout_ms);
                tokio::time::timeout(timeout, provider.deliver(&row.target, &note))
                    .await
                    .unwrap_or_else(|_| Outcome::Retry {
                        after: None,
                        reason: "timed out".to_owned(),
                    })
            }
        };
        let kind = kind_label(row.target.kind);
        let now = now_ms() as i64;
        match outcome {
            Outcome::Delivered => {
                metrics::counter!("chat_push_delivered_total", "provider" => kind).increment(1);
                let waited = (now - row.pending_since_ms).max(0) as f64 / 1_000.0;
                metrics::histogram!("chat_push_delivery_seconds", "provider" => kind)
                    .record(waited);
                self.store
                    .push_delivered(key, row.messages, now, next_due)
                    .await
            }
            Outcome::Gone(reason) => {
                tracing::info!(target = row.target.id, %reason, "push target gone; removed");
                metrics::counter!("chat_push_targets_gone_total", "provider" => kind).increment(1);
                self.store
                    .delete_push_address(row.target.kind, &row.target.address)
                    .await
                    .map(drop)
            }
            Outcome::Retry { after, reason } => {
                let Some(due) =
                    retry::next_try(config, row.attempts, row.pending_since_ms, now, after)
                else {
                    return self
                        .dead(&row, format!("too old to retry; last: {reason}"))
                        .await;
                };
                let tries = row.attempts + 1;
                tracing::debug!(target = row.target.id, tries, %reason, in_ms = due - now, "push retried");
                metrics::counter!("chat_push_retried_total", "provider" => kind).increment(1);
                self.store.push_retry(key, due).await
            }
            Outcome::Rejected(reason) => self.dead(&row, reason).await,
        }
    }

    async fn dead(&self, row: &OutboxRecord, reason: String) -> StoreResult<()> {
        tracing::warn!(target = row.target.id, channel = row.channel_id, %reason, "push dead-lettered");
        let kind = kind_label(row.target.kind);
        metrics::counter!("chat_push_dead_letters_total", "provider" => kind).increment(1);
        let id = self
            .ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next(now_ms());
        self.store
            .push_dead(row.key(), row.messages, id, reason, now_ms() as i64)
            .await
    }

    /// What to send for `row`, or `None` if the member's settings say not
    /// to notify (a clear always goes: it removes what was shown).
    async fn notification(&self, row: &OutboxRecord) -> StoreResult<Option<Notification>> {
        let ttl = Duration::from_millis(
            (self.config.max_age_ms as i64 - (now_ms() as i64 - row.pending_since_ms)).max(60_000)
                as u64,
        );
        let mut note = Notification {
            channel_id: row.channel_id,
            channel_name: String::new(),
            messages: row.messages,
            mentions: row.mentions,
            message_id: row.last_message_id,
            sender: String::new(),
            preview: String::new(),
            urgent: row.mentions > 0,
            ttl,
        };
        if note.is_clear() {
            return Ok(Some(note));
        }
        let Some(channel) = self.store.channel(row.channel_id).await? else {
            return Ok(None);
        };
        let direct = channel.kind == ChannelKind::Direct;
        let settings = self.store.settings(row.target.user_id).await?;
        let wanted = match settings.notifications {
            NotificationLevel::Nothing => false,
            NotificationLevel::Mentions => direct || row.mentions > 0,
            NotificationLevel::All => true,
        };
        if !wanted || settings.muted_channel_ids.contains(&row.channel_id) {
            return Ok(None);
        }
        let sender = self
            .store
            .user_by_id(row.last_sender_id)
            .await?
            .map(|u| {
                if u.display_name.is_empty() {
                    u.username
                } else {
                    u.display_name
                }
            })
            .unwrap_or_default();
        let text = match self
            .store
            .message(row.channel_id, row.last_message_id)
            .await
        {
            Ok(Some(m)) if !m.deleted => notification::preview(&m.text),
            Ok(_) => String::new(),
            Err(StoreError::Backend(e)) => return Err(StoreError::Backend(e)),
            Err(_) => String::new(),
        };
        note.channel_name = if direct { sender.clone() } else { channel.name };
        note.sender = sender;
        note.preview = text;
        note.urgent |= direct;
        Ok(Some(note))
    }
}

/// The `provider` label of the push metrics.
fn kind_label(kind: PushKind) -> &'static str {
    match kind {
        PushKind::WebPush => "web_push",
        PushKind::Fcm => "fcm",
        PushKind::Apns => "apns",
    }
}

impl<S: Store> Deliveries for Worker<S> {
    type Row = OutboxRecord;
    const WHAT: &'static str = "push";

    async fn due(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxRecord>> {
        self.store.due_pushes(now_ms, limit).await
    }

    async fn next_due(&self) -> StoreResult<Option<i64>> {
        self.store.next_push_due().await
    }

    fn channel(row: &OutboxRecord) -> Id {
        row.channel_id
    }

    async fn try_row(&self, row: OutboxRecord) -> StoreResult<()> {
        self.attempt(row).await
    }
}
