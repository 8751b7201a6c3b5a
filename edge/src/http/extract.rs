//! Request extractors whose failures are JSON errors with stable codes.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use chat_proto::v1::TokenRequest;
use serde::de::DeserializeOwned;

use crate::Edge;
use crate::core_client::Bearer;
use crate::error::ApiError;
use crate::principals::Principal;

/// The authenticated caller of a REST request, within their rate limit.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Their user id.
    pub user_id: u64,
    /// The bearer token they sent.
    pub token: String,
    /// The token's id.
    pub token_id: u64,
    /// The token as the core's calls on their behalf carry it.
    pub bearer: Bearer,
}

/// The token of an `Authorization: Bearer <token>` header. No such header
/// (none, another scheme, no token) is `missing_token`; a Bearer token that
/// is not printable ASCII, which no token the server issues is, is
/// `invalid_token`, as an unknown one would be.
fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let missing = || {
        ApiError::unauthorized(
            "missing_token",
            "send the token as `Authorization: Bearer <token>`",
        )
    };
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(missing)?
        .as_bytes();
    let at = value.iter().position(|b| *b == b' ').ok_or_else(missing)?;
    let (scheme, token) = value.split_at(at);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(missing());
    }
    let token = token.trim_ascii();
    if token.is_empty() {
        return Err(missing());
    }
    if !token.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "the token is not printable ASCII, so it is none the server issued",
        ));
    }
    // Printable ASCII is UTF-8: nothing is replaced.
    Ok(String::from_utf8_lossy(token).into_owned())
}

impl FromRequestParts<Arc<Edge>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, edge: &Arc<Edge>) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let credential = Bearer::new(&token)?;
        let principal = edge
            .principals
            .resolve(&token, || async {
                let req = TokenRequest {
                    token: token.clone(),
                };
                let p = edge.core.authenticate(req).await?;
                Ok(Principal {
                    user_id: super::need(p.user)?.id,
                    token_id: p.token_id,
                    expires_at_ms: p.expires_at_ms,
                })
            })
            .await?;
        edge.rest_limiter.check(principal.user_id)?;
        Ok(Auth {
            user_id: principal.user_id,
            token,
            token_id: principal.token_id,
            bearer: credential,
        })
    }
}

/// A JSON body; failures are `malformed_json`, `invalid_body`,
/// `unsupported_media_type` or `body_too_large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonSyntaxError(err) => {
            // The edge's words for serde_json's (a lone surrogate named as such).
            let message = crate::protocol::json_error::describe_source(&err).map_or(text, |m| {
                format!("Failed to parse the request body as JSON: {m}")
            });
            ApiError::bad_request("malformed_json", message)
        }
        JsonRejection::JsonDataError(_) => ApiError::bad_request("invalid_body", text),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            415,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        other if other.status().as_u16() == 413 => {
            ApiError::new(413, "body_too_large", "request body exceeds the size limit")
        }
        _ => ApiError::bad_request("invalid_body", text),
    }
}

/// Path parameters; failures are `invalid_path`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))
    }
}

/// Query parameters; failures are `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}
