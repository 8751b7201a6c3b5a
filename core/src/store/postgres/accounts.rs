//! [`AccountStore`] on PostgreSQL (the queries are in `users`, `tokens`
//! and `social`).

use super::{PgStore, browse, social, tokens, users};
use crate::store::{
    AccountStore, Id, ProfileChange, RelationChange, RelationRecord, SettingsRecord, StoreResult,
    TokenFilter, TokenRecord, UserRecord,
};

impl AccountStore for PgStore {
    async fn create_user(&self, user: UserRecord) -> StoreResult<()> {
        users::create_user(self, &user).await
    }

    async fn user_by_id(&self, id: Id) -> StoreResult<Option<UserRecord>> {
        users::user_by_id(self, id).await
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        users::user_by_name(self, username).await
    }

    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> StoreResult<Vec<UserRecord>> {
        browse::users_by_prefix(self, prefix, limit).await
    }

    async fn bots_of(&self, owner: Id) -> StoreResult<Vec<UserRecord>> {
        browse::bots_of(self, owner).await
    }

    async fn insert_token(&self, token: TokenRecord) -> StoreResult<()> {
        tokens::insert_token(self, &token).await
    }

    async fn token_by_hash(&self, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
        tokens::token_by_hash(self, hash).await
    }

    async fn delete_token(&self, hash: [u8; 32]) -> StoreResult<Option<TokenRecord>> {
        tokens::delete_token(self, hash).await
    }

    async fn tokens_of(&self, user: Id) -> StoreResult<Vec<TokenRecord>> {
        tokens::tokens_of(self, user).await
    }

    async fn touch_token(
        &self,
        id: Id,
        last_used_at_ms: i64,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        tokens::touch_token(self, id, last_used_at_ms, expires_at_ms).await
    }

    async fn delete_tokens(&self, user: Id, filter: TokenFilter) -> StoreResult<Vec<TokenRecord>> {
        tokens::delete_tokens(self, user, filter).await
    }

    async fn change_password(
        &self,
        user: Id,
        password_hash: String,
        keep: Option<Id>,
    ) -> StoreResult<Vec<TokenRecord>> {
        tokens::change_password(self, user, &password_hash, keep).await
    }

    async fn update_profile(
        &self,
        user: Id,
        change: ProfileChange,
    ) -> StoreResult<Option<UserRecord>> {
        users::update_profile(self, user, &change).await
    }

    async fn set_last_active(&self, user: Id, at_ms: i64) -> StoreResult<()> {
        users::set_last_active(self, user, at_ms).await
    }

    async fn settings(&self, user: Id) -> StoreResult<SettingsRecord> {
        social::settings(self, user).await
    }

    async fn put_settings(&self, user: Id, settings: SettingsRecord) -> StoreResult<()> {
        social::put_settings(self, user, &settings).await
    }

    async fn relations(&self, user: Id) -> StoreResult<Vec<RelationRecord>> {
        social::relations(self, user).await
    }

    async fn blocked_by(&self, user: Id) -> StoreResult<Vec<Id>> {
        social::blocked_by(self, user).await
    }

    async fn relation(&self, user: Id, other: Id) -> StoreResult<Option<RelationRecord>> {
        social::relation(self, user, other).await
    }

    async fn change_relations(&self, changes: Vec<RelationChange>, at_ms: i64) -> StoreResult<()> {
        social::change_relations(self, &changes, at_ms).await
    }

    async fn max_account_id(&self) -> StoreResult<Id> {
        users::max_account_id(self).await
    }
}
