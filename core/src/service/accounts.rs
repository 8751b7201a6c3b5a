//! Signup, login, logout and token checks.

use chat_proto::v1 as pb;
use chat_proto::v1::event;

use super::{CoreService, now_ms};
use crate::accounts::{self, token_hash};
use crate::convert;
use crate::error::CoreError;
use crate::store::{Store, StoreError, TokenRecord, UserRecord};

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CoreError::Overloaded)
}

impl<S: Store> CoreService<S> {
    /// Creates an account and logs it in.
    pub async fn signup(&self, username: &str, password: &str) -> Result<pb::AuthReply, CoreError> {
        accounts::validate_username(username)?;
        accounts::validate_password(password)?;
        if self.store.user_by_name(username).await?.is_some() {
            return Err(CoreError::UsernameTaken);
        }
        let password = password.to_owned();
        let cost = self.config.password_cost();
        let password_hash = blocking(move || accounts::hash_password(&password, cost)).await??;
        let user = UserRecord::new(self.next_id(), username.to_owned(), password_hash, now_ms());
        match self.store.create_user(user.clone()).await {
            Err(StoreError::Conflict(_)) => return Err(CoreError::UsernameTaken),
            other => other?,
        }
        self.issue_token(&user).await
    }

    /// Checks credentials and issues a new token.
    pub async fn login(&self, username: &str, password: &str) -> Result<pb::AuthReply, CoreError> {
        let user = self.store.user_by_name(username).await?;
        let stored = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| accounts::decoy_hash(self.config.password_cost()).to_owned());
        let password = password.to_owned();
        let ok = blocking(move || accounts::verify_password(&password, &stored)).await?;
        match user {
            Some(user) if ok => self.issue_token(&user).await,
            _ => Err(CoreError::InvalidCredentials),
        }
    }

    async fn issue_token(&self, user: &UserRecord) -> Result<pb::AuthReply, CoreError> {
        let token = accounts::new_token();
        self.store
            .insert_token(TokenRecord {
                id: self.next_id(),
                hash: token_hash(&token),
                user_id: user.id,
                created_at_ms: now_ms(),
            })
            .await?;
        Ok(pb::AuthReply {
            user: Some(convert::user(user)),
            token,
        })
    }

    /// Revokes a token and closes the sessions that use it.
    pub async fn logout(&self, token: &str) -> Result<(), CoreError> {
        let record = self
            .store
            .delete_token(token_hash(token))
            .await?
            .ok_or(CoreError::InvalidToken)?;
        let kind = event::Kind::TokenRevoked(pb::TokenRevoked {
            token_id: record.id,
        });
        self.hub.publish(&[record.user_id], kind).await;
        Ok(())
    }

    /// The user a token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<pb::Principal, CoreError> {
        let record = self
            .store
            .token_by_hash(token_hash(token))
            .await?
            .ok_or(CoreError::InvalidToken)?;
        let user = self
            .store
            .user_by_id(record.user_id)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        Ok(pb::Principal {
            user: Some(convert::user(&user)),
            token_id: record.id,
        })
    }

    /// A user by id or username.
    pub async fn get_user(
        &self,
        key: Option<pb::get_user_request::Key>,
    ) -> Result<pb::User, CoreError> {
        use pb::get_user_request::Key;
        let user = match key {
            Some(Key::Id(id)) => self.store.user_by_id(id).await?,
            Some(Key::Username(name)) => self.store.user_by_name(&name).await?,
            None => None,
        };
        user.map(|u| convert::user(&u))
            .ok_or(CoreError::UserNotFound)
    }
}
