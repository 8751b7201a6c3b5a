//! A user's signed-in devices: refreshing, listing and ending their tokens,
//! and changing the password, which ends every other one.

use chat_proto::v1 as pb;

use super::CoreService;
use super::accounts::blocking;
use crate::accounts;
use crate::convert;
use crate::error::CoreError;
use crate::store::{Id, Store, StoreError, TokenFilter};

impl<S: Store> CoreService<S> {
    /// Extends a token's life now.
    pub async fn refresh_token(&self, token: &str) -> Result<pb::TokenInfo, CoreError> {
        Ok(convert::token(&self.use_token(token, true).await?))
    }

    /// The live tokens of the token's user, oldest first.
    pub async fn list_tokens(&self, token: &str) -> Result<pb::TokenList, CoreError> {
        let current = self.use_token(token, false).await?;
        let now = super::now_ms();
        let tokens = self
            .store
            .tokens_of(current.user_id)
            .await?
            .iter()
            .filter(|t| t.expires_at_ms == 0 || t.expires_at_ms > now)
            .map(convert::token)
            .collect();
        Ok(pb::TokenList {
            tokens,
            current: current.id,
        })
    }

    /// Ends one of `actor`'s tokens; its sessions close.
    pub async fn revoke_token(&self, actor: Id, token_id: Id) -> Result<(), CoreError> {
        let gone = self
            .store
            .delete_tokens(actor, TokenFilter::Id(token_id))
            .await?;
        if gone.is_empty() {
            return Err(CoreError::SessionNotFound);
        }
        self.revoked(actor, &gone).await;
        Ok(())
    }

    /// Ends every token of `actor`; every session of theirs closes.
    pub async fn revoke_all_tokens(&self, actor: Id) -> Result<(), CoreError> {
        let gone = self
            .store
            .delete_tokens(actor, TokenFilter::AllExcept(None))
            .await?;
        self.revoked(actor, &gone).await;
        Ok(())
    }

    /// Checks the current password (failures count against the login
    /// guard), stores the new one and ends every token but `keep`.
    pub async fn change_password(&self, req: pb::ChangePasswordRequest) -> Result<(), CoreError> {
        self.person(req.actor_id, "have a password").await?;
        let user = self
            .store
            .user_by_id(req.actor_id)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        self.check_password(&user.username, &req.current_password, &req.client_addr)
            .await?;
        accounts::validate_password(&req.new_password)?;
        let cost = self.config.password_cost();
        let new = req.new_password;
        let hash = blocking(move || accounts::hash_password(&new, cost)).await??;
        let keep = (req.keep_token_id != 0).then_some(req.keep_token_id);
        let gone = match self.store.change_password(user.id, hash, keep).await {
            Err(StoreError::Conflict(_)) => return Err(CoreError::InvalidToken),
            other => other?,
        };
        self.revoked(user.id, &gone).await;
        Ok(())
    }
}
