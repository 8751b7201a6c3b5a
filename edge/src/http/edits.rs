//! Read positions, edits and deletes over REST.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Id, Message, MessageVersion, ReadState, id_str};

/// The newest message the user has read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// A message id of the channel, at most its last.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub message_id: u64,
}

/// New text for a message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// As for sending: 1 to 100,000 characters, not only whitespace.
    pub text: String,
}

/// Every text a message has had.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// Oldest first; the last is the text now.
    pub versions: Vec<MessageVersion>,
}

/// Moves the caller's read position forward (never back); all their
/// devices, and in small channels the other members, see it live.
#[utoipa::path(put, path = "/api/v1/channels/{channel_id}/read", tag = "messages",
    security(("bearer" = [])), request_body = ReadBody,
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The read position and unread count now", body = ReadState),
        (status = 400, description = "`read_beyond_last`", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody)))]
pub async fn mark_read(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiJson(body): ApiJson<ReadBody>,
) -> ApiResult<Json<ReadState>> {
    let req = pb::MarkReadRequest {
        actor_id: auth.user_id,
        channel_id,
        message_id: body.message_id,
    };
    let state = edge.core.as_user(&auth.bearer).mark_read(req).await?;
    Ok(Json(state.into()))
}

/// Replaces the text of one of the caller's messages.
#[utoipa::path(patch, path = "/api/v1/channels/{channel_id}/messages/{message_id}", tag = "messages",
    security(("bearer" = [])), request_body = EditBody,
    params(("channel_id" = Id, Path, description = "Channel id"), ("message_id" = Id, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message as it is now", body = Message),
        (status = 400, description = "`text_empty`, `text_too_long`, `invalid_text`", body = ErrorBody),
        (status = 403, description = "`not_your_message`: only the author edits", body = ErrorBody),
        (status = 404, description = "`channel_not_found` (also when the caller is not in it), `message_not_found`", body = ErrorBody)))]
pub async fn edit(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath((channel_id, message_id)): ApiPath<(u64, u64)>,
    ApiJson(body): ApiJson<EditBody>,
) -> ApiResult<Json<Message>> {
    let req = pb::EditMessageRequest {
        actor_id: auth.user_id,
        channel_id,
        message_id,
        text: body.text,
    };
    let message = edge.core.as_user(&auth.bearer).edit_message(req).await?;
    Ok(Json(message.into()))
}

/// Deletes a message: one of the caller's own, or anyone's in a group the
/// caller owns or administers (the tombstone's `deleted_by` then names the
/// caller). The tombstone stays in history.
#[utoipa::path(delete, path = "/api/v1/channels/{channel_id}/messages/{message_id}", tag = "messages",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id"), ("message_id" = Id, Path, description = "Message id")),
    responses(
        (status = 200, description = "The tombstone", body = Message),
        (status = 403, description = "`not_your_message`: neither the author nor the group's owner or an admin", body = ErrorBody),
        (status = 404, description = "`channel_not_found` (also when the caller is not in it), `message_not_found`", body = ErrorBody)))]
pub async fn delete(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath((channel_id, message_id)): ApiPath<(u64, u64)>,
) -> ApiResult<Json<Message>> {
    let req = pb::MessageRef {
        actor_id: auth.user_id,
        channel_id,
        message_id,
    };
    let message = edge.core.as_user(&auth.bearer).delete_message(req).await?;
    Ok(Json(message.into()))
}

/// Every text a message has had, oldest first, for any member.
#[utoipa::path(get, path = "/api/v1/channels/{channel_id}/messages/{message_id}/versions", tag = "messages",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id"), ("message_id" = Id, Path, description = "Message id")),
    responses((status = 200, description = "Every text of the message, oldest first", body = VersionList),
        (status = 404, description = "`channel_not_found` (also when the caller is not in it); `message_not_found`: no such message, or it was deleted", body = ErrorBody)))]
pub async fn versions(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath((channel_id, message_id)): ApiPath<(u64, u64)>,
) -> ApiResult<Json<VersionList>> {
    let req = pb::MessageRef {
        actor_id: auth.user_id,
        channel_id,
        message_id,
    };
    let list = edge
        .core
        .as_user(&auth.bearer)
        .message_versions(req)
        .await?;
    let versions = list
        .versions
        .into_iter()
        .map(MessageVersion::from)
        .collect();
    Ok(Json(VersionList { versions }))
}
