//! One client session as a state machine: `handle_*` feeds it, `poll_*`
//! drains what it wants done. Time is an argument, never read.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod actions;
mod calls;
mod watches;

pub use calls::{Call, CallResult, ReadyLoad, SendCall};

use super::catchup::{Catchup, PageKind};
use super::cut::ReadyCut;
use super::frames::{self, ClientFrame, Limits, ServerFrame};
use super::ratelimit::TokenBucket;
use super::shown::{self, Shown};
use crate::wire::{Message, User};
use crate::{CallError, CloseReason};
use watches::WatchQueue;

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
    /// Silence after which an open session is closed (no frame, not even a ping).
    pub idle_timeout: Duration,
    /// Messages per catch-up page.
    pub sync_page: u32,
    /// Most cursors one `hello` may carry.
    pub max_cursors: usize,
    /// Shortest time between two `typing` frames for one channel.
    pub typing_interval: Duration,
}

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this text frame.
    Text(Arc<str>),
    /// Ask the core; feed the answer back with [`Session::handle_call_result`].
    /// Boxed, so that the session's output queue, which keeps its capacity,
    /// holds small entries.
    Call(Box<Call>),
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

/// A ready-made frame, shared by every recipient session.
#[derive(Debug, PartialEq)]
pub struct SharedFrame {
    /// The frame's text.
    pub text: Arc<str>,
    /// `(channel_id, message_id)` of a `message` frame.
    pub position: Option<(u64, u64)>,
    /// Profiles to send just before it to a client that lacks them: a
    /// message's author and the members it mentions.
    pub ahead: Box<[AheadProfile]>,
}

impl SharedFrame {
    /// `text`, which is no message and needs no profiles.
    pub fn plain(text: Arc<str>) -> Self {
        Self {
            text,
            position: None,
            ahead: Box::default(),
        }
    }
}

/// A `profile` frame sent ahead of a message unless the client has it.
#[derive(Debug, PartialEq)]
pub struct AheadProfile {
    /// Whose.
    pub user_id: u64,
    /// Its [`shown::fingerprint`].
    pub print: u64,
    /// The `profile` frame.
    pub text: Arc<str>,
}

/// Something routed to this session from elsewhere. Two words, so that
/// each session's queue (allocated 32 slots at a time) stays small.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A frame for the client.
    Frame(Arc<SharedFrame>),
    /// Close the session.
    Close(&'static CloseReason),
    /// Presence moved to another core: watch every watched channel again
    /// there (the client gets each channel's presence list afresh).
    PresenceMoved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingHello {
        deadline: Instant,
    },
    Authenticating,
    /// Registered; waiting for the ready state. Deliveries wait in the queue.
    Loading,
    Open,
    Closed,
}

/// The protocol state of one connection.
#[derive(Debug)]
pub struct Session {
    id: u64,
    config: Arc<SessionConfig>,
    phase: Phase,
    in_flight: usize,
    limiter: TokenBucket,
    out: VecDeque<Output>,
    /// When the client last sent anything.
    last_heard: Instant,
    /// Cursors from `hello`, until authentication succeeds.
    cursors: Vec<(u64, u64)>,
    /// Catch-up state; kept after it finishes to drop duplicates at the seam.
    /// Boxed, like `user`: idle sessions should not carry their size.
    catchup: Option<Box<Catchup>>,
    /// Live messages `ready` already reflected, to drop; `None` once none can come.
    cut: Option<Box<ReadyCut>>,
    /// Whether `synced` was sent.
    synced: bool,
    /// The authenticated user, until `ready` is sent.
    user: Option<Box<User>>,
    /// When this session last sent `typing`, per channel.
    typing: HashMap<u64, Instant>,
    /// Presence watches and unwatches, applied in order.
    watches: WatchQueue,
    /// The profiles the client was sent.
    shown: Shown,
}

impl Session {
    /// A session that has just connected at `now`.
    pub fn new(id: u64, config: Arc<SessionConfig>, now: Instant) -> Self {
        Self {
            id,
            phase: Phase::AwaitingHello {
                deadline: now + config.hello_timeout,
            },
            in_flight: 0,
            limiter: TokenBucket::new(config.frames_per_sec, config.frames_burst, now),
            out: VecDeque::new(),
            last_heard: now,
            cursors: Vec::new(),
            catchup: None,
            cut: None,
            synced: false,
            user: None,
            typing: HashMap::new(),
            watches: WatchQueue::default(),
            shown: Shown::default(),
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
            Phase::Authenticating | Phase::Loading | Phase::Closed => false,
        }
    }

    /// Whether the driver should hand over deliveries now.
    pub fn wants_deliveries(&self) -> bool {
        self.phase != Phase::Loading
    }

    /// When the client was last heard from.
    pub fn last_heard(&self) -> Instant {
        self.last_heard
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
            Phase::Open => Some(self.last_heard + self.config.idle_timeout),
            Phase::Authenticating | Phase::Loading | Phase::Closed => None,
        }
    }

    fn call(&mut self, call: Call) {
        self.out.push_back(Output::Call(Box::new(call)));
    }

    fn send(&mut self, frame: ServerFrame) {
        self.out.push_back(Output::Text(frame.encode()));
    }

    fn error(&mut self, code: &str, message: impl Into<String>, client_msg_id: Option<String>) {
        self.send(ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
            client_msg_id,
            channel_id: None,
            message_id: None,
        });
    }

    /// An error about a frame that named a channel (and maybe a message).
    fn error_at(&mut self, e: CallError, channel_id: u64, message_id: Option<u64>) {
        self.send(ServerFrame::Error {
            code: e.code,
            message: e.message,
            client_msg_id: None,
            channel_id: Some(channel_id),
            message_id,
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
        self.last_heard = now;
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
            (Phase::AwaitingHello { .. }, ClientFrame::Hello { cursors, .. })
                if cursors.len() > self.config.max_cursors =>
            {
                let max = self.config.max_cursors;
                let message = format!("{} cursors; at most {max} are allowed", cursors.len());
                self.error("too_many_cursors", message, None);
            }
            (Phase::AwaitingHello { .. }, ClientFrame::Hello { token, cursors }) => {
                self.phase = Phase::Authenticating;
                self.cursors = cursors;
                self.call(Call::Authenticate { token });
            }
            (Phase::AwaitingHello { .. }, _) => {
                self.error("hello_required", "the first frame must be hello", None);
                self.close(CloseReason::HELLO_REQUIRED);
            }
            (Phase::Open, frame @ ClientFrame::Read { .. })
            | (Phase::Open, frame @ ClientFrame::Typing { .. })
            | (Phase::Open, frame @ ClientFrame::Edit { .. })
            | (Phase::Open, frame @ ClientFrame::Delete { .. })
            | (Phase::Open, frame @ ClientFrame::WatchPresence { .. })
            | (Phase::Open, frame @ ClientFrame::UnwatchPresence { .. }) => {
                self.handle_action(frame, now);
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
            (Phase::Authenticating | Phase::Loading | Phase::Closed, _) => {}
        }
    }

    fn handle_send(&mut self, channel_id: u64, client_msg_id: String, text: String) {
        // Refuse what the core would refuse without a round trip, by the
        // same rules.
        use chat_proto::rules;
        if let Err(fault) = rules::check_client_msg_id(&client_msg_id) {
            let message = fault.describe("client_msg_id");
            return self.error("invalid_client_msg_id", message, Some(client_msg_id));
        }
        if let Err(fault) = rules::check_message_text(&text, self.config.max_text_chars) {
            let message = fault.describe("text");
            return self.error(fault.text_code(), message, Some(client_msg_id));
        }
        self.in_flight += 1;
        self.call(Call::Send(SendCall {
            channel_id,
            client_msg_id,
            text,
        }));
    }

    /// A binary frame arrived; the protocol is text only.
    pub fn handle_binary(&mut self, now: Instant) {
        self.last_heard = now;
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
                self.phase = Phase::Loading;
                self.out.push_back(Output::Register {
                    user_id: user.id,
                    token_id,
                });
                self.user = Some(Box::new(user));
                self.call(Call::Ready);
            }
            CallResult::Ready(Ok(ReadyLoad {
                settings,
                channels,
                users,
                receipts_max_members,
            })) => {
                let Some(user) = self.user.take() else {
                    return;
                };
                if self.phase != Phase::Loading {
                    return;
                }
                self.phase = Phase::Open;
                let cursors = std::mem::take(&mut self.cursors);
                // Channels with a cursor are caught up from pages, whose
                // filter already drops what was sent; the cut covers the rest.
                let floors = channels
                    .iter()
                    .map(|c| (c.channel.id, c.channel.last_message_id))
                    .filter(|(id, _)| !cursors.iter().any(|(c, _)| c == id));
                self.cut = ReadyCut::new(floors);
                for u in users.iter().chain([user.as_ref()]) {
                    self.shown.note(u.id, shown::fingerprint(u));
                }
                let ready = ServerFrame::Ready {
                    session_id: self.id,
                    user: *user,
                    heartbeat_interval_ms: self.config.heartbeat_interval.as_millis() as u64,
                    limits: Limits {
                        max_text_chars: self.config.max_text_chars,
                        max_frame_bytes: self.config.max_frame_bytes,
                        receipts_max_members,
                    },
                    settings,
                    channels,
                    users,
                };
                self.send(ready);
                if !cursors.is_empty() {
                    self.catchup = Some(Box::new(Catchup::new(cursors)));
                    self.continue_catchup();
                }
            }
            CallResult::Ready(Err(e)) => {
                self.error(&e.code, e.message, None);
                self.close(CloseReason::INTERNAL);
            }
            CallResult::Done {
                channel_id,
                message_id,
                result,
            } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                if let Err(e) = result {
                    self.error_at(e, channel_id, message_id);
                }
            }
            CallResult::Watched { channel_id, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.watches.watched(channel_id, result.is_ok());
                match result {
                    Ok(presence) => self.send(ServerFrame::PresenceList {
                        channel_id,
                        presence,
                    }),
                    Err(e) => self.error_at(e, channel_id, None),
                }
                self.next_watch();
            }
            CallResult::Unwatched { channel_id, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.watches.unwatched(channel_id);
                if let Err(e) = result {
                    self.error_at(e, channel_id, None);
                }
                self.next_watch();
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
            CallResult::History { channel_id, result } => {
                self.handle_page(channel_id, result);
            }
            CallResult::Changes { channel_id, result } => {
                self.handle_changes(channel_id, result);
            }
        }
    }

    /// Something was routed to this session.
    pub fn handle_delivery(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Frame(frame) if self.phase == Phase::Open => {
                let admitted = match frame.position {
                    Some((channel, id)) => self.admit(channel, id),
                    None => true,
                };
                if admitted {
                    for p in &frame.ahead {
                        if self.shown.note(p.user_id, p.print) {
                            self.out.push_back(Output::Text(p.text.clone()));
                        }
                    }
                    self.out.push_back(Output::Text(frame.text.clone()));
                }
            }
            Delivery::Frame(_) => {}
            Delivery::Close(reason) => self.close(*reason),
            Delivery::PresenceMoved if self.phase == Phase::Open => {
                for channel_id in self.watches.watching() {
                    self.queue_watch(Call::Watch { channel_id });
                }
            }
            Delivery::PresenceMoved => {}
        }
    }

    /// Whether live message `id` of `channel` is new to the client: not
    /// reflected in `ready`, and not sent already from a catch-up page.
    fn admit(&mut self, channel: u64, id: u64) -> bool {
        if let Some(cut) = self.cut.as_mut() {
            if !cut.admit(channel, id) {
                return false;
            }
            if cut.is_done() {
                self.cut = None;
            }
        }
        self.catchup
            .as_mut()
            .is_none_or(|catchup| catchup.admit(channel, id))
    }

    /// Time passed; call at [`Session::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::AwaitingHello { deadline } if now >= deadline => {
                self.close(CloseReason::HELLO_TIMEOUT);
            }
            Phase::Open if now >= self.last_heard + self.config.idle_timeout => {
                self.close(CloseReason::IDLE_TIMEOUT);
            }
            _ => {}
        }
    }

    /// Notes traffic that is not a frame of ours (WebSocket pings and pongs).
    pub fn handle_activity(&mut self, now: Instant) {
        self.last_heard = now;
    }

    fn handle_page(&mut self, channel_id: u64, result: Result<(Vec<Message>, bool), CallError>) {
        let Some(catchup) = self.catchup.as_mut() else {
            return;
        };
        match result {
            Ok((messages, has_more_after)) => {
                let ids: Vec<u64> = messages.iter().map(|m| m.id).collect();
                let fresh = catchup.on_page(channel_id, &ids, has_more_after);
                for message in messages.into_iter().filter(|m| fresh.contains(&m.id)) {
                    self.send(ServerFrame::Message { message });
                }
            }
            Err(e) => {
                catchup.on_failure(channel_id);
                self.error_at(e, channel_id, None);
            }
        }
        self.continue_catchup();
    }

    fn handle_changes(&mut self, channel_id: u64, result: Result<(Vec<Message>, bool), CallError>) {
        let Some(catchup) = self.catchup.as_mut() else {
            return;
        };
        match result {
            Ok((messages, has_more)) => {
                let last = messages.last().map(|m| m.version_id);
                if catchup.on_changes(channel_id, messages.len(), last, has_more) {
                    for message in messages {
                        self.send(if message.deleted {
                            ServerFrame::MessageDeleted { message }
                        } else {
                            ServerFrame::MessageEdited { message }
                        });
                    }
                }
            }
            Err(e) => {
                catchup.on_failure(channel_id);
                self.error_at(e, channel_id, None);
            }
        }
        self.continue_catchup();
    }

    /// Asks for the next catch-up page, or announces the end of catch-up.
    fn continue_catchup(&mut self) {
        let Some(catchup) = self.catchup.as_mut() else {
            return;
        };
        if let Some(req) = catchup.next_request() {
            let (channel_id, after, limit) = (req.channel_id, req.after, self.config.sync_page);
            let call = match req.kind {
                PageKind::Messages => Call::History {
                    channel_id,
                    after,
                    limit,
                },
                PageKind::Changes => Call::Changes {
                    channel_id,
                    after,
                    limit,
                },
            };
            self.call(call);
        } else if catchup.is_done() && !self.synced {
            self.synced = true;
            let (messages, changes) = (catchup.sent(), catchup.changed());
            self.send(ServerFrame::Synced { messages, changes });
        }
    }
}

#[cfg(test)]
mod tests;
