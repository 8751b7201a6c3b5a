//! Answers for requests that no handler takes, in the one error body: a
//! path that matches no route, and a method that a path does not allow.

use axum::http::{Method, Uri};

use crate::error::ApiError;

/// Any request whose path matches no route: 404 `not_found`.
pub async fn not_found() -> ApiError {
    ApiError::new(404, "not_found", "no such route")
}

/// A method that the path does not allow (OPTIONS and, on paths without a
/// GET, HEAD included): 405 `method_not_allowed`. axum adds the `Allow`
/// header, naming the path's methods, to whatever this returns.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        405,
        "method_not_allowed",
        format!(
            "{method} is not allowed on {}; the Allow header lists the methods that are",
            uri.path()
        ),
    )
}
