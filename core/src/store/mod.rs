//! The storage boundary, split by concern so that one backend can hold
//! some parts and another the rest:
//!
//! - [`AccountStore`]: users, tokens, profiles, settings and relationships;
//! - [`ChannelStore`]: channels, their members and read positions;
//! - [`MessageStore`]: message history, edits, versions, unread counts;
//! - [`PushStore`]: the devices' push targets, and [`OutboxStore`]: the
//!   notifications waiting for them;
//! - [`WebhookStore`]: bots' webhooks and the deliveries waiting for them.
//!
//! [`Store`] is all of them plus `flush`, and is what the core runs on. SQLite
//! and PostgreSQL implement every part; a later Cassandra/ScyllaDB backend
//! implements only [`MessageStore`] beside PostgreSQL for the rest. Every
//! backend passes [`contract`].

use std::future::Future;

mod accounts;
mod channels;
#[cfg(any(test, feature = "contract"))]
pub mod contract;
mod floors;
mod mention_text;
mod messages;
mod outbox;
pub mod postgres;
mod push;
mod records;
pub mod sqlite;
mod webhooks;

pub use accounts::AccountStore;
pub use channels::ChannelStore;
pub(crate) use floors::ChannelFloors;
pub use messages::{Fence, MessageStore};
pub use outbox::{
    DeadLetter, NEVER, OutboxKey, OutboxRecord, OutboxStore, OutboxTiming, QueuedPush,
};
pub use push::{PushKind, PushStore, PushTargetRecord};
pub use records::{
    Appended, ChannelKind, ChannelRecord, HistoryAnchor, HistoryPage, MemberRecord,
    MembershipChange, Mention, MessageChange, MessageRecord, NewMessage, NotificationLevel,
    ProfileChange, ReadState, RelationChange, RelationKind, RelationRecord, Role, SettingsRecord,
    TokenFilter, TokenRecord, UNREAD_CAP, UserRecord, VersionRecord,
};
pub use webhooks::{HookEvent, HookKey, HookKind, HookRecord, Webhook, WebhookStore};

/// A user, channel or message id.
pub type Id = u64;

/// What can go wrong in a storage backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. a username already taken).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The backend failed; the operation had no effect.
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// The writer's [`Fence`] is not the channel's owner: another node
    /// holds it, at the epoch given. Nothing was written.
    #[error("channel {channel} is owned by node {owner} at epoch {epoch}")]
    Fenced {
        /// The channel written to.
        channel: Id,
        /// The node that holds it now.
        owner: u64,
        /// Its ownership epoch.
        epoch: u64,
    },
}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Durable state of the chat system: the parts, and what needs all
/// of them. Every method of every part is atomic; a method that returns
/// `Ok` after a write has made that write durable.
pub trait Store:
    AccountStore
    + ChannelStore
    + MessageStore
    + PushStore
    + OutboxStore
    + WebhookStore
    + Send
    + Sync
    + 'static
{
    /// Makes everything written so far durable and releases what can be.
    fn flush(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Moves a read position forward to `message_id` (never back) and
    /// returns the position now stored with its unread count: the position
    /// from [`ChannelStore`], the counts from [`MessageStore`].
    fn mark_read(
        &self,
        user: Id,
        channel: Id,
        message_id: Id,
    ) -> impl Future<Output = StoreResult<ReadState>> + Send {
        async move {
            let last_read_id = self.advance_read(user, channel, message_id).await?;
            let mut states = self
                .unread_counts(user, vec![(channel, last_read_id)])
                .await?;
            states
                .pop()
                .ok_or_else(|| StoreError::Backend("no read state was counted".into()))
        }
    }

    /// The read state of every channel the user is a member of, by channel id.
    fn read_states(&self, user: Id) -> impl Future<Output = StoreResult<Vec<ReadState>>> + Send {
        async move {
            let positions = self.read_positions(user).await?;
            self.unread_counts(user, positions).await
        }
    }

    /// The node-level id floor: every id this node issues for a user, token
    /// or channel exceeds it, so that a
    /// clock that stepped back across a restart cannot issue one twice. It
    /// covers the accounts and channels parts and, for a backend that needs
    /// it, [`MessageStore::global_message_floor`]. Message and version ids are
    /// floored per channel instead ([`MessageStore::last_message_id`]): no global
    /// scan of the message history is ever needed.
    fn id_floor(&self) -> impl Future<Output = StoreResult<Id>> + Send {
        async move {
            let accounts = self.max_account_id().await?;
            let channels = self.max_channel_id().await?;
            let messages = self.global_message_floor().await?;
            Ok(accounts.max(channels).max(messages))
        }
    }
}
