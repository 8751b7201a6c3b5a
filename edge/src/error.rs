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

/// Why the server closes a WebSocket: a close code and a reason text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseReason {
    /// RFC 6455 close code (4000-4999 are ours).
    pub code: u16,
    /// Short human reason sent in the close frame.
    pub reason: &'static str,
}

impl CloseReason {
    /// 1000: the client asked to close.
    pub const NORMAL: Self = Self::new(1000, "closed");
    /// 1001: the server is shutting down; reconnect to another or later.
    pub const SHUTDOWN: Self = Self::new(1001, "server shutting down");
    /// 1011: the server failed to set the session up.
    pub const INTERNAL: Self = Self::new(1011, "internal error");
    /// 1007: a text frame was not valid UTF-8.
    pub const INVALID_UTF8: Self = Self::new(1007, "invalid UTF-8 in text frame");
    /// 1009: a frame or message exceeded the size limit.
    pub const TOO_BIG: Self = Self::new(1009, "frame exceeds the size limit");
    /// 1002: the client broke the WebSocket protocol.
    pub const PROTOCOL: Self = Self::new(1002, "WebSocket protocol error");
    /// 1002 on WebTransport: the chat stream ended inside a frame.
    pub const FRAMING: Self = Self::new(
        1002,
        "WebTransport framing error: stream ended inside a frame",
    );
    /// 4001: the token is invalid or was logged out.
    pub const UNAUTHORIZED: Self = Self::new(4001, "invalid or logged-out token");
    /// 4002: no `hello` arrived in time.
    pub const HELLO_TIMEOUT: Self = Self::new(4002, "no hello frame in time");
    /// 4003: a frame other than `hello` came first.
    pub const HELLO_REQUIRED: Self = Self::new(4003, "the first frame must be hello");
    /// 4004: nothing arrived, not even a ping, for the idle timeout.
    pub const IDLE_TIMEOUT: Self = Self::new(4004, "no heartbeat in time");
    /// 4008: the client read too slowly and its outbound queue filled up.
    pub const SLOW_CONSUMER: Self = Self::new(4008, "outbound queue full: client reads too slowly");
    /// 4009: the server lost events for this session; reconnect at once
    /// with your cursors, and re-read what `ready` gives.
    pub const RESYNC: Self = Self::new(4009, "events were lost: reconnect with your cursors");

    const fn new(code: u16, reason: &'static str) -> Self {
        Self { code, reason }
    }
}
