//! The channels part of storage: channels, their members and roles, and
//! each member's read position.

use std::future::Future;

use super::{ChannelRecord, Fence, Id, MemberRecord, MembershipChange, StoreResult};

/// Channels and membership. Every method is atomic; a write that returns
/// `Ok` is durable.
///
/// Read positions live here rather than with the messages: a position is a
/// member's state in a channel (listed by the user's memberships, gone with
/// the membership's channel), and storing one needs no message. The unread
/// and mention counts that go with a position are counts of messages, so
/// [`MessageStore::unread_counts`](super::MessageStore::unread_counts)
/// makes them; [`Store::mark_read`](super::Store::mark_read) and
/// [`Store::read_states`](super::Store::read_states) put the two together,
/// so a message backend of its own needs nothing from this part.
pub trait ChannelStore: Send + Sync + 'static {
    /// Creates a channel with its members. For a channel with a `direct_key`
    /// that already exists, returns the existing channel instead.
    fn create_channel(
        &self,
        channel: ChannelRecord,
        members: Vec<Id>,
    ) -> impl Future<Output = StoreResult<ChannelRecord>> + Send;
    /// A channel by id; `None` if it does not exist or was deleted.
    fn channel(&self, id: Id) -> impl Future<Output = StoreResult<Option<ChannelRecord>>> + Send;
    /// The members of a channel with their roles, ascending by user id.
    fn members(&self, channel: Id) -> impl Future<Output = StoreResult<Vec<MemberRecord>>> + Send;
    /// Adds a member; `false` if they already were one. Every change of a
    /// channel's members or name is fenced like an append: refused with
    /// [`StoreError::Fenced`](super::StoreError::Fenced), nothing written,
    /// unless `fence` holds the channel.
    fn add_member(
        &self,
        fence: Fence,
        channel: Id,
        user: Id,
        at_ms: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Removes a member; `false` if they were not one.
    fn remove_member(
        &self,
        fence: Fence,
        channel: Id,
        user: Id,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Renames a channel; `false` if it does not exist.
    fn rename_channel(
        &self,
        fence: Fence,
        channel: Id,
        name: String,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Applies member changes (a removal, a new owner, roles) atomically;
    /// `Conflict`, with nothing applied, if a new owner is not a member.
    fn update_membership(
        &self,
        fence: Fence,
        channel: Id,
        change: MembershipChange,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes a channel with its members, read positions and mutes and,
    /// where this backend holds them, its messages, versions and mentions;
    /// `false` if it did not exist. Its id stays counted by
    /// [`ChannelStore::max_channel_id`], and the ids of its messages and
    /// versions by [`MessageStore::last_message_id`](super::MessageStore::last_message_id).
    fn delete_channel(
        &self,
        fence: Fence,
        channel: Id,
        at_ms: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// The channels a user is a member of, by id.
    fn channels_of(&self, user: Id)
    -> impl Future<Output = StoreResult<Vec<ChannelRecord>>> + Send;
    /// The largest channel id, deleted channels included, 0 if none.
    fn max_channel_id(&self) -> impl Future<Output = StoreResult<Id>> + Send;
    /// Moves the user's read position in `channel` forward to `message_id`
    /// (never back) and returns the position now stored.
    fn advance_read(
        &self,
        user: Id,
        channel: Id,
        message_id: Id,
    ) -> impl Future<Output = StoreResult<Id>> + Send;
    /// The read position (largest message id read, 0 if none) in every
    /// channel the user is a member of, as `(channel, position)` by channel id.
    fn read_positions(&self, user: Id) -> impl Future<Output = StoreResult<Vec<(Id, Id)>>> + Send;
    /// The read positions of a channel's members who have one, as
    /// `(user, position)` by user id.
    fn member_read_positions(
        &self,
        channel: Id,
    ) -> impl Future<Output = StoreResult<Vec<(Id, Id)>>> + Send;
}
