//! The accounts part of storage: users, session tokens, profiles, last
//! activity, settings and relationships between users.

use std::future::Future;

use super::{
    Id, ProfileChange, RelationChange, RelationRecord, SettingsRecord, StoreResult, TokenFilter,
    TokenRecord, UserRecord,
};

/// Users and everything that belongs to one user alone or to a pair of
/// users. Every method is atomic; a write that returns `Ok` is durable.
pub trait AccountStore: Send + Sync + 'static {
    /// Inserts a user; `Conflict` if the username (case-insensitively) exists.
    fn create_user(&self, user: UserRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// A user by id.
    fn user_by_id(&self, id: Id) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// A user by username, case-insensitively.
    fn user_by_name(
        &self,
        username: &str,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// Up to `limit` users whose lowercased username starts with `prefix`
    /// (itself lowercase), ascending by it.
    fn users_by_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<UserRecord>>> + Send;
    /// The bot accounts `owner` owns, by id.
    fn bots_of(&self, owner: Id) -> impl Future<Output = StoreResult<Vec<UserRecord>>> + Send;
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
    /// Deletes the user's tokens that `filter` selects and returns them, by id.
    fn delete_tokens(
        &self,
        user: Id,
        filter: TokenFilter,
    ) -> impl Future<Output = StoreResult<Vec<TokenRecord>>> + Send;
    /// Replaces a user's password hash and, in the same transaction,
    /// deletes every token of theirs but `keep`; returns the deleted ones.
    /// `Conflict` if there is no such user.
    fn change_password(
        &self,
        user: Id,
        password_hash: String,
        keep: Option<Id>,
    ) -> impl Future<Output = StoreResult<Vec<TokenRecord>>> + Send;
    /// Changes a user's profile and returns the user; `None` if no such user.
    fn update_profile(
        &self,
        user: Id,
        change: ProfileChange,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// Records when a user was last active; never moves it back. An unknown
    /// user is no error.
    fn set_last_active(&self, user: Id, at_ms: i64)
    -> impl Future<Output = StoreResult<()>> + Send;
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
    /// Applies relationship changes atomically, all stamped `at_ms`; a
    /// change of a user with themself is a `Conflict` and applies nothing.
    fn change_relations(
        &self,
        changes: Vec<RelationChange>,
        at_ms: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The largest user or token id, 0 if none: with
    /// [`ChannelStore::max_channel_id`](super::ChannelStore::max_channel_id),
    /// the node-level floor of ids that are not message ids (see
    /// [`Store::id_floor`](super::Store::id_floor)).
    fn max_account_id(&self) -> impl Future<Output = StoreResult<Id>> + Send;
}
