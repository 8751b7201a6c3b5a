//! Sending messages and reading history.

use chat_proto::v1 as pb;

use super::CoreService;
use crate::convert;
use crate::error::CoreError;
use crate::pipeline::Pending;
use crate::store::{Appended, HistoryAnchor, Id, Store};

/// Longest `client_msg_id`, in characters.
pub const CLIENT_MSG_ID_MAX: usize = 64;

impl<S: Store> CoreService<S> {
    /// Checks, stores durably and acknowledges one message.
    pub async fn send_message(
        &self,
        req: pb::SendMessageRequest,
    ) -> Result<pb::SendMessageReply, CoreError> {
        self.check_text(&req.text)?;
        let key_len = req.client_msg_id.chars().count();
        if key_len == 0 || key_len > CLIENT_MSG_ID_MAX {
            return Err(CoreError::invalid(
                "invalid_client_msg_id",
                format!("client_msg_id must be 1 to {CLIENT_MSG_ID_MAX} characters"),
            ));
        }
        let members = self.members_for(req.actor_id, req.channel_id).await?;
        self.blocks.check(req.channel_id, &members).await?;
        let outcome = self
            .appender()?
            .append(Pending {
                channel_id: req.channel_id,
                sender_id: req.actor_id,
                client_msg_id: req.client_msg_id,
                text: req.text,
                origin_session: req.origin_session,
            })
            .await?;
        Ok(pb::SendMessageReply {
            message: Some(convert::message(outcome.message())),
            duplicate: matches!(outcome, Appended::Duplicate(_)),
        })
    }

    /// Checks a message text's length.
    pub(super) fn check_text(&self, text: &str) -> Result<(), CoreError> {
        let chars = text.chars().count();
        if chars == 0 {
            return Err(CoreError::invalid("text_empty", "text must not be empty"));
        }
        let max = self.config.max_text_chars;
        if chars > max {
            return Err(CoreError::invalid(
                "text_too_long",
                format!("text has {chars} characters; at most {max} are allowed"),
            ));
        }
        Ok(())
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
        self.members_for(actor, channel).await?;
        let page = self.store.history(channel, anchor, limit).await?;
        Ok(pb::HistoryPage {
            messages: page.messages.iter().map(convert::message).collect(),
            has_more_before: page.has_more_before,
            has_more_after: page.has_more_after,
        })
    }
}
