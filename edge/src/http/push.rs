//! A user's push targets over REST: each device registers where its
//! notifications go (a browser's Web Push subscription as `PushManager`
//! gives it, or an FCM or APNs device token), lists and removes them; and
//! the VAPID public key a browser subscribes with.

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

/// The service a push target is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    /// A browser's Web Push subscription.
    WebPush,
    /// Firebase Cloud Messaging.
    Fcm,
    /// Apple Push Notification service.
    Apns,
}

impl PushKind {
    fn to_pb(self) -> pb::PushKind {
        match self {
            PushKind::WebPush => pb::PushKind::WebPush,
            PushKind::Fcm => pb::PushKind::Fcm,
            PushKind::Apns => pb::PushKind::Apns,
        }
    }

    fn from_pb(code: i32) -> Option<Self> {
        match pb::PushKind::try_from(code).ok()? {
            pb::PushKind::WebPush => Some(PushKind::WebPush),
            pb::PushKind::Fcm => Some(PushKind::Fcm),
            pb::PushKind::Apns => Some(PushKind::Apns),
            pb::PushKind::Unspecified => None,
        }
    }
}

/// A Web Push subscription's keys, base64url as the browser gives them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebPushKeys {
    /// The browser's P-256 public key.
    pub p256dh: String,
    /// The 16-byte authentication secret.
    pub auth: String,
}

/// A device's push target. For Web Push, the browser's
/// `PushSubscription.toJSON()` with `"kind": "web_push"` added; for FCM and
/// APNs, the device token and the app it is for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushTargetBody {
    /// The service.
    pub kind: PushKind,
    /// Web Push: the subscription's endpoint URL.
    pub endpoint: Option<String>,
    /// Web Push: the subscription's keys.
    pub keys: Option<WebPushKeys>,
    /// As `PushSubscription.toJSON()` writes it; not used.
    #[expect(
        dead_code,
        reason = "accepted so that toJSON() bodies pass as they are"
    )]
    #[serde(rename = "expirationTime")]
    #[schema(value_type = Option<i64>)]
    pub expiration_time: Option<serde_json::Value>,
    /// FCM or APNs: the device token.
    pub token: Option<String>,
    /// FCM: the Firebase project id; APNs: the app's bundle id.
    pub app_id: Option<String>,
    /// The device's platform (`web`, `android`, `ios`…); defaults from the kind.
    pub platform: Option<String>,
}

/// A registered push target; its keys are never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushTarget {
    /// Its id, to remove it with `DELETE /api/v1/users/me/push-targets/{id}`.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// The service.
    pub kind: PushKind,
    /// Web Push: the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// FCM or APNs: the device token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// FCM project or APNs bundle id (empty for Web Push).
    pub app_id: String,
    /// The device's platform.
    pub platform: String,
    /// When it was registered (last), Unix milliseconds.
    pub created_at_ms: i64,
}

impl PushTarget {
    fn from_pb(t: pb::PushTarget) -> ApiResult<Self> {
        let kind = super::need(PushKind::from_pb(t.kind))?;
        let (endpoint, token) = match kind {
            PushKind::WebPush => (Some(t.address), None),
            PushKind::Fcm | PushKind::Apns => (None, Some(t.address)),
        };
        Ok(Self {
            id: t.id,
            kind,
            endpoint,
            token,
            app_id: t.app_id,
            platform: t.platform,
            created_at_ms: t.created_at_ms,
        })
    }
}

/// The caller's push targets.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushTargetList {
    /// Oldest first.
    pub targets: Vec<PushTarget>,
}

/// What a client needs to subscribe to push notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushConfig {
    /// The server's VAPID public key, base64url: a browser's
    /// `applicationServerKey` for `pushManager.subscribe`.
    pub web_push_public_key: String,
}

/// Registers one of the caller's devices for push notifications. Sending
/// the same endpoint or token again updates it and keeps its id; one that
/// another account had moves to the caller (the device changed hands).
#[utoipa::path(post, path = "/api/v1/users/me/push-targets", tag = "push", security(("bearer" = [])),
    request_body = PushTargetBody,
    responses(
        (status = 201, description = "The target as stored", body = PushTarget),
        (status = 400, description = "`invalid_push_target`: a field is missing or malformed, or the endpoint is not at a push service this server sends to", body = ErrorBody),
        (status = 409, description = "`too_many_push_targets`: the caller has the most allowed", body = ErrorBody)))]
pub async fn register(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiJson(body): ApiJson<PushTargetBody>,
) -> ApiResult<(StatusCode, Json<PushTarget>)> {
    let keys = body.keys;
    let req = pb::RegisterPushTargetRequest {
        actor_id: auth.user_id,
        kind: body.kind.to_pb() as i32,
        address: match body.kind {
            PushKind::WebPush => body.endpoint,
            PushKind::Fcm | PushKind::Apns => body.token,
        }
        .unwrap_or_default(),
        p256dh: keys.as_ref().map(|k| k.p256dh.clone()).unwrap_or_default(),
        auth: keys.map(|k| k.auth).unwrap_or_default(),
        app_id: body.app_id.unwrap_or_default(),
        platform: body.platform.unwrap_or_default(),
    };
    let target = edge
        .core
        .as_user(&auth.bearer)
        .register_push_target(req)
        .await?;
    Ok((StatusCode::CREATED, Json(PushTarget::from_pb(target)?)))
}

/// Lists the caller's push targets.
#[utoipa::path(get, path = "/api/v1/users/me/push-targets", tag = "push", security(("bearer" = [])),
    responses((status = 200, description = "The caller's push targets", body = PushTargetList)))]
pub async fn list(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<PushTargetList>> {
    let req = pb::UserRequest {
        actor_id: auth.user_id,
    };
    let list = edge
        .core
        .as_user(&auth.bearer)
        .list_push_targets(req)
        .await?;
    let targets = list
        .targets
        .into_iter()
        .map(PushTarget::from_pb)
        .collect::<ApiResult<_>>()?;
    Ok(Json(PushTargetList { targets }))
}

/// Removes one of the caller's push targets: that device is notified no more.
#[utoipa::path(delete, path = "/api/v1/users/me/push-targets/{target_id}", tag = "push",
    security(("bearer" = [])),
    params(("target_id" = Id, Path, description = "The target's id")),
    responses((status = 204, description = "The target is removed"),
        (status = 404, description = "`push_target_not_found`: no such target of the caller", body = ErrorBody)))]
pub async fn remove(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(target_id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    let req = pb::RemovePushTargetRequest {
        actor_id: auth.user_id,
        target_id,
    };
    edge.core
        .as_user(&auth.bearer)
        .remove_push_target(req)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The server's VAPID public key, for `pushManager.subscribe`.
#[utoipa::path(get, path = "/api/v1/push/config", tag = "push", security(("bearer" = [])),
    responses((status = 200, description = "What a client needs to subscribe", body = PushConfig)))]
pub async fn config(State(edge): State<Arc<Edge>>, _auth: Auth) -> ApiResult<Json<PushConfig>> {
    let config = edge.core.get_push_config(pb::Empty {}).await?;
    Ok(Json(PushConfig {
        web_push_public_key: config.web_push_public_key,
    }))
}
