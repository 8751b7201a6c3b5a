//! A channel's members with their profiles and roles, for a member list:
//! answered from the edge's metadata cache once warm.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiResult;
use super::extract::{ApiPath, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Id, User};

/// What a member may do in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Owns the group (or opened the direct channel).
    Owner,
    /// May moderate.
    Admin,
    /// Writes and reads.
    Member,
}

/// One member.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// Their profile.
    pub user: User,
    /// Their role.
    pub role: MemberRole,
}

/// A channel's members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    /// The channel's name (empty for a direct channel).
    pub name: String,
    /// Ascending by user id.
    pub members: Vec<Member>,
}

/// The members of one of the caller's channels, with profiles and roles.
#[utoipa::path(get, path = "/api/v1/channels/{channel_id}/members", tag = "channels",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The members", body = MemberList),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody)))]
pub async fn list(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
) -> ApiResult<Json<MemberList>> {
    let (core, bearer) = (&edge.core, &auth.bearer);
    let channel = edge
        .cache
        .channel(core, bearer, auth.user_id, channel_id)
        .await?;
    let users = edge
        .cache
        .users(core, bearer, &channel.member_ids)
        .await?
        .items;
    let role = |id: u64| {
        if id == channel.owner_id {
            MemberRole::Owner
        } else if channel.admin_ids.binary_search(&id).is_ok() {
            MemberRole::Admin
        } else {
            MemberRole::Member
        }
    };
    let members = users
        .iter()
        .map(|u| Member {
            role: role(u.id),
            user: User::from(u.as_ref().clone()),
        })
        .collect();
    Ok(Json(MemberList {
        name: channel.name.clone(),
        members,
    }))
}
