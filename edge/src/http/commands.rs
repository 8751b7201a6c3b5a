//! Slash commands and bots' ephemeral answers over REST.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Id, id_str};

/// A slash command: what `/command args` typed in a channel means.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandBody {
    /// The username of a bot in the channel (a leading `/` is allowed).
    #[schema(example = "weather")]
    pub command: String,
    /// The rest of the line, at most 4,000 characters; may be left out.
    #[schema(example = "paris tomorrow")]
    pub args: Option<String>,
}

/// A command as its bot got it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandResponse {
    /// Its id: a webhook delivery's `webhook-id`, an answer's `command_id`.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub command_id: u64,
    /// The bot it went to.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub bot_id: u64,
    /// The bot's username.
    pub command: String,
    /// The arguments, trimmed.
    pub args: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// Runs a slash command: it goes to the bot of that username in the
/// channel, by its live sessions (a `command` frame) and its webhook. It is
/// not stored in the channel; the bot answers there or to the caller alone.
#[utoipa::path(post, path = "/api/v1/channels/{channel_id}/commands", tag = "bots",
    security(("bearer" = [])), request_body = CommandBody,
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 202, description = "The command, on its way to the bot", body = CommandResponse),
        (status = 400, description = "`invalid_command` or `invalid_args`", body = ErrorBody),
        (status = 404, description = "`channel_not_found`, or `unknown_command`: no bot of that name in the channel", body = ErrorBody)))]
pub async fn run(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiJson(body): ApiJson<CommandBody>,
) -> ApiResult<(StatusCode, Json<CommandResponse>)> {
    let req = pb::RunCommandRequest {
        actor_id: auth.user_id,
        channel_id,
        command: body.command,
        args: body.args.unwrap_or_default(),
    };
    let c = edge.core.as_user(&auth.bearer).run_command(req).await?;
    let reply = CommandResponse {
        command_id: c.command_id,
        bot_id: c.bot_id,
        command: c.command,
        args: c.args,
        created_at_ms: c.created_at_ms,
    };
    Ok((StatusCode::ACCEPTED, Json(reply)))
}

/// A bot's message for one member of a channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EphemeralBody {
    /// The member who sees it (a command's `caller_id`).
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub user_id: u64,
    /// The text, as a message's.
    #[schema(example = "Paris tomorrow: 14 °C, light rain")]
    pub text: String,
    /// The command it answers, if any.
    #[serde(default, with = "id_str")]
    #[schema(value_type = Id)]
    pub command_id: u64,
}

/// An ephemeral message as sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct EphemeralResponse {
    /// Its id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// Sends a bot's message to one member of a channel alone: their live
/// sessions get an `ephemeral` frame; it is not stored and not in history.
/// Bots only, under the bots' send rate.
#[utoipa::path(post, path = "/api/v1/channels/{channel_id}/ephemeral", tag = "bots",
    security(("bearer" = [])), request_body = EphemeralBody,
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 202, description = "Sent to the member's live sessions", body = EphemeralResponse),
        (status = 400, description = "`text_empty`, `text_too_long`, `invalid_text`", body = ErrorBody),
        (status = 403, description = "`bots_only`: the caller is not a bot", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the bot is not in it", body = ErrorBody),
        (status = 409, description = "`not_a_member`: the user is not in the channel", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the bot sends too fast; retry after `Retry-After`", body = ErrorBody)))]
pub async fn ephemeral(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiJson(body): ApiJson<EphemeralBody>,
) -> ApiResult<(StatusCode, Json<EphemeralResponse>)> {
    let req = pb::SendEphemeralRequest {
        actor_id: auth.user_id,
        channel_id,
        user_id: body.user_id,
        text: body.text,
        command_id: body.command_id,
    };
    let m = edge.core.as_user(&auth.bearer).send_ephemeral(req).await?;
    let reply = EphemeralResponse {
        id: m.id,
        created_at_ms: m.created_at_ms,
    };
    Ok((StatusCode::ACCEPTED, Json(reply)))
}
