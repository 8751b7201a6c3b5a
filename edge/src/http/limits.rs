//! Refuses oversized request bodies from their declared length, before a
//! byte of them is read, so the client gets a clean 413 instead of a reset.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Middleware: 413 `body_too_large` when `Content-Length` exceeds `limit`.
pub async fn declared_length(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let message = format!("request body exceeds the limit of {limit} bytes");
        let mut resp = ApiError::new(413, "body_too_large", message).into_response();
        // The unread body is still on its way; this connection cannot be reused.
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    next.run(req).await
}
