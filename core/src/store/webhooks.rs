//! Bots' outgoing webhooks and their outbox: one row per bot and event (a
//! channel message, a slash command), delivered at least once, each on its
//! own, retried until it is answered or too old. A row given up stays, as
//! a dead letter, until an operator removes it.

use std::future::Future;

use super::{Id, StoreResult};

/// Where a bot's events are posted, and the secret that signs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The bot.
    pub bot_id: Id,
    /// An `http(s)` URL.
    pub url: String,
    /// The HMAC-SHA256 key of its signatures.
    pub secret: String,
    /// When it was last set, Unix ms.
    pub updated_at_ms: i64,
}

/// What an outbox row delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    /// A message stored in the channel (its body is read when delivered).
    Message,
    /// A slash command addressed to the bot (its body is stored).
    Command,
}

impl HookKind {
    /// Its stored code.
    pub fn code(self) -> i16 {
        match self {
            Self::Message => 1,
            Self::Command => 2,
        }
    }

    /// The kind a stored code names (commands for anything unknown, which
    /// carry their body).
    pub fn from_code(code: i64) -> Self {
        if code == 1 {
            Self::Message
        } else {
            Self::Command
        }
    }
}

/// An event to deliver to bots' webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    /// The message's or command's id: the delivery's id for its bot.
    pub event_id: Id,
    /// The channel it happened in (whose owner delivers it).
    pub channel_id: Id,
    /// Who caused it; their own bot never gets it.
    pub sender_id: Id,
    /// Message or command.
    pub kind: HookKind,
    /// The one bot it is for, or 0: every member of the channel with a webhook.
    pub to: Id,
    /// The body to post, for a command; empty for a message.
    pub body: String,
}

/// Which row: a bot's delivery of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HookKey {
    /// The bot.
    pub bot_id: Id,
    /// The event.
    pub event_id: Id,
}

/// One outbox row, with the webhook it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRecord {
    /// The bot and the event.
    pub key: HookKey,
    /// The channel.
    pub channel_id: Id,
    /// Message or command.
    pub kind: HookKind,
    /// A command's body; empty for a message.
    pub body: String,
    /// The webhook's URL (as it is now).
    pub url: String,
    /// Its secret.
    pub secret: String,
    /// When the row was queued, Unix ms (the age that dead-letters it).
    pub created_at_ms: i64,
    /// When it is next tried.
    pub due_at_ms: i64,
    /// Tries so far.
    pub attempts: u32,
    /// Why the last try failed; empty before any failed.
    pub error: String,
    /// When it was given up, or 0 while it is pending.
    pub dead_at_ms: i64,
}

/// Webhooks and their outbox. Every method is atomic; a write that returns
/// `Ok` is durable.
pub trait WebhookStore: Send + Sync + 'static {
    /// Sets the bot's webhook, or with `None` removes it and its pending
    /// deliveries (dead letters stay).
    fn set_webhook(
        &self,
        bot: Id,
        hook: Option<Webhook>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The bot's webhook, if it has one.
    fn webhook(&self, bot: Id) -> impl Future<Output = StoreResult<Option<Webhook>>> + Send;
    /// Queues each event for its bot (`to`), or for every bot with a
    /// webhook that is a member of its channel and not its sender; due at
    /// `now_ms`. An event already queued for a bot is not queued again.
    /// Returns the rows written.
    fn queue_hooks(
        &self,
        events: Vec<HookEvent>,
        now_ms: i64,
    ) -> impl Future<Output = StoreResult<usize>> + Send;
    /// Up to `limit` pending rows due at `now_ms`, soonest first.
    fn due_hooks(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<HookRecord>>> + Send;
    /// When the soonest pending row falls due, if any.
    fn next_hook_due(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
    /// Takes the row for one try, as [`super::OutboxStore::claim_push`] does.
    fn claim_hook(
        &self,
        key: HookKey,
        seen_due_ms: i64,
        until_ms: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// The row was delivered (or has nothing to deliver): it goes.
    fn hook_delivered(&self, key: HookKey) -> impl Future<Output = StoreResult<()>> + Send;
    /// The try failed with `error`; the row is tried again at `due_ms`.
    fn hook_retry(
        &self,
        key: HookKey,
        due_ms: i64,
        error: String,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Gives the row up at `now_ms`: it stays as a dead letter.
    fn hook_dead(
        &self,
        key: HookKey,
        error: String,
        now_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The newest dead letters, up to `limit`, newest first.
    fn dead_hooks(&self, limit: usize)
    -> impl Future<Output = StoreResult<Vec<HookRecord>>> + Send;
}
