//! The WebSocket [`Link`]: tungstenite messages in and out, close frames
//! with the session's code, and a drain after a refused frame.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tungstenite::Message as WsMessage;
use tungstenite::Utf8Bytes;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use super::Socket;
use crate::error::CloseReason;
use crate::link::{End, Inbound, Link, LinkError, LinkMetrics};

/// How long the server waits to deliver its close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// After refusing a frame mid-stream, how much of the rest is read and
/// dropped so the peer gets the close frame rather than a reset.
const DRAIN_LIMIT: u64 = 4 << 20;

/// One upgraded WebSocket connection.
pub struct WsLink(pub Socket);

impl Link for WsLink {
    type Text = Utf8Bytes;

    const METRICS: LinkMetrics = LinkMetrics {
        connections: "chat_ws_connections",
        frames_in: "chat_ws_frames_in_total",
        frames_out: "chat_ws_frames_out_total",
        closed: "chat_ws_closed_total",
    };

    async fn recv(&mut self) -> Inbound<Utf8Bytes> {
        match self.0.next().await {
            Some(Ok(WsMessage::Text(text))) => Inbound::Text(text),
            Some(Ok(WsMessage::Binary(_))) => Inbound::Binary,
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {
                Inbound::Activity
            }
            Some(Ok(WsMessage::Close(_))) => Inbound::Closed,
            None => Inbound::Gone,
            Some(Err(err)) => classify_read_error(err),
        }
    }

    async fn feed(&mut self, text: &Arc<str>) -> Result<(), LinkError> {
        let message = WsMessage::Text(text.as_ref().into());
        self.0
            .feed(message)
            .await
            .map_err(|e| LinkError(e.to_string()))
    }

    async fn flush(&mut self) -> Result<(), LinkError> {
        self.0.flush().await.map_err(|e| LinkError(e.to_string()))
    }

    async fn finish(self, end: End) {
        let mut socket = self.0;
        match end {
            End::Close(reason) => {
                let frame = CloseFrame {
                    code: CloseCode::from(reason.code),
                    reason: reason.reason.into(),
                };
                let close = socket.send(WsMessage::Close(Some(frame)));
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
                if reason.code == CloseReason::TOO_BIG.code {
                    drain(socket).await;
                }
            }
            End::Closed | End::Gone => {
                // Sends the reply to a peer's close frame, if it sent one.
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(None)).await;
            }
        }
    }
}

/// Maps a failed read to the close the protocol calls for.
fn classify_read_error<T>(err: tungstenite::Error) -> Inbound<T> {
    use tungstenite::Error as E;
    use tungstenite::error::ProtocolError;
    match err {
        E::Capacity(_) => Inbound::Refused(CloseReason::TOO_BIG),
        E::Utf8(_) => Inbound::Refused(CloseReason::INVALID_UTF8),
        // The peer hung up without a close frame: a dropped client, not a
        // protocol violation.
        E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Inbound::Gone,
        E::Protocol(_) => Inbound::Refused(CloseReason::PROTOCOL),
        _ => Inbound::Gone,
    }
}

/// Reads and drops what the peer is still sending (the rest of a refused
/// frame, then its close reply) until it hangs up, within bounds. Closing a
/// socket with unread input makes the kernel send a reset, which destroys
/// the close frame on its way to the peer.
async fn drain(socket: Socket) {
    let mut rest = socket.into_inner().take(DRAIN_LIMIT);
    let _ = tokio::time::timeout(
        CLOSE_TIMEOUT,
        tokio::io::copy(&mut rest, &mut tokio::io::sink()),
    )
    .await;
}
