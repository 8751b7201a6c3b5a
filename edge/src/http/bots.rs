//! Bot accounts over REST: a user creates bots they own, lists them, and
//! rotates or revokes their tokens (a revoked bot's live sessions close at
//! once). A bot then signs in with its token alone, like any client.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use super::accounts::{AuthResponse, auth_response};
use super::extract::{ApiJson, ApiPath, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Id, User};

/// A bot to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotBody {
    /// Its username: unique among users and bots, the rules of sign-up.
    #[schema(example = "deploy-bot")]
    pub username: String,
    /// The name shown instead of the username, at most 64 characters.
    #[schema(example = "Deploys")]
    pub display_name: Option<String>,
}

/// The caller's bots.
#[derive(Debug, Serialize, ToSchema)]
pub struct BotList {
    /// By id; each has `bot_owner_id` set to the caller.
    pub bots: Vec<User>,
}

/// Creates a bot the caller owns and returns its first token. Add it to
/// channels like any member; it connects with the token alone.
#[utoipa::path(post, path = "/api/v1/bots", tag = "bots", security(("bearer" = [])),
    request_body = BotBody,
    responses(
        (status = 201, description = "The bot and a token for it", body = AuthResponse),
        (status = 400, description = "`invalid_username` or `invalid_display_name`", body = ErrorBody),
        (status = 403, description = "`bots_cannot`: a bot cannot own bots", body = ErrorBody),
        (status = 409, description = "`username_taken`, or `too_many_bots`: the caller owns the most allowed", body = ErrorBody)))]
pub async fn create(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiJson(body): ApiJson<BotBody>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let req = pb::CreateBotRequest {
        actor_id: auth.user_id,
        username: body.username,
        display_name: body.display_name.unwrap_or_default(),
    };
    let reply = edge.core.as_user(&auth.bearer).create_bot(req).await?;
    Ok((StatusCode::CREATED, Json(auth_response(reply)?)))
}

/// Lists the caller's bots.
#[utoipa::path(get, path = "/api/v1/bots", tag = "bots", security(("bearer" = [])),
    responses((status = 200, description = "The caller's bots", body = BotList)))]
pub async fn list(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<BotList>> {
    let req = pb::UserRequest {
        actor_id: auth.user_id,
    };
    let list = edge.core.as_user(&auth.bearer).list_bots(req).await?;
    Ok(Json(BotList {
        bots: list.users.into_iter().map(User::from).collect(),
    }))
}

/// Ends every token of one of the caller's bots (its sessions close at
/// once) and returns a new one.
#[utoipa::path(post, path = "/api/v1/bots/{bot_id}/token", tag = "bots", security(("bearer" = [])),
    params(("bot_id" = Id, Path, description = "The bot's user id")),
    responses((status = 200, description = "The bot and its new token", body = AuthResponse),
        (status = 404, description = "`bot_not_found`: no such bot of the caller", body = ErrorBody)))]
pub async fn rotate(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(bot_id): ApiPath<u64>,
) -> ApiResult<Json<AuthResponse>> {
    let req = pb::BotRequest {
        actor_id: auth.user_id,
        bot_id,
    };
    let reply = edge
        .core
        .as_user(&auth.bearer)
        .rotate_bot_token(req)
        .await?;
    Ok(Json(auth_response(reply)?))
}

/// Ends every token of one of the caller's bots: it is signed out
/// everywhere, at once, until its token is rotated.
#[utoipa::path(delete, path = "/api/v1/bots/{bot_id}/token", tag = "bots", security(("bearer" = [])),
    params(("bot_id" = Id, Path, description = "The bot's user id")),
    responses((status = 204, description = "The bot's tokens are revoked"),
        (status = 404, description = "`bot_not_found`: no such bot of the caller", body = ErrorBody)))]
pub async fn revoke(
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
        .revoke_bot_tokens(req)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
