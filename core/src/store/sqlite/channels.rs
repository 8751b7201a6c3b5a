//! [`ChannelStore`] on SQLite: each call is one job on a reader or the writer.

use super::{SqliteStore, browse, groups, queries, reads};
use crate::store::{
    ChannelRecord, ChannelStore, Fence, Id, MemberRecord, MembershipChange, StoreResult,
};

impl ChannelStore for SqliteStore {
    async fn create_channel(
        &self,
        channel: ChannelRecord,
        members: Vec<Id>,
    ) -> StoreResult<ChannelRecord> {
        self.write(move |c| queries::create_channel(c, &channel, &members))
            .await
    }

    async fn channel(&self, id: Id) -> StoreResult<Option<ChannelRecord>> {
        self.read(move |c| queries::channel(c, id)).await
    }

    async fn members(&self, channel: Id) -> StoreResult<Vec<MemberRecord>> {
        self.read(move |c| queries::members(c, channel)).await
    }

    async fn add_member(
        &self,
        _fence: Fence,
        channel: Id,
        user: Id,
        at_ms: i64,
    ) -> StoreResult<bool> {
        self.write(move |c| queries::add_member(c, channel, user, at_ms))
            .await
    }

    async fn remove_member(&self, _fence: Fence, channel: Id, user: Id) -> StoreResult<bool> {
        self.write(move |c| queries::remove_member(c, channel, user))
            .await
    }

    async fn rename_channel(&self, _fence: Fence, channel: Id, name: String) -> StoreResult<bool> {
        self.write(move |c| groups::rename_channel(c, channel, &name))
            .await
    }

    async fn update_membership(
        &self,
        _fence: Fence,
        channel: Id,
        change: MembershipChange,
    ) -> StoreResult<()> {
        self.write(move |c| groups::update_membership(c, channel, &change))
            .await
    }

    async fn delete_channel(&self, _fence: Fence, channel: Id, at_ms: i64) -> StoreResult<bool> {
        self.write(move |c| groups::delete_channel(c, channel, at_ms))
            .await
    }

    async fn channels_of(&self, user: Id) -> StoreResult<Vec<ChannelRecord>> {
        self.read(move |c| queries::channels_of(c, user)).await
    }

    async fn max_channel_id(&self) -> StoreResult<Id> {
        self.read(queries::max_channel_id).await
    }

    async fn advance_read(&self, user: Id, channel: Id, message_id: Id) -> StoreResult<Id> {
        self.write(move |c| reads::advance_read(c, user, channel, message_id))
            .await
    }

    async fn read_positions(&self, user: Id) -> StoreResult<Vec<(Id, Id)>> {
        self.read(move |c| reads::read_positions(c, user)).await
    }

    async fn member_read_positions(&self, channel: Id) -> StoreResult<Vec<(Id, Id)>> {
        self.read(move |c| browse::member_read_positions(c, channel))
            .await
    }
}
