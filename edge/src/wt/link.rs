//! The WebTransport [`Link`]: frames on the session's one bidirectional
//! stream, and a goodbye that carries the close code in-band (a `close`
//! frame) before the stream ends and the connection closes with that code.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use wtransport::error::ConnectionError;
use wtransport::{Connection, RecvStream, SendStream, VarInt};

use super::framing::{FrameDecoder, FrameEncoder, FramingError};
use crate::error::CloseReason;
use crate::link::{End, Inbound, Link, LinkError, LinkMetrics};

/// How long the server waits for its `close` frame to be acknowledged.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a failed read waits for the connection's close to say why.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// One WebTransport session's chat stream.
pub struct WtLink {
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
    decoder: FrameDecoder,
    encoder: FrameEncoder,
    /// Bytes read but not yet a whole frame.
    inbuf: BytesMut,
    /// Frames encoded but not yet written.
    outbuf: BytesMut,
    /// Bytes to read at a time (the buffer grows only for a larger frame).
    read_chunk: usize,
    /// Bytes of frames gathered before they are written.
    write_batch: usize,
}

impl WtLink {
    /// The link over `connection`'s chat stream, with the edge's limits.
    pub fn new(
        connection: Connection,
        (send, recv): (SendStream, RecvStream),
        cfg: &crate::EdgeConfig,
    ) -> Self {
        Self {
            connection,
            send,
            recv,
            decoder: FrameDecoder::new(cfg.max_frame_bytes),
            encoder: FrameEncoder::default(),
            inbuf: BytesMut::new(),
            outbuf: BytesMut::new(),
            read_chunk: cfg.ws_read_buffer,
            write_batch: cfg.ws_write_buffer,
        }
    }

    /// What a failed read means. A peer that closed the connection (or
    /// reset the stream and kept the connection) did so on purpose: a
    /// goodbye, and its devices go offline at once. Only a connection that
    /// timed out or broke is a lost client, whose presence waits out the
    /// grace period. A browser closing a tab resets the stream a moment
    /// before its CONNECTION_CLOSE arrives, so the close is awaited briefly
    /// rather than polled once (which took every closed tab for a lost one).
    async fn lost(&self) -> Inbound<String> {
        match tokio::time::timeout(CLOSE_WAIT, self.connection.closed()).await {
            Ok(ConnectionError::ApplicationClosed(_) | ConnectionError::ConnectionClosed(_)) => {
                Inbound::Closed
            }
            Ok(_) => Inbound::Gone,
            // Still connected: the peer reset the chat stream itself.
            Err(_) => Inbound::Closed,
        }
    }

    async fn write_out(&mut self) -> Result<(), LinkError> {
        if self.outbuf.is_empty() {
            return Ok(());
        }
        let result = self.send.write_all(&self.outbuf).await;
        self.outbuf.clear();
        result.map_err(|e| LinkError(e.to_string()))
    }
}

impl Link for WtLink {
    type Text = String;

    const METRICS: LinkMetrics = LinkMetrics {
        connections: "chat_wt_connections",
        frames_in: "chat_wt_frames_in_total",
        frames_out: "chat_wt_frames_out_total",
        closed: "chat_wt_closed_total",
    };

    async fn recv(&mut self) -> Inbound<String> {
        loop {
            match self.decoder.decode(&mut self.inbuf) {
                Ok(Some(text)) => return Inbound::Text(text),
                Ok(None) => {}
                Err(FramingError::TooBig { .. }) => return Inbound::Refused(CloseReason::TOO_BIG),
                Err(FramingError::InvalidUtf8) => {
                    return Inbound::Refused(CloseReason::INVALID_UTF8);
                }
            }
            self.inbuf.reserve(self.read_chunk);
            match self.recv.read_buf(&mut self.inbuf).await {
                Ok(0) if self.inbuf.is_empty() => return Inbound::Closed,
                // The stream ended inside a frame.
                Ok(0) => return Inbound::Refused(CloseReason::FRAMING),
                Ok(_) => {}
                Err(_) => return self.lost().await,
            }
        }
    }

    async fn feed(&mut self, text: &Arc<str>) -> Result<(), LinkError> {
        self.encoder.encode(text, &mut self.outbuf);
        if self.outbuf.len() >= self.write_batch {
            self.write_out().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), LinkError> {
        self.write_out().await
    }

    async fn finish(mut self, end: End) {
        let (code, reason) = match end {
            End::Close(reason) => {
                let frame = serde_json::json!({
                    "type": "close",
                    "code": reason.code,
                    "reason": reason.reason,
                });
                let goodbye = async {
                    self.feed(&Arc::from(frame.to_string())).await?;
                    self.flush().await?;
                    // Waits until the peer has everything sent.
                    self.send
                        .finish()
                        .await
                        .map_err(|e| LinkError(e.to_string()))
                };
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, goodbye).await;
                (u32::from(reason.code), reason.reason)
            }
            End::Closed | End::Gone => (0, ""),
        };
        self.connection
            .close(VarInt::from_u32(code), reason.as_bytes());
    }
}
