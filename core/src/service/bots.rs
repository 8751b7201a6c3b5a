//! Bot accounts: users own them, each has tokens of its own (no password:
//! a bot never logs in), and its owner rotates or revokes them. A bot is a
//! member like any other, so it reads only the channels it was added to;
//! it cannot do what only a person may (own bots, have friends).

use chat_proto::v1 as pb;

use super::social::{DISPLAY_NAME_MAX, check_field};
use super::{CoreService, now_ms};
use crate::accounts;
use crate::convert;
use crate::error::CoreError;
use crate::store::{Id, Store, StoreError, UserRecord, Webhook};

/// The device name a bot's tokens are listed under.
const BOT_DEVICE: &str = "bot";

impl<S: Store> CoreService<S> {
    /// `actor`, refused with `bots_cannot` if it is a bot: `what` says
    /// what it tried.
    pub(super) async fn person(
        &self,
        actor: Id,
        what: &'static str,
    ) -> Result<UserRecord, CoreError> {
        let user = self
            .store
            .user_by_id(actor)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        if user.is_bot() {
            return Err(CoreError::BotsCannot(what));
        }
        Ok(user)
    }

    /// Creates a bot the actor owns and its first token.
    pub async fn create_bot(&self, req: pb::CreateBotRequest) -> Result<pb::AuthReply, CoreError> {
        let owner = self.person(req.actor_id, "own bots").await?;
        accounts::validate_username(&req.username)?;
        let display_name = req.display_name.trim().to_owned();
        let named = Some(display_name.clone());
        check_field("invalid_display_name", &named, DISPLAY_NAME_MAX)?;
        let max = self.config.max_bots_per_user;
        if self.store.bots_of(owner.id).await?.len() >= max {
            return Err(CoreError::conflict(
                "too_many_bots",
                format!("at most {max} bots per user; revoke one first"),
            ));
        }
        if self.store.user_by_name(&req.username).await?.is_some() {
            return Err(CoreError::UsernameTaken);
        }
        // No password hash: no password ever matches it.
        let mut bot = UserRecord::new(self.next_id(), req.username, String::new(), now_ms());
        bot.bot_owner_id = owner.id;
        match self.store.create_user(bot.clone()).await {
            Err(StoreError::Conflict(_)) => return Err(CoreError::UsernameTaken),
            other => other?,
        }
        if !display_name.is_empty() {
            let change = crate::store::ProfileChange {
                display_name: Some(display_name),
                ..Default::default()
            };
            bot = self
                .store
                .update_profile(bot.id, change)
                .await?
                .ok_or(CoreError::UserNotFound)?;
        }
        self.metadata_changed(vec![convert::user(&bot)], Vec::new())
            .await;
        self.issue_token(&bot, BOT_DEVICE.to_owned()).await
    }

    /// The actor's bots, by id.
    pub async fn list_bots(&self, actor: Id) -> Result<pb::UserList, CoreError> {
        let bots = self.store.bots_of(actor).await?;
        Ok(pb::UserList {
            users: bots.iter().map(convert::user).collect(),
        })
    }

    /// One of the actor's bots, else `bot_not_found`.
    async fn own_bot(&self, actor: Id, bot: Id) -> Result<UserRecord, CoreError> {
        match self.store.user_by_id(bot).await? {
            Some(user) if user.bot_owner_id == actor && actor != 0 => Ok(user),
            _ => Err(CoreError::BotNotFound),
        }
    }

    /// Ends every token of the actor's bot `bot` (its sessions close at
    /// once) and issues a new one.
    pub async fn rotate_bot_token(&self, req: pb::BotRequest) -> Result<pb::AuthReply, CoreError> {
        let bot = self.own_bot(req.actor_id, req.bot_id).await?;
        self.revoke_all_tokens(bot.id).await?;
        self.issue_token(&bot, BOT_DEVICE.to_owned()).await
    }

    /// Ends every token of the actor's bot `bot`.
    pub async fn revoke_bot_tokens(&self, req: pb::BotRequest) -> Result<pb::Empty, CoreError> {
        let bot = self.own_bot(req.actor_id, req.bot_id).await?;
        self.revoke_all_tokens(bot.id).await?;
        Ok(pb::Empty {})
    }
}

/// Bytes of a new webhook secret's key.
const SECRET_BYTES: usize = 32;

impl<S: Store> CoreService<S> {
    /// Whether `user` is a bot (cached: it never changes); unknown users
    /// are not.
    pub(super) async fn is_bot(&self, user: Id) -> Result<bool, CoreError> {
        if let Some(known) = self.bot_kinds.get(&user).await {
            return Ok(known);
        }
        let Some(record) = self.store.user_by_id(user).await? else {
            return Ok(false);
        };
        self.bot_kinds.insert(user, record.is_bot()).await;
        Ok(record.is_bot())
    }

    /// Points one of the actor's bots' webhook at `url`, with a new secret.
    pub async fn set_bot_webhook(
        &self,
        req: pb::SetBotWebhookRequest,
    ) -> Result<pb::BotWebhook, CoreError> {
        let bot = self.own_bot(req.actor_id, req.bot_id).await?;
        let url = crate::webhooks::check_url(
            req.url.trim(),
            self.config.webhook_allow_private_addresses,
        )?;
        let mut key = [0u8; SECRET_BYTES];
        rand::Rng::fill(&mut rand::rng(), &mut key[..]);
        let hook = Webhook {
            bot_id: bot.id,
            url: url.to_string(),
            secret: chat_protocol::webhook::secret_from_key(&key),
            updated_at_ms: now_ms(),
        };
        self.store.set_webhook(bot.id, Some(hook.clone())).await?;
        Ok(webhook_reply(hook, true))
    }

    /// One of the actor's bots' webhook, without its secret.
    pub async fn get_bot_webhook(&self, req: pb::BotRequest) -> Result<pb::BotWebhook, CoreError> {
        let bot = self.own_bot(req.actor_id, req.bot_id).await?;
        let hook = self
            .store
            .webhook(bot.id)
            .await?
            .ok_or(CoreError::WebhookNotFound)?;
        Ok(webhook_reply(hook, false))
    }

    /// Removes one of the actor's bots' webhook and its pending deliveries.
    pub async fn remove_bot_webhook(&self, req: pb::BotRequest) -> Result<pb::Empty, CoreError> {
        let bot = self.own_bot(req.actor_id, req.bot_id).await?;
        if self.store.webhook(bot.id).await?.is_none() {
            return Err(CoreError::WebhookNotFound);
        }
        self.store.set_webhook(bot.id, None).await?;
        Ok(pb::Empty {})
    }
}

fn webhook_reply(hook: Webhook, with_secret: bool) -> pb::BotWebhook {
    pb::BotWebhook {
        bot_id: hook.bot_id,
        url: hook.url,
        secret: if with_secret {
            hook.secret
        } else {
            String::new()
        },
        updated_at_ms: hook.updated_at_ms,
    }
}
