//! Signup, login, logout and user lookup.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::v1::{Credentials, TokenRequest, get_user_request::Key};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client::Caller;
use super::extract::{ApiJson, ApiPath, Auth};
use super::{ApiResult, need};
use crate::Edge;
use crate::error::{ApiError, ErrorBody};
use crate::wire::{Id, Session, User};

/// A username and password, and optionally a name for this device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsBody {
    /// 3 to 32 of `a-z A-Z 0-9 _ . -`, starting with a letter or digit.
    #[schema(example = "ann")]
    pub username: String,
    /// At least 8 characters, at most 1024 bytes.
    #[schema(example = "correct horse battery")]
    pub password: String,
    /// A name for this device in the session list, at most 64 characters
    /// without control characters; the User-Agent when absent.
    #[schema(example = "Firefox on Ann's laptop")]
    pub device: Option<String>,
}

/// A user and a bearer token for them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    /// The account.
    pub user: User,
    /// Bearer token for REST (`Authorization: Bearer …`) and the WebSocket `hello`.
    pub token: String,
    /// The session this token opens, as `GET /api/v1/auth/sessions` lists it.
    pub session: Session,
}

fn credentials(body: CredentialsBody, caller: Caller) -> Credentials {
    Credentials {
        username: body.username,
        password: body.password,
        device: body.device.unwrap_or(caller.user_agent),
        client_addr: caller.addr,
    }
}

pub(super) fn auth_response(reply: chat_proto::v1::AuthReply) -> Result<AuthResponse, ApiError> {
    let info = need(reply.info)?;
    let id = info.id;
    Ok(AuthResponse {
        user: need(reply.user)?.into(),
        token: reply.token,
        session: Session::from_pb(info, id),
    })
}

/// Creates an account and returns a token.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "accounts", request_body = CredentialsBody,
    responses(
        (status = 201, description = "The new account and a token for it", body = AuthResponse),
        (status = 400, description = "`invalid_username`, `invalid_password`, `invalid_device`", body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody)))]
pub async fn signup(
    State(edge): State<Arc<Edge>>,
    caller: Caller,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let reply = edge.core.signup(credentials(body, caller)).await?;
    Ok((StatusCode::CREATED, Json(auth_response(reply)?)))
}

/// Logs in and returns a new token. Failed attempts are limited per
/// account and per client address with a growing delay (`429 too_many_attempts`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = CredentialsBody,
    responses(
        (status = 200, description = "The account and a new token", body = AuthResponse),
        (status = 400, description = "`invalid_device`", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: wrong username or password", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed logins for the account or from the address; see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(edge): State<Arc<Edge>>,
    caller: Caller,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> ApiResult<Json<AuthResponse>> {
    let reply = edge.core.login(credentials(body, caller)).await?;
    Ok(Json(auth_response(reply)?))
}

/// Revokes the token used; its WebSocket sessions close with 4001.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "The token is ended")))]
pub async fn logout(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<StatusCode> {
    edge.core.logout(TokenRequest { token: auth.token }).await?;
    edge.core.tokens_revoked(auth.user_id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A profile from the edge's cache, loaded from the core on a miss.
async fn get_user(edge: &Edge, auth: &Auth, key: Key) -> ApiResult<Json<User>> {
    let (core, bearer) = (&edge.core, &auth.bearer);
    let user = match key {
        Key::Id(id) => edge.cache.user(core, bearer, id).await?,
        Key::Username(name) => edge.cache.user_by_name(core, bearer, &name).await?,
    };
    Ok(Json(User::from(user.as_ref().clone())))
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = User)))]
pub async fn me(State(edge): State<Arc<Edge>>, auth: Auth) -> ApiResult<Json<User>> {
    get_user(&edge, &auth, Key::Id(auth.user_id)).await
}

/// A user by id.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "accounts", security(("bearer" = [])),
    params(("user_id" = Id, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "`user_not_found`", body = ErrorBody)))]
pub async fn user_by_id(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(user_id): ApiPath<u64>,
) -> ApiResult<Json<User>> {
    get_user(&edge, &auth, Key::Id(user_id)).await
}

/// A user by username (case-insensitive).
#[utoipa::path(get, path = "/api/v1/users/by-name/{username}", tag = "accounts", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "`user_not_found`", body = ErrorBody)))]
pub async fn user_by_name(
    State(edge): State<Arc<Edge>>,
    auth: Auth,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<User>> {
    get_user(&edge, &auth, Key::Username(username)).await
}
