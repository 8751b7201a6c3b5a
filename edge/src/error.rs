//! Every error a client can see, and the one place where core errors,
//! request problems and protocol violations become HTTP statuses, error
//! frames and WebSocket close codes.

use chat_proto::{ERROR_CODE_KEY, RETRY_AFTER_KEY};
use serde::Serialize;
use tonic::{Code, Status};
use utoipa::ToSchema;

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status for REST.
    pub status: u16,
    /// Stable machine-readable code.
    pub code: String,
    /// Human explanation.
    pub message: String,
    /// How long to wait before trying again, when the server says.
    pub retry_after_ms: Option<u64>,
    /// Other edges to connect to instead, best first (a full edge says).
    pub alternatives: Vec<String>,
}

/// The JSON body of an error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The code and message of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `channel_not_found`.
    pub code: String,
    /// Human explanation; wording may change.
    pub message: String,
    /// For `429` answers: how long to wait before trying again, in
    /// milliseconds (the `Retry-After` header says it in whole seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// For `503 too_many_connections`: the WebSocket URLs of other edges
    /// that take connections, best first (as `GET /api/v1/discover`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after_ms: None,
            alternatives: Vec::new(),
        }
    }

    /// The same error, telling the client when to try again.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// The same error, naming other edges to connect to instead.
    pub fn alternatives(mut self, urls: Vec<String>) -> Self {
        self.alternatives = urls;
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// 401: no usable bearer token.
    pub fn unauthorized(code: &str, message: impl Into<String>) -> Self {
        Self::new(401, code, message)
    }

    /// The JSON body for REST.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.clone(),
                message: self.message.clone(),
                retry_after_ms: self.retry_after_ms,
                alternatives: self.alternatives.clone(),
            },
        }
    }
}

impl From<Status> for ApiError {
    fn from(s: Status) -> Self {
        let status = match s.code() {
            Code::InvalidArgument | Code::OutOfRange => 400,
            Code::Unauthenticated => 401,
            Code::PermissionDenied => 403,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => 409,
            Code::ResourceExhausted => 429,
            Code::Unavailable => 503,
            _ => 500,
        };
        let code = s
            .metadata()
            .get(ERROR_CODE_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                match status {
                    503 => "unavailable",
                    _ => "internal",
                }
                .to_owned()
            });
        if status == 500 {
            tracing::error!(status = ?s, "core call failed");
        }
        let retry_after_ms = s
            .metadata()
            .get(RETRY_AFTER_KEY)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Self {
            status,
            code,
            message: s.message().to_owned(),
            retry_after_ms,
            alternatives: Vec::new(),
        }
    }
}

pub use chat_protocol::CloseReason;

/// What a session reports of a failed call: its code and message.
impl From<ApiError> for chat_protocol::CallError {
    fn from(e: ApiError) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}
