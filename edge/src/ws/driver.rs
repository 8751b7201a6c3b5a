//! One task per connection runs the protocol state machine, carrying its
//! outputs to the socket, the core and the registry.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tungstenite::Message as WsMessage;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use super::Socket;
use crate::Edge;
use crate::core_client::Bearer;
use crate::core_client::session::{Caller, Calls};
use crate::error::CloseReason;
use crate::protocol::{Call, Delivery, Output, Session};
use crate::registry::{Entry, Kick};

/// How long the server waits to deliver its close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// After refusing a frame mid-stream, how much of the rest is read and
/// dropped so the peer gets the close frame rather than a reset.
const DRAIN_LIMIT: u64 = 4 << 20;
/// Deliveries written before the socket is flushed.
const WRITE_BATCH: usize = 64;

/// Runs one WebSocket connection.
pub struct Driver {
    edge: Arc<Edge>,
    socket: Socket,
    session: Session,
    user: Option<u64>,
    /// The token of the session's `hello`, for calls on its user's behalf.
    bearer: Bearer,
    tx: flume::Sender<Delivery>,
    rx: flume::Receiver<Delivery>,
    kick: Arc<Kick>,
    calls: Calls,
}

/// How a session loop ended.
enum End {
    /// Send this close frame.
    Close(CloseReason),
    /// The peer sent a close frame: a clean goodbye.
    Closed,
    /// The connection broke; nothing more to send.
    Gone,
}

impl Driver {
    /// Serves the connection until it closes. Not an `async fn`: its
    /// arguments would stay in the task beside the driver they move into,
    /// a second copy of the socket in every connection's memory.
    pub fn run(
        edge: Arc<Edge>,
        socket: Socket,
        permit: OwnedSemaphorePermit,
    ) -> impl Future<Output = ()> + Send {
        let id = edge.next_session_id();
        let (tx, rx) = flume::bounded(edge.config.outbound_queue);
        let mut driver = Driver {
            session: Session::new(id, edge.session_config.clone(), Instant::now().into_std()),
            edge,
            socket,
            user: None,
            bearer: Bearer::default(),
            tx,
            rx,
            kick: Arc::new(Kick::default()),
            calls: Calls::default(),
        };
        async move {
            let _permit = permit;
            metrics::gauge!("chat_ws_connections").increment(1.0);
            let end = driver.serve().await;
            // Boxed: the goodbye runs once, and its futures would otherwise
            // make every idle connection's task larger by their size.
            Box::pin(driver.finish(end)).await;
            metrics::gauge!("chat_ws_connections").decrement(1.0);
        }
    }

    /// Withdraws the session and sends the close frame the end calls for.
    async fn finish(self, end: End) {
        let id = self.session.id();
        if let Some(user) = self.user {
            let clean = match end {
                End::Closed => true,
                // A logout, or silence past the idle timeout: the client
                // is gone for good, so no grace period.
                End::Close(reason) => {
                    reason == CloseReason::UNAUTHORIZED || reason == CloseReason::IDLE_TIMEOUT
                }
                End::Gone => false,
            };
            let silent = self.session.last_heard().elapsed();
            let last_heard_ms = crate::clock::wall_ms().saturating_sub(silent.as_millis() as i64);
            let registry = &self.edge.registry;
            registry.unregister(user, id, clean, last_heard_ms).await;
        }
        let mut socket = self.socket;
        let reason = match end {
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
                reason.reason
            }
            End::Closed | End::Gone => {
                // Sends the reply to a peer's close frame, if it sent one.
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(None)).await;
                "client gone"
            }
        };
        tracing::debug!(session = id, reason, "session ended");
        metrics::counter!("chat_ws_closed_total", "reason" => reason).increment(1);
    }

    async fn serve(&mut self) -> End {
        loop {
            if let Some(end) = self.carry_outputs().await {
                return end;
            }
            let deadline = self.session.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            let reading = self.session.wants_read();
            tokio::select! {
                biased;
                _ = self.edge.shutdown.cancelled() => return End::Close(CloseReason::SHUTDOWN),
                reason = self.kick.kicked() => return End::Close(reason),
                // Boxed, and only when polled (a disabled branch never is):
                // the call machinery's future would otherwise sit in every
                // idle connection's task, about 540 bytes of it.
                result = async { Box::pin(self.calls.next(&self.edge.core)).await },
                    if self.calls.busy() => {
                    self.edge.registry.follow(self.user.unwrap_or_default(), &result);
                    self.session.handle_call_result(result);
                }
                Ok(delivery) = self.rx.recv_async(), if self.session.wants_deliveries() => {
                    self.session.handle_delivery(delivery);
                }
                incoming = self.socket.next(), if reading => {
                    if let Some(end) = self.handle_incoming(incoming) {
                        return end;
                    }
                }
                _ = sleep => self.session.handle_timeout(Instant::now().into_std()),
            }
        }
    }

    fn handle_incoming(
        &mut self,
        incoming: Option<Result<WsMessage, tungstenite::Error>>,
    ) -> Option<End> {
        let now = Instant::now().into_std();
        match incoming {
            Some(Ok(WsMessage::Text(text))) => {
                metrics::counter!("chat_ws_frames_in_total").increment(1);
                self.session.handle_text(text.as_str(), now);
            }
            Some(Ok(WsMessage::Binary(_))) => {
                metrics::counter!("chat_ws_frames_in_total").increment(1);
                self.session.handle_binary(now);
            }
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {
                self.session.handle_activity(now);
            }
            Some(Ok(WsMessage::Close(_))) => return Some(End::Closed),
            None => return Some(End::Gone),
            Some(Err(err)) => return Some(classify_read_error(err)),
        }
        None
    }

    /// Carries out everything the session asked for; `Some` when it closed.
    async fn carry_outputs(&mut self) -> Option<End> {
        let mut written = 0usize;
        loop {
            let Some(output) = self.session.poll_output() else {
                // Take queued deliveries now rather than one per loop turn.
                if written < WRITE_BATCH
                    && self.session.wants_deliveries()
                    && let Ok(delivery) = self.rx.try_recv()
                {
                    self.session.handle_delivery(delivery);
                    continue;
                }
                break;
            };
            match output {
                Output::Text(text) => {
                    written += 1;
                    if let Err(end) = self
                        .write(Some(WsMessage::Text(text.as_ref().into())))
                        .await
                    {
                        return Some(end);
                    }
                }
                Output::Call(call) => self.start_call(*call),
                Output::Register { user_id, token_id } => {
                    let entry = Entry {
                        session_id: self.session.id(),
                        token_id,
                        tx: self.tx.clone(),
                        kick: self.kick.clone(),
                    };
                    self.user = Some(user_id);
                    // Boxed, as it runs once per connection.
                    let register = Box::pin(self.edge.registry.register(user_id, entry));
                    if let Err(e) = register.await {
                        tracing::warn!(error = %e, "could not register session");
                        return Some(End::Close(CloseReason::SHUTDOWN));
                    }
                }
                Output::Close(reason) => {
                    metrics::counter!("chat_ws_frames_out_total").increment(written as u64);
                    return Some(self.write(None).await.err().unwrap_or(End::Close(reason)));
                }
            }
        }
        if written > 0 {
            metrics::counter!("chat_ws_frames_out_total").increment(written as u64);
            return self.write(None).await.err();
        }
        None
    }

    /// Feeds `message` to the socket, or flushes it when `None`. A client
    /// that stops reading blocks this, so a kick or shutdown interrupts it.
    async fn write(&mut self, message: Option<WsMessage>) -> Result<(), End> {
        let socket = &mut self.socket;
        let io = async move {
            match message {
                Some(message) => socket.feed(message).await,
                None => socket.flush().await,
            }
        };
        tokio::select! {
            biased;
            result = io => result.map_err(|_| End::Gone),
            reason = self.kick.kicked() => Err(End::Close(reason)),
            _ = self.edge.shutdown.cancelled() => Err(End::Close(CloseReason::SHUTDOWN)),
        }
    }

    fn start_call(&mut self, call: Call) {
        if let Call::Authenticate { token } = &call {
            // A token that cannot be a header value is none the core
            // issued: its authentication fails, and no call follows.
            self.bearer = Bearer::new(token).unwrap_or_default();
        }
        let caller = Caller {
            edge_id: self.edge.config.edge_id,
            session_id: self.session.id(),
            user_id: self.user.unwrap_or_default(),
            bearer: self.bearer.clone(),
        };
        self.calls
            .start(&self.edge.core, &self.edge.caches(), caller, call);
    }
}

/// Now as Unix milliseconds.
/// Maps a failed read to the close the protocol calls for.
fn classify_read_error(err: tungstenite::Error) -> End {
    use tungstenite::Error as E;
    use tungstenite::error::ProtocolError;
    match err {
        E::Capacity(_) => End::Close(CloseReason::TOO_BIG),
        E::Utf8(_) => End::Close(CloseReason::INVALID_UTF8),
        // The peer hung up without a close frame: a dropped client, not a
        // protocol violation.
        E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => End::Gone,
        E::Protocol(_) => End::Close(CloseReason::PROTOCOL),
        _ => End::Gone,
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
