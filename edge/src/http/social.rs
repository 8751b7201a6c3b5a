//! Profiles, settings and relationships over REST.

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
use crate::wire::{Id, Notifications, Relationship, Settings, User, id_list};

/// Profile fields to change; absent ones stay, `""` clears one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// At most 64 characters.
    pub display_name: Option<String>,
    /// At most 140 characters.
    pub status_text: Option<String>,
    /// An http(s) URL, at most 2048 bytes.
    pub avatar_url: Option<String>,
}

/// Settings to change; absent ones stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// `all`, `mentions` or `none`.
    pub notifications: Option<Notifications>,
    /// Channels to mute.
    #[serde(default, with = "id_list")]
    #[schema(value_type = Vec<Id>)]
    pub mute: Vec<u64>,
    /// Channels to unmute.
    #[serde(default, with = "id_list")]
    #[schema(value_type = Vec<Id>)]
    pub unmute: Vec<u64>,
    /// Appear offline to everyone else (still able to chat).
    pub invisible: Option<bool>,
}

/// What to do about another user.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Ask to be friends (accepts their request if they asked first).
    Request,
    /// Accept their request.
    Accept,
    /// Decline their request or cancel one's own.
    Decline,
    /// End a friendship.
    Remove,
    /// Block: no friendship, no 1:1 messages either way.
    Block,
    /// Lift one's block.
    Unblock,
}

/// An action on a relationship.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipBody {
    /// What to do.
    pub action: Action,
}

/// Every relationship of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipList {
    /// Friends (with presence), requests both ways, and blocks.
    pub relationships: Vec<Relationship>,
}

/// Changes the caller's profile; their devices, friends and watchers see it live.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "accounts", security(("bearer" = [])),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The caller as they are now", body = User),
        (status = 400, description = "`invalid_display_name`, `invalid_status_text`, `invalid_avatar_url`", body = ErrorBody)))]
pub async fn update_profile(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiJson(body): ApiJson<ProfileBody>,
) -> ApiResult<Json<User>> {
    let req = pb::UpdateProfileRequest {
        actor_id: auth.user_id,
        display_name: body.display_name,
        status_text: body.status_text,
        avatar_url: body.avatar_url,
    };
    let user = edge.core.as_user(&auth.bearer).update_profile(req).await?;
    edge.cache.user_changed(user.id, &user.username).await;
    Ok(Json(user.into()))
}

/// The caller's settings.
#[utoipa::path(get, path = "/api/v1/users/me/settings", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The caller's settings", body = Settings)))]
pub async fn settings(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<Settings>> {
    let req = pb::UserRequest {
        actor_id: auth.user_id,
    };
    let settings = edge.core.as_user(&auth.bearer).get_settings(req).await?;
    Ok(Json(settings.into()))
}

/// Changes the caller's settings; their other devices see it live.
#[utoipa::path(patch, path = "/api/v1/users/me/settings", tag = "accounts", security(("bearer" = [])),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "The settings as they are now", body = Settings),
        (status = 404, description = "`channel_not_found`: a channel to mute that the caller is not in", body = ErrorBody)))]
pub async fn update_settings(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiJson(body): ApiJson<SettingsBody>,
) -> ApiResult<Json<Settings>> {
    let notifications = body
        .notifications
        .map_or(pb::NotificationLevel::Unspecified, Notifications::to_pb);
    let req = pb::UpdateSettingsRequest {
        actor_id: auth.user_id,
        notifications: notifications as i32,
        mute: body.mute,
        unmute: body.unmute,
        invisible: body.invisible,
    };
    let settings = edge.core.as_user(&auth.bearer).update_settings(req).await?;
    Ok(Json(settings.into()))
}

/// The caller's friends (with presence), friend requests and blocks.
#[utoipa::path(get, path = "/api/v1/relationships", tag = "relationships", security(("bearer" = [])),
    responses((status = 200, description = "The caller's relationships", body = RelationshipList)))]
pub async fn relationships(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
) -> ApiResult<Json<RelationshipList>> {
    let req = pb::UserRequest {
        actor_id: auth.user_id,
    };
    let list = edge
        .core
        .as_user(&auth.bearer)
        .list_relationships(req)
        .await?;
    let relationships = list.relationships;
    Ok(Json(RelationshipList {
        relationships: relationships.into_iter().map(Into::into).collect(),
    }))
}

/// Requests, accepts, declines or removes a friendship, or blocks or unblocks.
#[utoipa::path(post, path = "/api/v1/relationships/{user_id}", tag = "relationships",
    security(("bearer" = [])), request_body = RelationshipBody,
    params(("user_id" = Id, Path, description = "The other user's id")),
    responses(
        (status = 200, description = "The caller's relationship as it is now", body = Relationship),
        (status = 400, description = "`invalid_user`: the caller's own id", body = ErrorBody),
        (status = 403, description = "`blocked`: a request while either blocks the other", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 409, description = "`already_friends`, `no_friend_request`, `not_friends`, `not_blocked`", body = ErrorBody)))]
pub async fn change_relationship(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(user_id): ApiPath<u64>,
    ApiJson(body): ApiJson<RelationshipBody>,
) -> ApiResult<Json<Relationship>> {
    let action = match body.action {
        Action::Request => pb::RelationshipAction::Request,
        Action::Accept => pb::RelationshipAction::Accept,
        Action::Decline => pb::RelationshipAction::Decline,
        Action::Remove => pb::RelationshipAction::Remove,
        Action::Block => pb::RelationshipAction::Block,
        Action::Unblock => pb::RelationshipAction::Unblock,
    };
    let req = pb::RelationshipRequest {
        actor_id: auth.user_id,
        user_id,
        action: action as i32,
    };
    let rel = edge
        .core
        .as_user(&auth.bearer)
        .change_relationship(req)
        .await?;
    Ok(Json(rel.into()))
}
