//! A user's signed-in sessions: list them, refresh the current one, end one
//! or all, and change the password (which ends all but the current one).
//! Every session ended closes its live WebSocket connections with `4001`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use super::client::Caller;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::Edge;
use crate::error::ErrorBody;
use crate::wire::{Id, Session};

/// The caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Oldest first; `current` marks the one this request used.
    pub sessions: Vec<Session>,
}

/// The current password and a new one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The password now.
    pub current_password: String,
    /// At least 8 characters, at most 1024 bytes.
    pub new_password: String,
}

/// Lists the caller's live sessions (devices signed in).
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The caller's sessions", body = SessionList)))]
pub async fn list(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<SessionList>> {
    let req = pb::TokenRequest { token: auth.token };
    let list = edge.core.list_tokens(req).await?;
    let current = list.current;
    let sessions = list
        .tokens
        .into_iter()
        .map(|t| Session::from_pb(t, current))
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// Extends the current session's life now (any use extends it too).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The current session, its expiry moved", body = Session)))]
pub async fn refresh(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<Session>> {
    let req = pb::TokenRequest { token: auth.token };
    let info = edge.core.refresh_token(req).await?;
    let id = info.id;
    Ok(Json(Session::from_pb(info, id)))
}

/// Ends one of the caller's sessions; its connections close with 4001.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{session_id}", tag = "accounts",
    security(("bearer" = [])),
    params(("session_id" = Id, Path, description = "Session id, from the list")),
    responses((status = 204, description = "The session is ended"),
        (status = 404, description = "`session_not_found`: no such session of the caller", body = ErrorBody)))]
pub async fn end(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(session_id): ApiPath<u64>,
) -> ApiResult<StatusCode> {
    let req = pb::RevokeTokenRequest {
        actor_id: auth.user_id,
        token_id: session_id,
    };
    edge.core.as_user(&auth.bearer).revoke_token(req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller, this one included.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "Every session of the caller is ended")))]
pub async fn logout_all(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<StatusCode> {
    let req = pb::UserRequest {
        actor_id: auth.user_id,
    };
    edge.core
        .as_user(&auth.bearer)
        .revoke_all_tokens(req)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password; every other session ends at once. A
/// wrong current password counts as a failed login.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordBody,
    responses((status = 204, description = "The password is changed; every other session is ended"),
        (status = 400, description = "`invalid_password`: the new one", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: the current password is wrong", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed attempts; see Retry-After", body = ErrorBody)))]
pub async fn change_password(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    let req = pb::ChangePasswordRequest {
        actor_id: auth.user_id,
        current_password: body.current_password,
        new_password: body.new_password,
        keep_token_id: auth.token_id,
        client_addr: caller.addr,
    };
    edge.core.as_user(&auth.bearer).change_password(req).await?;
    Ok(StatusCode::NO_CONTENT)
}
