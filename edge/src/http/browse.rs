//! What a client browses without opening a channel: users by the first
//! letters of their username (autocomplete), and a small channel's read
//! positions (read receipts).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiResult;
use super::extract::{ApiPath, ApiQuery, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Id, User, id_str};

/// Users returned when `limit` is not given.
pub const DEFAULT_SEARCH_LIMIT: u32 = 10;

/// Which users to look for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The start of the username, 1 to 32 characters, any case.
    pub prefix: String,
    /// Users to return, 1 to 50 (default 10).
    pub limit: Option<u32>,
}

/// Users, ascending by username.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// The users found; the caller may be among them.
    pub users: Vec<User>,
}

/// Users whose username starts with `prefix`, case-insensitively: the
/// directory is open to every signed-in user.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, description = "Users, ascending by username", body = UserList),
        (status = 400, description = "`invalid_prefix`, `invalid_limit`", body = ErrorBody)))]
pub async fn search_users(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<UserList>> {
    let limit = params.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    let found = edge
        .cache
        .search(&edge.core, &auth.bearer, &params.prefix, limit)
        .await?;
    Ok(Json(UserList {
        users: found.into_iter().map(User::from).collect(),
    }))
}

/// A member's read position.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadPosition {
    /// The member.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub user_id: u64,
    /// The largest message id they have read.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub last_read_id: u64,
}

/// The read positions of a channel's members who have one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadList {
    /// By user id; the caller's own included.
    pub reads: Vec<ReadPosition>,
}

/// Where each member has read up to, for read receipts: only in channels
/// of at most `receipts_max_members` (in `ready`'s limits) members.
#[utoipa::path(get, path = "/api/v1/channels/{channel_id}/reads", tag = "messages",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The members' read positions", body = ReadList),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody),
        (status = 409, description = "`receipts_off`: the channel has more than `receipts_max_members` members", body = ErrorBody)))]
pub async fn channel_reads(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
) -> ApiResult<Json<ReadList>> {
    let req = pb::ChannelRequest {
        actor_id: auth.user_id,
        channel_id,
    };
    let list = edge.core.as_user(&auth.bearer).channel_reads(req).await?;
    Ok(Json(ReadList {
        reads: list
            .reads
            .into_iter()
            .map(|r| ReadPosition {
                user_id: r.user_id,
                last_read_id: r.last_read_id,
            })
            .collect(),
    }))
}
