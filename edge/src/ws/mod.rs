//! WebSocket transport: the HTTP upgrade, and the [`crate::link::Link`]
//! a session runs on over tungstenite.

mod handshake;
mod link;

pub use handshake::upgrade;
pub use link::WsLink;

/// The socket a session runs on.
type Socket = tokio_tungstenite::WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;
