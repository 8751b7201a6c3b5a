//! Slash commands and bots' answers: `/name args` in a channel goes to the
//! member bot of that username, by its live sessions and its webhook, and
//! is not stored; a bot answers in the channel, or to the caller alone with
//! an ephemeral message that is shown once and never stored.

use chat_proto::v1 as pb;
use chat_proto::v1::event::Kind;

use super::{CoreService, now_ms};
use crate::error::CoreError;
use crate::store::{HookEvent, HookKind, Store};

/// The longest arguments of a command, in characters.
pub const ARGS_MAX_CHARS: usize = 4_000;

impl<S: Store> CoreService<S> {
    /// Sends a slash command to the channel's bot it names.
    pub async fn run_command(
        &self,
        req: pb::RunCommandRequest,
    ) -> Result<pb::BotCommand, CoreError> {
        let name = req.command.trim().trim_start_matches('/');
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(CoreError::invalid(
                "invalid_command",
                "command: a bot's username, without spaces (as in /weather paris)",
            ));
        }
        let args = req.args.trim();
        if args.chars().count() > ARGS_MAX_CHARS
            || args
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(CoreError::invalid(
                "invalid_args",
                format!("args: at most {ARGS_MAX_CHARS} characters, no control characters"),
            ));
        }
        let members = self.members_at_owner(req.actor_id, req.channel_id).await?;
        let bot = match self.store.user_by_name(name).await? {
            Some(bot) if bot.is_bot() && members.contains(bot.id) => bot,
            _ => return Err(CoreError::UnknownCommand(name.to_owned())),
        };
        let command = pb::BotCommand {
            command_id: self.next_id(),
            channel_id: req.channel_id,
            caller_id: req.actor_id,
            bot_id: bot.id,
            command: bot.username.clone(),
            args: args.to_owned(),
            created_at_ms: now_ms(),
        };
        // Queued for its webhook, if it has one (no row otherwise).
        let body = chat_protocol::events::command_frame(command.clone()).encode();
        let event = HookEvent {
            event_id: command.command_id,
            channel_id: command.channel_id,
            sender_id: command.caller_id,
            kind: HookKind::Command,
            to: bot.id,
            body: body.to_string(),
        };
        if self.store.queue_hooks(vec![event], now_ms()).await? > 0 {
            metrics::counter!("chat_webhook_queued_total").increment(1);
            self.hook_wake.notify_one();
        }
        self.hub
            .publish(&[bot.id], Kind::Command(command.clone()))
            .await;
        metrics::counter!("chat_bot_commands_total").increment(1);
        Ok(command)
    }

    /// A bot's message to one member of a channel, shown to them alone.
    pub async fn send_ephemeral(
        &self,
        req: pb::SendEphemeralRequest,
    ) -> Result<pb::EphemeralMessage, CoreError> {
        if !self.is_bot(req.actor_id).await? {
            return Err(CoreError::BotsOnly("send an ephemeral message"));
        }
        self.check_text(&req.text)?;
        let members = self.members_at_owner(req.actor_id, req.channel_id).await?;
        if !members.contains(req.user_id) {
            return Err(CoreError::conflict(
                "not_a_member",
                "user_id: the user is not a member of this channel",
            ));
        }
        self.bot_limiter.check(req.actor_id)?;
        let message = pb::EphemeralMessage {
            id: self.next_id(),
            channel_id: req.channel_id,
            sender_id: req.actor_id,
            user_id: req.user_id,
            text: req.text,
            created_at_ms: now_ms(),
            command_id: req.command_id,
        };
        self.hub
            .publish(&[req.user_id], Kind::Ephemeral(message.clone()))
            .await;
        Ok(message)
    }
}
