//! What a session needs of its transport, and the one driver that runs a
//! protocol session over any of them: WebSocket ([`crate::ws`]) and
//! WebTransport ([`crate::wt`]) differ only in how frames are read,
//! written and said goodbye to.

mod driver;

use std::future::Future;
use std::sync::Arc;

pub use driver::Driver;

use crate::error::CloseReason;

/// What the peer sent, as the session sees it.
pub enum Inbound<T> {
    /// A text frame.
    Text(T),
    /// A binary frame: the protocol has none, so the session refuses it.
    Binary,
    /// Proof of life without a frame (a WebSocket ping, say).
    Activity,
    /// The peer said goodbye cleanly.
    Closed,
    /// The connection broke; nothing more can be sent.
    Gone,
    /// The peer broke the transport's rules: close with this reason.
    Refused(CloseReason),
}

/// How a session ended, for the transport's goodbye.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Send this close reason.
    Close(CloseReason),
    /// The peer said goodbye: answer it.
    Closed,
    /// The connection broke; nothing more to send.
    Gone,
}

/// The metric names a transport counts its connections under.
pub struct LinkMetrics {
    /// Gauge: open connections.
    pub connections: &'static str,
    /// Counter: frames received.
    pub frames_in: &'static str,
    /// Counter: frames sent.
    pub frames_out: &'static str,
    /// Counter: closed connections, by `reason`.
    pub closed: &'static str,
}

/// One client connection's frames, whatever carries them.
pub trait Link: Send + 'static {
    /// A received text frame.
    type Text: AsRef<str> + Send;

    /// Where this transport's counts go.
    const METRICS: LinkMetrics;

    /// The next thing the peer sent. Cancel-safe: a `select!` may drop it
    /// and call again without losing input.
    fn recv(&mut self) -> impl Future<Output = Inbound<Self::Text>> + Send;

    /// Queues a text frame, writing when the transport's buffer is full.
    fn feed(&mut self, text: &Arc<str>) -> impl Future<Output = Result<(), LinkError>> + Send;

    /// Writes everything queued.
    fn flush(&mut self) -> impl Future<Output = Result<(), LinkError>> + Send;

    /// Says goodbye as `end` calls for, within bounded time.
    fn finish(self, end: End) -> impl Future<Output = ()> + Send;
}

/// A write failed: the connection is gone.
#[derive(Debug, thiserror::Error)]
#[error("connection lost while writing: {0}")]
pub struct LinkError(pub String);
