//! [`MessageStore`] on SQLite: appends go to the writer before any other
//! write; everything else is one job on a reader or the writer.

use super::{SqliteStore, browse, edits, queries, reads};
use crate::store::{
    Appended, Fence, HistoryAnchor, HistoryPage, Id, MessageChange, MessageRecord, MessageStore,
    NewMessage, ReadState, StoreResult, VersionRecord,
};

impl MessageStore for SqliteStore {
    async fn append(&self, _fence: Fence, batch: Vec<NewMessage>) -> StoreResult<Vec<Appended>> {
        // One node writes a SQLite database: there is no fence to check.
        // Messages go before other writes: people are waiting on them.
        self.threads
            .write_urgent(move |c| queries::append(c, &batch))
            .await
    }

    async fn history(
        &self,
        channel: Id,
        anchor: HistoryAnchor,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        self.read(move |c| queries::history(c, channel, anchor, limit))
            .await
    }

    async fn message(&self, channel: Id, id: Id) -> StoreResult<Option<MessageRecord>> {
        self.read(move |c| edits::message(c, channel, id)).await
    }

    async fn update_message(
        &self,
        channel: Id,
        id: Id,
        change: MessageChange,
        at_ms: i64,
        version: Id,
    ) -> StoreResult<Option<MessageRecord>> {
        self.write(move |c| edits::update_message(c, channel, id, &change, at_ms, version))
            .await
    }

    async fn versions(&self, channel: Id, id: Id) -> StoreResult<Vec<VersionRecord>> {
        self.read(move |c| edits::versions(c, channel, id)).await
    }

    async fn changes(
        &self,
        channel: Id,
        after_version: Id,
        limit: usize,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.read(move |c| edits::changes(c, channel, after_version, limit))
            .await
    }

    async fn unread_counts(
        &self,
        user: Id,
        positions: Vec<(Id, Id)>,
    ) -> StoreResult<Vec<ReadState>> {
        self.read(move |c| reads::unread_counts(c, user, &positions))
            .await
    }

    async fn latest_messages(
        &self,
        channels: Vec<Id>,
        chars: usize,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.read(move |c| browse::latest_messages(c, &channels, chars))
            .await
    }

    async fn last_message_id(&self, channel: Id) -> StoreResult<Id> {
        self.read(move |c| queries::last_message_id(c, channel))
            .await
    }

    /// Message ids are this backend's primary key, across channels.
    async fn global_message_floor(&self) -> StoreResult<Id> {
        self.read(queries::max_message_id).await
    }
}
