//! Bots' outgoing webhooks over REST: the bot's owner points it at a URL
//! (getting the signing secret once), reads it back, or removes it.

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

/// Where a bot gets its events.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// An `http` or `https` URL, at most 2,048 bytes, at a public address.
    #[schema(example = "https://bots.example.com/chat/events")]
    pub url: String,
}

/// A bot's webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    /// The bot.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub bot_id: u64,
    /// Where its events are posted.
    pub url: String,
    /// The signing secret (`whsec_` and base64): only in the answer that
    /// set it. Keep it; setting the webhook again makes a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
    /// When it was set, Unix milliseconds.
    pub updated_at_ms: i64,
}

impl From<pb::BotWebhook> for WebhookResponse {
    fn from(h: pb::BotWebhook) -> Self {
        Self {
            bot_id: h.bot_id,
            url: h.url,
            secret: (!h.secret.is_empty()).then_some(h.secret),
            updated_at_ms: h.updated_at_ms,
        }
    }
}

/// Points one of the caller's bots' webhook at a URL, with a new signing
/// secret: every message in the bot's channels and every command for it is
/// posted there, signed, until it answers 2xx.
#[utoipa::path(put, path = "/api/v1/bots/{bot_id}/webhook", tag = "bots", security(("bearer" = [])),
    params(("bot_id" = Id, Path, description = "The bot's user id")),
    request_body = WebhookBody,
    responses((status = 200, description = "The webhook, with its new secret", body = WebhookResponse),
        (status = 400, description = "`invalid_webhook_url`, or `webhook_url_not_public`", body = ErrorBody),
        (status = 404, description = "`bot_not_found`: no such bot of the caller", body = ErrorBody)))]
pub async fn set(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(bot_id): ApiPath<u64>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> ApiResult<Json<WebhookResponse>> {
    let req = pb::SetBotWebhookRequest {
        actor_id: auth.user_id,
        bot_id,
        url: body.url,
    };
    let hook = edge.core.as_user(&auth.bearer).set_bot_webhook(req).await?;
    Ok(Json(hook.into()))
}

/// One of the caller's bots' webhook, without its secret.
#[utoipa::path(get, path = "/api/v1/bots/{bot_id}/webhook", tag = "bots", security(("bearer" = [])),
    params(("bot_id" = Id, Path, description = "The bot's user id")),
    responses((status = 200, description = "The webhook", body = WebhookResponse),
        (status = 404, description = "`bot_not_found`, or `webhook_not_found`: the bot has none", body = ErrorBody)))]
pub async fn get(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(bot_id): ApiPath<u64>,
) -> ApiResult<Json<WebhookResponse>> {
    let req = pb::BotRequest {
        actor_id: auth.user_id,
        bot_id,
    };
    let hook = edge.core.as_user(&auth.bearer).get_bot_webhook(req).await?;
    Ok(Json(hook.into()))
}

/// Removes one of the caller's bots' webhook; deliveries not yet made are
/// dropped.
#[utoipa::path(delete, path = "/api/v1/bots/{bot_id}/webhook", tag = "bots", security(("bearer" = [])),
    params(("bot_id" = Id, Path, description = "The bot's user id")),
    responses((status = 204, description = "The webhook is removed"),
        (status = 404, description = "`bot_not_found`, or `webhook_not_found`: the bot has none", body = ErrorBody)))]
pub async fn remove(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(bot_id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    let req = pb::BotRequest {
        actor_id: auth.user_id,
        bot_id,
    };
    edge.core
        .as_user(&auth.bearer)
        .remove_bot_webhook(req)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
