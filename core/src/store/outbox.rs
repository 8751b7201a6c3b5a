//! The push outbox: notifications waiting to be delivered, one row per push
//! target and channel, so a burst of messages in a channel becomes one
//! notification with a count, each target retries on its own, and a row
//! outlives a restart or a kill of the process that queued it.
//!
//! A row counts the channel's messages since the member last read it
//! (`messages`) and how many of them the last delivered notification
//! counted (`sent_messages`). It is pending while the two differ: new
//! messages, or a read that must clear a delivered notification
//! (`messages` 0). A row not pending has `due_at_ms` [`NEVER`].

use std::future::Future;

use super::{Id, PushTargetRecord, StoreResult};

/// `due_at_ms` of a row with nothing to deliver.
pub const NEVER: i64 = i64::MAX;

/// One stored message to notify an offline member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPush {
    /// The member to notify (each of their targets gets a row).
    pub user_id: Id,
    /// The message's channel.
    pub channel_id: Id,
    /// The message.
    pub message_id: Id,
    /// Its author.
    pub sender_id: Id,
    /// Whether it mentions the member.
    pub mentioned: bool,
}

/// When queued rows fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxTiming {
    /// Now, in Unix milliseconds.
    pub now_ms: i64,
    /// How long the first message of a burst waits for more.
    pub coalesce_ms: i64,
    /// Least time between two notifications of one row.
    pub min_interval_ms: i64,
}

/// Which row: a push target's notification of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutboxKey {
    /// The push target.
    pub target_id: Id,
    /// The channel.
    pub channel_id: Id,
}

/// One outbox row with its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// The target it goes to (and whose user it notifies).
    pub target: PushTargetRecord,
    /// The channel.
    pub channel_id: Id,
    /// Messages since the member last read the channel; 0 after a read.
    pub messages: u32,
    /// How many of them mention the member.
    pub mentions: u32,
    /// What the last delivered notification counted (0: none delivered).
    pub sent_messages: u32,
    /// The newest message counted.
    pub last_message_id: Id,
    /// Its author.
    pub last_sender_id: Id,
    /// When it last became pending (the age that dead-letters it).
    pub pending_since_ms: i64,
    /// When it is next tried.
    pub due_at_ms: i64,
    /// Tries since it last became pending.
    pub attempts: u32,
}

impl OutboxRecord {
    /// Its key.
    pub fn key(&self) -> OutboxKey {
        OutboxKey {
            target_id: self.target.id,
            channel_id: self.channel_id,
        }
    }
}

/// A notification given up on, kept for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id (ascending in time).
    pub id: Id,
    /// The target it was for.
    pub target_id: Id,
    /// Whom it would have notified.
    pub user_id: Id,
    /// The channel.
    pub channel_id: Id,
    /// The messages it counted.
    pub messages: u32,
    /// The newest of them.
    pub last_message_id: Id,
    /// Tries made.
    pub attempts: u32,
    /// Why the last one failed.
    pub error: String,
    /// When it became pending.
    pub pending_since_ms: i64,
    /// When it was given up.
    pub dead_at_ms: i64,
}

/// The outbox. Every method is atomic; a write that returns `Ok` is durable.
pub trait OutboxStore: Send + Sync + 'static {
    /// Counts each message into the rows of its member's targets, creating
    /// them (due after `coalesce_ms`) where there are none. A row that was
    /// not pending becomes due after `coalesce_ms`, and no sooner than
    /// `min_interval_ms` after its last delivery. A message at or below a
    /// row's newest is not counted again. Returns the rows touched.
    fn queue_pushes(
        &self,
        pushes: Vec<QueuedPush>,
        timing: OutboxTiming,
    ) -> impl Future<Output = StoreResult<usize>> + Send;
    /// Up to `limit` rows due at `now_ms`, soonest first.
    fn due_pushes(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<OutboxRecord>>> + Send;
    /// When the soonest row falls due, if any is pending.
    fn next_push_due(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
    /// Takes the row for one try: if it is still due at `seen_due_ms`, it
    /// becomes due at `until_ms` (tried again then, should this try never
    /// finish) and counts the try. False if another worker took it first
    /// or it changed.
    fn claim_push(
        &self,
        key: OutboxKey,
        seen_due_ms: i64,
        until_ms: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// A notification counting `sent_messages` was delivered at `now_ms`:
    /// the row is done, or due at `next_due_ms` if messages came since; a
    /// delivered clear (0) removes the row.
    fn push_delivered(
        &self,
        key: OutboxKey,
        sent_messages: u32,
        now_ms: i64,
        next_due_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The try failed and the row is tried again at `due_ms`.
    fn push_retry(
        &self,
        key: OutboxKey,
        due_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Gives up the notification that counted `tried` messages: a dead
    /// letter records it, and the row leaves the outbox, unless messages
    /// came meanwhile: then it stays, due at once, to notify of them all.
    fn push_dead(
        &self,
        key: OutboxKey,
        tried: u32,
        letter_id: Id,
        error: String,
        now_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// `user` read `channel` up to `upto`: rows counting nothing newer are
    /// cleared, removed if nothing was delivered, else due at `now_ms` to
    /// clear the delivered notification.
    fn clear_pushes(
        &self,
        user: Id,
        channel: Id,
        upto: Id,
        now_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The newest dead letters, up to `limit`, newest first.
    fn dead_letters(
        &self,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<DeadLetter>>> + Send;
}
