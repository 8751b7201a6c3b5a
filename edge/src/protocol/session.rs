//! One client session as a state machine: `handle_*` feeds it, `poll_*`
//! drains what it wants done. Time is an argument, never read.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::frames::{self, ClientFrame, Limits, ServerFrame};
use super::ratelimit::TokenBucket;
use crate::error::{ApiError, CloseReason};
use crate::wire::{Message, User};

/// Session limits and timings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// How long a new connection may take to send `hello`.
    pub hello_timeout: Duration,
    /// How often clients should ping.
    pub heartbeat_interval: Duration,
    /// Most `send`s awaiting their ack at once; reading pauses beyond it.
    pub max_in_flight: usize,
    /// Frames per second a client may send, sustained.
    pub frames_per_sec: f64,
    /// Frames a client may send in a burst.
    pub frames_burst: f64,
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Largest frame accepted, in bytes.
    pub max_frame_bytes: usize,
}

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this text frame.
    Text(Arc<str>),
    /// Ask the core; feed the answer back with [`Session::handle_call_result`].
    Call(Call),
    /// Start delivering this user's events to the session, then continue.
    Register {
        /// The authenticated user.
        user_id: u64,
        /// The token used, so its revocation can close the session.
        token_id: u64,
    },
    /// Close the connection with this reason; nothing follows.
    Close(CloseReason),
}

/// A request to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Resolve a token.
    Authenticate {
        /// The bearer token.
        token: String,
    },
    /// Store a message.
    Send {
        /// Target channel.
        channel_id: u64,
        /// Idempotency key.
        client_msg_id: String,
        /// Body.
        text: String,
    },
}

/// The core's answer to a [`Call`].
#[derive(Debug, Clone, PartialEq)]
pub enum CallResult {
    /// The answer to `Authenticate`: the user and the token's id.
    Authenticated(Result<(User, u64), ApiError>),
    /// The answer to `Send`.
    Sent {
        /// The key of the send.
        client_msg_id: String,
        /// The stored message and whether it was a duplicate.
        result: Result<(Message, bool), ApiError>,
    },
}

/// Something routed to this session from elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A ready-made frame (shared by every recipient).
    Frame(Arc<str>),
    /// Close the session.
    Close(CloseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingHello { deadline: Instant },
    Authenticating,
    Open,
    Closed,
}

/// The protocol state of one connection.
#[derive(Debug)]
pub struct Session {
    id: u64,
    config: SessionConfig,
    phase: Phase,
    in_flight: usize,
    limiter: TokenBucket,
    out: VecDeque<Output>,
}

impl Session {
    /// A session that has just connected at `now`.
    pub fn new(id: u64, config: SessionConfig, now: Instant) -> Self {
        Self {
            id,
            phase: Phase::AwaitingHello {
                deadline: now + config.hello_timeout,
            },
            in_flight: 0,
            limiter: TokenBucket::new(config.frames_per_sec, config.frames_burst, now),
            out: VecDeque::new(),
            config,
        }
    }

    /// This session's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether the driver should read the next client frame now.
    pub fn wants_read(&self) -> bool {
        match self.phase {
            Phase::AwaitingHello { .. } => true,
            Phase::Open => self.in_flight < self.config.max_in_flight,
            Phase::Authenticating | Phase::Closed => false,
        }
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::AwaitingHello { deadline } => Some(deadline),
            _ => None,
        }
    }

    fn send(&mut self, frame: ServerFrame) {
        self.out.push_back(Output::Text(frame.encode()));
    }

    fn error(&mut self, code: &str, message: impl Into<String>, client_msg_id: Option<String>) {
        self.send(ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
            client_msg_id,
        });
    }

    fn close(&mut self, reason: CloseReason) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            self.out.push_back(Output::Close(reason));
        }
    }

    /// A text frame arrived.
    pub fn handle_text(&mut self, text: &str, now: Instant) {
        if self.is_closed() {
            return;
        }
        if !self.limiter.try_take(now) {
            let key = frames::decode(text).ok().and_then(|f| match f {
                ClientFrame::Send { client_msg_id, .. } => Some(client_msg_id),
                _ => None,
            });
            self.error("rate_limited", "too many frames; slow down and retry", key);
            return;
        }
        let frame = match frames::decode(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.error(e.code, e.message, e.client_msg_id);
                if matches!(self.phase, Phase::AwaitingHello { .. }) {
                    self.close(CloseReason::HELLO_REQUIRED);
                }
                return;
            }
        };
        match (self.phase, frame) {
            (Phase::AwaitingHello { .. }, ClientFrame::Hello { token }) => {
                self.phase = Phase::Authenticating;
                self.out
                    .push_back(Output::Call(Call::Authenticate { token }));
            }
            (Phase::AwaitingHello { .. }, _) => {
                self.error("hello_required", "the first frame must be hello", None);
                self.close(CloseReason::HELLO_REQUIRED);
            }
            (Phase::Open, ClientFrame::Hello { .. }) => {
                self.error(
                    "already_authenticated",
                    "this session is already authenticated",
                    None,
                );
            }
            (
                Phase::Open,
                ClientFrame::Send {
                    channel_id,
                    client_msg_id,
                    text,
                },
            ) => {
                self.handle_send(channel_id, client_msg_id, text);
            }
            (_, ClientFrame::Ping { nonce }) => self.send(ServerFrame::Pong { nonce }),
            (Phase::Authenticating | Phase::Closed, _) => {}
        }
    }

    fn handle_send(&mut self, channel_id: u64, client_msg_id: String, text: String) {
        // Refuse what the core would refuse without a round trip.
        let chars = text.chars().count();
        if chars == 0 {
            return self.error("text_empty", "text must not be empty", Some(client_msg_id));
        }
        if chars > self.config.max_text_chars {
            let max = self.config.max_text_chars;
            let message = format!("text has {chars} characters; at most {max} are allowed");
            return self.error("text_too_long", message, Some(client_msg_id));
        }
        self.in_flight += 1;
        self.out.push_back(Output::Call(Call::Send {
            channel_id,
            client_msg_id,
            text,
        }));
    }

    /// A binary frame arrived; the protocol is text only.
    pub fn handle_binary(&mut self, now: Instant) {
        if !self.limiter.try_take(now) {
            return;
        }
        self.error(
            "binary_not_supported",
            "frames must be JSON text frames",
            None,
        );
        if matches!(self.phase, Phase::AwaitingHello { .. }) {
            self.close(CloseReason::HELLO_REQUIRED);
        }
    }

    /// The core answered a call.
    pub fn handle_call_result(&mut self, result: CallResult) {
        match result {
            CallResult::Authenticated(Ok((user, token_id))) => {
                if self.phase != Phase::Authenticating {
                    return;
                }
                self.phase = Phase::Open;
                self.out.push_back(Output::Register {
                    user_id: user.id,
                    token_id,
                });
                let ready = ServerFrame::Ready {
                    session_id: self.id,
                    user,
                    heartbeat_interval_ms: self.config.heartbeat_interval.as_millis() as u64,
                    limits: Limits {
                        max_text_chars: self.config.max_text_chars,
                        max_frame_bytes: self.config.max_frame_bytes,
                    },
                };
                self.send(ready);
            }
            CallResult::Authenticated(Err(e)) => {
                self.error(&e.code, e.message, None);
                self.close(CloseReason::UNAUTHORIZED);
            }
            CallResult::Sent {
                client_msg_id,
                result,
            } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                match result {
                    Ok((message, duplicate)) => self.send(ServerFrame::Ack {
                        client_msg_id,
                        duplicate,
                        message,
                    }),
                    Err(e) => self.error(&e.code, e.message, Some(client_msg_id)),
                }
            }
        }
    }

    /// Something was routed to this session.
    pub fn handle_delivery(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Frame(text) if self.phase == Phase::Open => {
                self.out.push_back(Output::Text(text));
            }
            Delivery::Frame(_) => {}
            Delivery::Close(reason) => self.close(reason),
        }
    }

    /// Time passed; call at [`Session::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Phase::AwaitingHello { deadline } = self.phase
            && now >= deadline
        {
            self.close(CloseReason::HELLO_TIMEOUT);
        }
    }
}

#[cfg(test)]
mod tests;
