//! WebSocket transport: the HTTP upgrade, and a driver that runs one
//! protocol session per connection over tungstenite.

mod driver;
mod handshake;

pub use handshake::upgrade;

/// The socket a session runs on.
type Socket = tokio_tungstenite::WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;
