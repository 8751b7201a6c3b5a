//! The messages part of storage: history, edits and their versions,
//! mentions and unread counts.

use std::future::Future;

use super::{
    Appended, HistoryAnchor, HistoryPage, Id, MessageChange, MessageRecord, NewMessage, ReadState,
    StoreResult, VersionRecord,
};

/// Message history, keyed by channel and message id. This is the part a
/// dedicated message backend (Cassandra/ScyllaDB) implements on its own.
/// Every method is atomic; a write that returns `Ok` is durable.
pub trait MessageStore: Send + Sync + 'static {
    /// Writes messages durably, in order, in one atomic batch, with their
    /// mentions. A message whose `(channel, sender, client_msg_id)` exists
    /// (stored before, or earlier in the same batch) is not written; the
    /// stored one comes back as `Duplicate`.
    fn append(
        &self,
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
}
