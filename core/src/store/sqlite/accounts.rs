//! [`AccountStore`] on SQLite: each call is one job on a reader or the writer.

use super::{SqliteStore, browse, queries, social, tokens};
use crate::store::{
    AccountStore, Id, ProfileChange, RelationChange, RelationRecord, SettingsRecord, StoreResult,
    TokenFilter, TokenRecord, UserRecord,
};

impl AccountStore for SqliteStore {
    async fn create_user(&self, user: UserRecord) -> StoreResult<()> {
        self.write(move |c| queries::create_user(c, &user)).await
    }

    async fn user_by_id(&self, id: Id) -> StoreResult<Option<UserRecord>> {
        self.read(move |c| queries::user_by_id(c, id)).await
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |c| queries::user_by_name(c, &username))
            .await
    }

    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> StoreResult<Vec<UserRecord>> {
        let prefix = prefix.to_owned();
        self.read(move |c| browse::users_by_prefix(c, &prefix, limit))
            .await
    }

    async fn bots_of(&self, owner: Id) -> StoreResult<Vec<UserRecord>> {
        self.read(move |c| browse::bots_of(c, owner)).await
    }

    async fn insert_token(&self, token: TokenRecord) -> StoreResult<()> {
        self.write(move |c| tokens::insert_token(c, &token)).await
    }

    async fn token_by_hash(&self, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
        self.read(move |c| tokens::token_by_hash(c, hash)).await
    }

    async fn delete_token(&self, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
        self.write(move |c| tokens::delete_token(c, hash)).await
    }

    async fn tokens_of(&self, user: Id) -> StoreResult<Vec<TokenRecord>> {
        self.read(move |c| tokens::tokens_of(c, user)).await
    }

    async fn touch_token(
        &self,
        id: Id,
        last_used_at_ms: i64,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        self.write(move |c| tokens::touch_token(c, id, last_used_at_ms, expires_at_ms))
            .await
    }

    async fn delete_tokens(&self, user: Id, filter: TokenFilter) -> StoreResult<Vec<TokenRecord>> {
        self.write(move |c| tokens::delete_tokens(c, user, filter))
            .await
    }

    async fn change_password(
        &self,
        user: Id,
        password_hash: String,
        keep: Option<Id>,
    ) -> StoreResult<Vec<TokenRecord>> {
        self.write(move |c| tokens::change_password(c, user, &password_hash, keep))
            .await
    }

    async fn update_profile(
        &self,
        user: Id,
        change: ProfileChange,
    ) -> StoreResult<Option<UserRecord>> {
        self.write(move |c| social::update_profile(c, user, &change))
            .await
    }

    async fn set_last_active(&self, user: Id, at_ms: i64) -> StoreResult<()> {
        self.last_active.write(&self.threads, (user, at_ms)).await
    }

    async fn settings(&self, user: Id) -> StoreResult<SettingsRecord> {
        self.read(move |c| social::settings(c, user)).await
    }

    async fn put_settings(&self, user: Id, settings: SettingsRecord) -> StoreResult<()> {
        self.write(move |c| social::put_settings(c, user, &settings))
            .await
    }

    async fn relations(&self, user: Id) -> StoreResult<Vec<RelationRecord>> {
        self.read(move |c| social::relations(c, user)).await
    }

    async fn blocked_by(&self, user: Id) -> StoreResult<Vec<Id>> {
        self.read(move |c| social::blocked_by(c, user)).await
    }

    async fn relation(&self, user: Id, other: Id) -> StoreResult<Option<RelationRecord>> {
        self.read(move |c| social::relation(c, user, other)).await
    }

    async fn change_relations(&self, changes: Vec<RelationChange>, at_ms: i64) -> StoreResult<()> {
        self.write(move |c| social::change_relations(c, &changes, at_ms))
            .await
    }

    async fn max_account_id(&self) -> StoreResult<Id> {
        self.read(queries::max_account_id).await
    }
}
