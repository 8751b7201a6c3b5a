//! History and sending over REST.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use super::{ApiResult, need};
use crate::Edge;
use crate::error::{ApiError, ErrorBody};
use crate::wire::{Id, Message};

/// Default page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;

/// Which page of history; at most one of `before`, `after`, `around`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Messages per page, 1 to 100 (default 50).
    pub limit: Option<u32>,
    /// Messages older than this id.
    pub before: Option<u64>,
    /// Messages newer than this id.
    pub after: Option<u64>,
    /// Messages around this id (it included), to jump to a message.
    pub around: Option<u64>,
}

/// A page of history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// Messages in id order.
    pub messages: Vec<Message>,
    /// Older messages exist.
    pub has_more_before: bool,
    /// Newer messages exist.
    pub has_more_after: bool,
}

/// A message to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// 1 to 100,000 characters, not only whitespace; no control characters
    /// but line feed and tab. `@username` of a member becomes a mention.
    pub text: String,
    /// Idempotency key, 1 to 64 characters; a retry with the same key returns
    /// the first message. Generated when absent (then retries are not safe).
    pub client_msg_id: Option<String>,
}

/// The stored message.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendResponse {
    /// The message as stored.
    pub message: Message,
    /// True when `client_msg_id` was used before and nothing new was stored.
    pub duplicate: bool,
}

/// Reads a page of a channel's history.
#[utoipa::path(get, path = "/api/v1/channels/{channel_id}/messages", tag = "messages",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id"), HistoryParams),
    responses(
        (status = 200, description = "A page of history", body = HistoryPage),
        (status = 400, description = "`invalid_limit`, `conflicting_anchors`", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody)))]
pub async fn history(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    use pb::history_request::Anchor;
    let anchors = [
        params.before.map(Anchor::Before),
        params.after.map(Anchor::After),
        params.around.map(Anchor::Around),
    ];
    let mut given = anchors.into_iter().flatten();
    let anchor = given.next();
    if given.next().is_some() {
        return Err(ApiError::bad_request(
            "conflicting_anchors",
            "give at most one of before, after and around",
        ));
    }
    let req = pb::HistoryRequest {
        actor_id: auth.user_id,
        channel_id,
        limit: params.limit.unwrap_or(DEFAULT_LIMIT),
        anchor,
    };
    let page = edge.core.as_user(&auth.bearer).history(req).await?;
    Ok(Json(HistoryPage {
        messages: page.messages.into_iter().map(Message::from).collect(),
        has_more_before: page.has_more_before,
        has_more_after: page.has_more_after,
    }))
}

/// Sends a message; answered once it is durable.
#[utoipa::path(post, path = "/api/v1/channels/{channel_id}/messages", tag = "messages",
    security(("bearer" = [])), request_body = SendBody,
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 201, description = "The new message, stored durably", body = SendResponse),
        (status = 200, description = "A duplicate: the first message with this `client_msg_id`", body = SendResponse),
        (status = 400, description = "`text_empty`, `text_too_long`, `invalid_text`, `invalid_client_msg_id`", body = ErrorBody),
        (status = 403, description = "`blocked`: a 1:1 channel where one user blocks the other", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody),
        (status = 429, description = "`overloaded`: the write queue is full; retry with backoff; `rate_limited`: a bot sends faster than its limit, retry after `Retry-After`", body = ErrorBody)))]
pub async fn send(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiJson(body): ApiJson<SendBody>,
) -> ApiResult<(StatusCode, Json<SendResponse>)> {
    let client_msg_id = body
        .client_msg_id
        .unwrap_or_else(|| generated_key(edge.next_session_id()));
    let req = pb::SendMessageRequest {
        actor_id: auth.user_id,
        channel_id,
        text: body.text,
        client_msg_id,
        origin_session: 0,
    };
    let reply = edge.core.as_user(&auth.bearer).send_message(req).await?;
    let status = if reply.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(SendResponse {
            message: need(reply.message)?.into(),
            duplicate: reply.duplicate,
        }),
    ))
}

/// A key unique across restarts: wall-clock nanoseconds and a counter.
fn generated_key(counter: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("rest-{nanos:x}-{counter:x}")
}
