//! [`MessageStore`] on PostgreSQL (the queries are in `append`,
//! `history`, `edits` and `reads`).

use super::{PgStore, append, browse, edits, fences, history, reads};
use crate::store::{
    Appended, Fence, HistoryAnchor, HistoryPage, Id, MessageChange, MessageRecord, MessageStore,
    NewMessage, ReadState, StoreResult, VersionRecord,
};

impl MessageStore for PgStore {
    async fn append(&self, fence: Fence, batch: Vec<NewMessage>) -> StoreResult<Vec<Appended>> {
        append::append(self, fence, &batch).await
    }

    async fn history(
        &self,
        channel: Id,
        anchor: HistoryAnchor,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        history::history(self, channel, anchor, limit).await
    }

    async fn message(&self, channel: Id, id: Id) -> StoreResult<Option<MessageRecord>> {
        edits::message(self, channel, id).await
    }

    async fn update_message(
        &self,
        channel: Id,
        id: Id,
        change: MessageChange,
        at_ms: i64,
        version: Id,
    ) -> StoreResult<Option<MessageRecord>> {
        edits::update_message(self, channel, id, &change, at_ms, version).await
    }

    async fn versions(&self, channel: Id, id: Id) -> StoreResult<Vec<VersionRecord>> {
        edits::versions(self, channel, id).await
    }

    async fn changes(
        &self,
        channel: Id,
        after_version: Id,
        limit: usize,
    ) -> StoreResult<Vec<MessageRecord>> {
        edits::changes(self, channel, after_version, limit).await
    }

    async fn unread_counts(
        &self,
        user: Id,
        positions: Vec<(Id, Id)>,
    ) -> StoreResult<Vec<ReadState>> {
        reads::unread_counts(self, user, &positions).await
    }

    async fn latest_messages(
        &self,
        channels: Vec<Id>,
        chars: usize,
    ) -> StoreResult<Vec<MessageRecord>> {
        browse::latest_messages(self, &channels, chars).await
    }

    async fn claim_channel(&self, channel: Id, fence: Fence) -> StoreResult<Id> {
        fences::claim_channel(self, channel, fence).await
    }

    async fn last_message_id(&self, channel: Id) -> StoreResult<Id> {
        history::last_message_id(self, channel).await
    }

    // Keyed by (channel, id): ids need only be unique within a channel, so
    // the default global floor of 0 holds.
}
