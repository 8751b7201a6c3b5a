//! Why the server ends a session: a close code and a reason, the same on
//! WebSocket (its close frame) and WebTransport (a `close` frame, then the
//! QUIC close code).

/// Why the server closes a session: a close code and a reason text.
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
