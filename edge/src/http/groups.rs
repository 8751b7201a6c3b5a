//! Group administration over REST: rename, roles, ownership, deletion.
//! Each change reaches every member's sessions as a `channel` frame.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiResult;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Channel, Id, id_str};

/// A new name for a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    /// 1 to 100 characters once trimmed, no control characters.
    #[schema(example = "design team")]
    pub name: String,
}

/// A member's role.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// May rename the group, remove plain members and delete others' messages.
    Admin,
    /// May write, add members and leave.
    Member,
}

/// The role to give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `admin` or `member`.
    pub role: RoleName,
}

/// The member who becomes owner.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerBody {
    /// Their user id; they must be a member.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub user_id: u64,
}

/// Renames a group (its owner or an admin).
#[utoipa::path(patch, path = "/api/v1/channels/{channel_id}", tag = "channels",
    security(("bearer" = [])), request_body = RenameBody,
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses((status = 200, description = "The renamed group", body = Channel),
        (status = 400, description = "`invalid_channel_name`", body = ErrorBody),
        (status = 403, description = "`not_channel_admin`: not the owner or an admin", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody),
        (status = 409, description = "`direct_channel_fixed`: a direct channel", body = ErrorBody)))]
pub async fn rename(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Json<Channel>> {
    let req = pb::RenameChannelRequest {
        actor_id: auth.user_id,
        channel_id,
        name: body.name,
    };
    let channel = edge.core.as_user(&auth.bearer).rename_channel(req).await?;
    edge.cache.channel_changed(channel_id).await;
    Ok(Json(channel.into()))
}

/// Deletes a group and its history (its owner only); every member is told
/// with a `channel` frame of change `deleted`.
#[utoipa::path(delete, path = "/api/v1/channels/{channel_id}", tag = "channels",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses((status = 204, description = "The group and its history are gone"),
        (status = 403, description = "`not_channel_owner`", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody),
        (status = 409, description = "`direct_channel_fixed`: a direct channel", body = ErrorBody)))]
pub async fn delete(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    let req = pb::ChannelRequest {
        actor_id: auth.user_id,
        channel_id,
    };
    edge.core.as_user(&auth.bearer).delete_channel(req).await?;
    edge.cache.channel_changed(channel_id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a member an admin or a plain member (the owner only).
#[utoipa::path(put, path = "/api/v1/channels/{channel_id}/members/{user_id}/role", tag = "channels",
    security(("bearer" = [])), request_body = RoleBody,
    params(("channel_id" = Id, Path, description = "Channel id"), ("user_id" = Id, Path, description = "Member")),
    responses((status = 200, description = "The group with the new role", body = Channel),
        (status = 400, description = "`invalid_user`: the owner's own role", body = ErrorBody),
        (status = 403, description = "`not_channel_owner`", body = ErrorBody),
        (status = 404, description = "`channel_not_found` (also when the caller is not in it); `user_not_found`: not a member", body = ErrorBody),
        (status = 409, description = "`direct_channel_fixed`: a direct channel", body = ErrorBody)))]
pub async fn set_role(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath((channel_id, user_id)): ApiPath<(u64, u64)>,
    ApiJson(body): ApiJson<RoleBody>,
) -> ApiResult<Json<Channel>> {
    let role = match body.role {
        RoleName::Admin => pb::MemberRole::Admin,
        RoleName::Member => pb::MemberRole::Member,
    };
    let req = pb::MemberRoleRequest {
        actor_id: auth.user_id,
        channel_id,
        user_id,
        role: role as i32,
    };
    let channel = edge.core.as_user(&auth.bearer).set_member_role(req).await?;
    edge.cache.channel_changed(channel_id).await;
    Ok(Json(channel.into()))
}

/// Hands the group to another member (the owner only); the old owner stays
/// as an admin.
#[utoipa::path(put, path = "/api/v1/channels/{channel_id}/owner", tag = "channels",
    security(("bearer" = [])), request_body = OwnerBody,
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses((status = 200, description = "The group with its new owner", body = Channel),
        (status = 403, description = "`not_channel_owner`", body = ErrorBody),
        (status = 404, description = "`channel_not_found` (also when the caller is not in it); `user_not_found`: not a member", body = ErrorBody),
        (status = 409, description = "`direct_channel_fixed`: a direct channel", body = ErrorBody)))]
pub async fn transfer(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
    ApiJson(body): ApiJson<OwnerBody>,
) -> ApiResult<Json<Channel>> {
    let req = pb::MemberRequest {
        actor_id: auth.user_id,
        channel_id,
        user_id: body.user_id,
    };
    let channel = edge
        .core
        .as_user(&auth.bearer)
        .transfer_ownership(req)
        .await?;
    edge.cache.channel_changed(channel_id).await;
    Ok(Json(channel.into()))
}
