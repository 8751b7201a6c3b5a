//! Sending messages and reading history.

use chat_proto::v1 as pb;

use super::CoreService;
use crate::convert;
use crate::error::CoreError;
use crate::pipeline::Pending;
use crate::store::{Appended, HistoryAnchor, Id, Store};

impl<S: Store> CoreService<S> {
    /// Checks, stores durably and acknowledges one message.
    pub async fn send_message(
        &self,
        req: pb::SendMessageRequest,
    ) -> Result<pb::SendMessageReply, CoreError> {
        self.queue_message(req).await?.await
    }

    /// Checks one message and queues it for writing; the future resolves
    /// to its acknowledgement once it is durable. Messages queued one
    /// after another get ids in that order.
    pub async fn queue_message(
        &self,
        req: pb::SendMessageRequest,
    ) -> Result<
        impl Future<Output = Result<pb::SendMessageReply, CoreError>> + Send + use<S>,
        CoreError,
    > {
        self.check_text(&req.text)?;
        chat_proto::rules::check_client_msg_id(&req.client_msg_id).map_err(|fault| {
            CoreError::invalid("invalid_client_msg_id", fault.describe("client_msg_id"))
        })?;
        let members = self.members_at_owner(req.actor_id, req.channel_id).await?;
        self.blocks.check(req.channel_id, &members).await?;
        let mentions = self.resolve_mentions(&req.text, &members).await?;
        if self.is_bot(req.actor_id).await? {
            self.bot_limiter.check(req.actor_id)?;
        }
        let durable = self.appender()?.enqueue(Pending {
            channel_id: req.channel_id,
            sender_id: req.actor_id,
            client_msg_id: req.client_msg_id,
            text: req.text,
            mentions,
            origin_session: req.origin_session,
        })?;
        Ok(async move {
            let outcome = durable.await?;
            Ok(pb::SendMessageReply {
                message: Some(convert::message(outcome.message())),
                duplicate: matches!(outcome, Appended::Duplicate(_)),
            })
        })
    }

    /// Checks a message text: not blank, not too long, no control
    /// characters but line feed and tab.
    pub(super) fn check_text(&self, text: &str) -> Result<(), CoreError> {
        chat_proto::rules::check_message_text(text, self.config.max_text_chars)
            .map_err(|fault| CoreError::invalid(fault.text_code(), fault.describe("text")))
    }

    /// Checks a page size against the configured maximum.
    pub(super) fn check_limit(&self, limit: u32) -> Result<usize, CoreError> {
        let max = self.config.max_history_page;
        let limit = limit as usize;
        if limit == 0 || limit > max {
            return Err(CoreError::invalid(
                "invalid_limit",
                format!("limit must be between 1 and {max}"),
            ));
        }
        Ok(limit)
    }

    /// A page of history for a member.
    pub async fn history(
        &self,
        actor: Id,
        channel: Id,
        anchor: HistoryAnchor,
        limit: u32,
    ) -> Result<pb::HistoryPage, CoreError> {
        let limit = self.check_limit(limit)?;
        self.members_at_owner(actor, channel).await?;
        let page = self.store.history(channel, anchor, limit).await?;
        Ok(pb::HistoryPage {
            messages: page.messages.iter().map(convert::message).collect(),
            has_more_before: page.has_more_before,
            has_more_after: page.has_more_after,
        })
    }
}
