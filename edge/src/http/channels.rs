//! Direct and group channels and their members.

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
use crate::wire::{Channel, Id, id_list, id_str};

/// The channels of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    /// Channels, oldest first.
    pub channels: Vec<Channel>,
}

/// A new group channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupBody {
    /// 1 to 100 characters once trimmed, no control characters.
    #[schema(example = "design team")]
    pub name: String,
    /// Members besides the caller (who is always one).
    #[serde(default, with = "id_list")]
    #[schema(value_type = Vec<Id>)]
    pub member_ids: Vec<u64>,
}

/// The other user of a 1:1 channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDirectBody {
    /// Their user id; the caller's own opens their notes-to-self channel.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub user_id: u64,
}

/// Lists the caller's channels.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", security(("bearer" = [])),
    responses((status = 200, description = "The caller's channels", body = ChannelList)))]
pub async fn list(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<ChannelList>> {
    let req = pb::ListChannelsRequest {
        actor_id: auth.user_id,
    };
    let reply = edge.core.as_user(&auth.bearer).list_channels(req).await?;
    let channels = reply.channels.into_iter().map(Channel::from).collect();
    Ok(Json(ChannelList { channels }))
}

/// Creates a group channel owned by the caller.
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", security(("bearer" = [])),
    request_body = CreateGroupBody,
    responses(
        (status = 201, description = "The new group", body = Channel),
        (status = 400, description = "`invalid_channel_name`, `too_many_members`", body = ErrorBody),
        (status = 404, description = "`user_not_found`: a member does not exist", body = ErrorBody)))]
pub async fn create_group(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateGroupBody>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    let req = pb::CreateGroupRequest {
        actor_id: auth.user_id,
        name: body.name,
        member_ids: body.member_ids,
    };
    let channel = edge.core.as_user(&auth.bearer).create_group(req).await?;
    Ok((StatusCode::CREATED, Json(channel.into())))
}

/// Returns the 1:1 channel with a user, creating it on first use.
#[utoipa::path(post, path = "/api/v1/channels/direct", tag = "channels", security(("bearer" = [])),
    request_body = OpenDirectBody,
    responses(
        (status = 200, description = "The 1:1 channel", body = Channel),
        (status = 404, description = "`user_not_found`", body = ErrorBody)))]
pub async fn open_direct(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiJson(body): ApiJson<OpenDirectBody>,
) -> ApiResult<Json<Channel>> {
    let req = pb::OpenDirectRequest {
        actor_id: auth.user_id,
        peer_id: body.user_id,
    };
    let channel = edge.core.as_user(&auth.bearer).open_direct(req).await?;
    Ok(Json(channel.into()))
}

/// One of the caller's channels.
#[utoipa::path(get, path = "/api/v1/channels/{channel_id}", tag = "channels", security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel", body = Channel),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody)))]
pub async fn get(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(channel_id): ApiPath<u64>,
) -> ApiResult<Json<Channel>> {
    let req = pb::ChannelRequest {
        actor_id: auth.user_id,
        channel_id,
    };
    // Asked of the core: `last_message_id` moves with every message. The
    // answer refreshes the cached metadata.
    let stamp = edge.cache.channel_stamp();
    let channel = edge.core.as_user(&auth.bearer).get_channel(req).await?;
    edge.cache.put_channel(channel.clone(), stamp).await;
    Ok(Json(channel.into()))
}

fn member_request(auth: &Auth, channel_id: u64, user_id: u64) -> pb::MemberRequest {
    pb::MemberRequest {
        actor_id: auth.user_id,
        channel_id,
        user_id,
    }
}

/// Adds a member to a group; any member may add.
#[utoipa::path(put, path = "/api/v1/channels/{channel_id}/members/{user_id}", tag = "channels",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id"), ("user_id" = Id, Path, description = "User to add")),
    responses(
        (status = 200, description = "The channel with the member in it", body = Channel),
        (status = 404, description = "`channel_not_found` (also when the caller is not in it), `user_not_found`", body = ErrorBody),
        (status = 409, description = "`channel_full`, `direct_channel_fixed`", body = ErrorBody)))]
pub async fn add_member(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath((channel_id, user_id)): ApiPath<(u64, u64)>,
) -> ApiResult<Json<Channel>> {
    let channel = edge
        .core
        .as_user(&auth.bearer)
        .add_member(member_request(&auth, channel_id, user_id))
        .await?;
    edge.cache.channel_changed(channel_id).await;
    Ok(Json(channel.into()))
}

/// Removes a member: oneself (leaving), a plain member if the caller is an
/// admin, anyone if the caller owns the group. An owner who leaves hands the
/// group to the longest-standing admin, else the longest-standing member.
#[utoipa::path(delete, path = "/api/v1/channels/{channel_id}/members/{user_id}", tag = "channels",
    security(("bearer" = [])),
    params(("channel_id" = Id, Path, description = "Channel id"), ("user_id" = Id, Path, description = "User to remove")),
    responses(
        (status = 200, description = "The channel without the member", body = Channel),
        (status = 403, description = "`not_channel_admin`: a plain member removing someone else; `not_channel_owner`: an admin removing the owner or an admin", body = ErrorBody),
        (status = 404, description = "`channel_not_found`: no such channel, or the caller is not in it", body = ErrorBody),
        (status = 409, description = "`direct_channel_fixed`", body = ErrorBody)))]
pub async fn remove_member(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath((channel_id, user_id)): ApiPath<(u64, u64)>,
) -> ApiResult<Json<Channel>> {
    let channel = edge
        .core
        .as_user(&auth.bearer)
        .remove_member(member_request(&auth, channel_id, user_id))
        .await?;
    edge.cache.channel_changed(channel_id).await;
    Ok(Json(channel.into()))
}
