//! The messages part of storage: history, edits and their versions,
//! mentions and unread counts.

use std::future::Future;

use super::{
    Appended, HistoryAnchor, HistoryPage, Id, MessageChange, MessageRecord, NewMessage, ReadState,
    StoreResult, VersionRecord,
};

/// The writer's claim to append: which owner writes, in which epoch of its
/// ownership of the channels it writes.
///
/// A backend that many nodes write (PostgreSQL) keeps, per channel, the
/// owner and epoch of the last [claim](MessageStore::claim_channel), and
/// `append` checks in its own transaction that the fence is that claim,
/// holding the claim row so that no newer claim commits until the append
/// does. A newer claim (a larger epoch, or the same owner again) replaces
/// the old one; then the old owner's appends are refused with
/// [`StoreError::Fenced`](super::StoreError::Fenced), and the new owner,
/// which reads the channel's last id in the claim's transaction, sees every
/// append the old owner committed. So two owners never both commit, and ids
/// keep increasing across owners. A backend one node alone writes (SQLite)
/// checks nothing. A node that owns every channel for good passes
/// [`Fence::single_node`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fence {
    /// The writing node.
    pub owner: u64,
    /// The writer's ownership epoch; larger is newer.
    pub epoch: u64,
}

impl Fence {
    /// The fence of a node that owns every channel, for good: epoch 0.
    pub fn single_node(node: u16) -> Self {
        Self {
            owner: u64::from(node),
            epoch: 0,
        }
    }
}

/// Message history, keyed by channel and message id. This is the part a
/// dedicated message backend (Cassandra/ScyllaDB) implements on its own.
/// Every method is atomic; a write that returns `Ok` is durable.
pub trait MessageStore: Send + Sync + 'static {
    /// Writes messages durably, in order, in one atomic batch, with their
    /// mentions, as the writer `fence` names: refused with
    /// [`StoreError::Fenced`](super::StoreError::Fenced), writing nothing,
    /// where a backend checks fences and `fence` is not the last claim of
    /// every channel of the batch (see [`Fence`]). A message whose
    /// `(channel, sender, client_msg_id)` exists (stored before, or earlier
    /// in the same batch) is not written; the stored one comes back as
    /// `Duplicate`. Each message's id exceeds every
    /// id its channel held ([`MessageStore::last_message_id`]).
    fn append(
        &self,
        fence: Fence,
        batch: Vec<NewMessage>,
    ) -> impl Future<Output = StoreResult<Vec<Appended>>> + Send;
    /// A page of a channel's history, oldest first.
    fn history(
        &self,
        channel: Id,
        anchor: HistoryAnchor,
        limit: usize,
    ) -> impl Future<Output = StoreResult<HistoryPage>> + Send;
    /// One message.
    fn message(
        &self,
        channel: Id,
        id: Id,
    ) -> impl Future<Output = StoreResult<Option<MessageRecord>>> + Send;
    /// Edits or deletes a message, stamping it with `version` (a fresh id),
    /// and returns it; `None` if it does not exist.
    fn update_message(
        &self,
        channel: Id,
        id: Id,
        change: MessageChange,
        at_ms: i64,
        version: Id,
    ) -> impl Future<Output = StoreResult<Option<MessageRecord>>> + Send;
    /// Every text a message has had, oldest first, the current one last;
    /// empty if there is no such message or it was deleted.
    fn versions(
        &self,
        channel: Id,
        id: Id,
    ) -> impl Future<Output = StoreResult<Vec<VersionRecord>>> + Send;
    /// Up to `limit` messages of `channel` changed with a version above
    /// `after_version`, in version order.
    fn changes(
        &self,
        channel: Id,
        after_version: Id,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<MessageRecord>>> + Send;
    /// The read state of `user` at each `(channel, position)`, in the order
    /// given: the messages from others after the position that are not
    /// deleted, and of those the ones that mention the user, each counted up
    /// to [`UNREAD_CAP`](super::UNREAD_CAP).
    fn unread_counts(
        &self,
        user: Id,
        positions: Vec<(Id, Id)>,
    ) -> impl Future<Output = StoreResult<Vec<ReadState>>> + Send;
    /// The newest message of each channel that is not deleted, for channels
    /// that have one, in the order given; its text is cut to its first
    /// `chars + 1` characters, so a caller can tell a text longer than
    /// `chars` without reading all of it.
    fn latest_messages(
        &self,
        channels: Vec<Id>,
        chars: usize,
    ) -> impl Future<Output = StoreResult<Vec<MessageRecord>>> + Send;
    /// Makes `fence` the writer of `channel` and returns the channel's
    /// [last id](MessageStore::last_message_id) as of the claim, which
    /// covers every append of an earlier owner. Refused with
    /// [`StoreError::Fenced`](super::StoreError::Fenced) if the channel is
    /// held at a larger epoch, or by another owner at the same epoch. The
    /// default, for a backend one node alone writes, records nothing.
    fn claim_channel(
        &self,
        channel: Id,
        fence: Fence,
    ) -> impl Future<Output = StoreResult<Id>> + Send {
        let _ = fence;
        self.last_message_id(channel)
    }
    /// The largest id a channel's messages have held, 0 if none: message
    /// ids and version ids, the channel's deleted messages included and, if
    /// the channel was deleted, the ids it held then. The write path issues
    /// the channel's next message id above it, so a clock that stepped back
    /// across a restart cannot reorder or reissue ids within the channel.
    fn last_message_id(&self, channel: Id) -> impl Future<Output = StoreResult<Id>> + Send;

    /// The id every new message id must exceed whatever its channel: 0 (the
    /// default) for a backend keyed by `(channel, id)`, where ids need only
    /// be unique within their channel. A backend whose message ids are
    /// unique across channels (SQLite's messages table) returns its largest
    /// one, which [`Store::id_floor`](super::Store::id_floor) adds to the
    /// node-level floor.
    fn global_message_floor(&self) -> impl Future<Output = StoreResult<Id>> + Send {
        async { Ok(0) }
    }
}
