//! The storage boundary: every backend (SQLite now, PostgreSQL and
//! Cassandra later) implements [`Store`] and passes [`contract`].

use std::future::Future;

#[cfg(any(test, feature = "contract"))]
pub mod contract;
mod records;
pub mod sqlite;

pub use records::{
    Appended, ChannelKind, ChannelRecord, HistoryAnchor, HistoryPage, MemberRecord,
    MembershipChange, Mention, MessageChange, MessageRecord, NewMessage, NotificationLevel,
    ProfileChange, ReadState, RelationChange, RelationKind, RelationRecord, Role, SettingsRecord,
    TokenFilter, TokenRecord, UNREAD_CAP, UserRecord, VersionRecord,
};

/// A user, channel or message id.
pub type Id = u64;

/// What can go wrong in a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. a username already taken).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The backend failed; the operation had no effect.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Durable state of the chat system. Every method is atomic; a method that
/// returns `Ok` after a write has made that write durable.
pub trait Store: Send + Sync + 'static {
    /// Inserts a user; `Conflict` if the username (case-insensitively) exists.
    fn create_user(&self, user: UserRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// A user by id.
    fn user_by_id(&self, id: Id) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// A user by username, case-insensitively.
    fn user_by_name(
        &self,
        username: &str,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// Stores a session token (by its hash).
    fn insert_token(&self, token: TokenRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// A token by its hash.
    fn token_by_hash(
        &self,
        hash: [u8; 32],
    ) -> impl Future<Output = StoreResult<Option<TokenRecord>>> + Send;
    /// Deletes a token by its hash and returns it, if it existed.
    fn delete_token(
        &self,
        hash: [u8; 32],
    ) -> impl Future<Output = StoreResult<Option<TokenRecord>>> + Send;
    /// The tokens of a user, by id.
    fn tokens_of(&self, user: Id) -> impl Future<Output = StoreResult<Vec<TokenRecord>>> + Send;
    /// Records a use of a token and its new expiry.
    fn touch_token(
        &self,
        id: Id,
        last_used_at_ms: i64,
        expires_at_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes the user's tokens that `filter` selects and returns them.
    fn delete_tokens(
        &self,
        user: Id,
        filter: TokenFilter,
    ) -> impl Future<Output = StoreResult<Vec<TokenRecord>>> + Send;
    /// Replaces a user's password hash and, in the same transaction,
    /// deletes every token of theirs but `keep`; returns the deleted ones.
    fn change_password(
        &self,
        user: Id,
        password_hash: String,
        keep: Option<Id>,
    ) -> impl Future<Output = StoreResult<Vec<TokenRecord>>> + Send;
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
    /// Adds a member; `false` if they already were one.
    fn add_member(
        &self,
        channel: Id,
        user: Id,
        at_ms: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Removes a member; `false` if they were not one.
    fn remove_member(
        &self,
        channel: Id,
        user: Id,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Renames a channel; `false` if it does not exist.
    fn rename_channel(
        &self,
        channel: Id,
        name: String,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Applies member changes (a removal, a new owner, roles) atomically.
    fn update_membership(
        &self,
        channel: Id,
        change: MembershipChange,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes a channel with its members, messages, versions, mentions
    /// and read positions; `false` if it did not exist. Ids it held stay
    /// counted by [`Store::max_id`].
    fn delete_channel(
        &self,
        channel: Id,
        at_ms: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// The channels a user is a member of, by id.
    fn channels_of(&self, user: Id)
    -> impl Future<Output = StoreResult<Vec<ChannelRecord>>> + Send;
    /// The largest id of any user, channel, message, token or deleted
    /// channel's message, 0 if none.
    fn max_id(&self) -> impl Future<Output = StoreResult<Id>> + Send;
    /// Writes messages durably, in order, in one atomic batch, with their
    /// mentions. A message whose `(channel, sender, client_msg_id)` exists
    /// is not written; the stored one comes back as `Duplicate`.
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
    /// Changes a user's profile and returns the user; `None` if no such user.
    fn update_profile(
        &self,
        user: Id,
        change: ProfileChange,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// Records when a user was last active.
    fn set_last_active(&self, user: Id, at_ms: i64)
    -> impl Future<Output = StoreResult<()>> + Send;
    /// Moves a read position forward to `message_id` (never back) and
    /// returns the position now stored with its unread count.
    fn mark_read(
        &self,
        user: Id,
        channel: Id,
        message_id: Id,
    ) -> impl Future<Output = StoreResult<ReadState>> + Send;
    /// The read state of every channel the user is a member of, by channel id.
    fn read_states(&self, user: Id) -> impl Future<Output = StoreResult<Vec<ReadState>>> + Send;
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
    /// A user's settings (defaults if never set).
    fn settings(&self, user: Id) -> impl Future<Output = StoreResult<SettingsRecord>> + Send;
    /// Replaces a user's settings.
    fn put_settings(
        &self,
        user: Id,
        settings: SettingsRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every relationship of a user, by the other user's id.
    fn relations(&self, user: Id) -> impl Future<Output = StoreResult<Vec<RelationRecord>>> + Send;
    /// The users who block `user`, ascending.
    fn blocked_by(&self, user: Id) -> impl Future<Output = StoreResult<Vec<Id>>> + Send;
    /// The user's side of the relationship with `other`.
    fn relation(
        &self,
        user: Id,
        other: Id,
    ) -> impl Future<Output = StoreResult<Option<RelationRecord>>> + Send;
    /// Applies relationship changes atomically, all stamped `at_ms`.
    fn change_relations(
        &self,
        changes: Vec<RelationChange>,
        at_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Makes everything written so far durable and releases what can be.
    fn flush(&self) -> impl Future<Output = StoreResult<()>> + Send;
}
