//! The sans-IO session state machine, driven as the WebSocket driver drives
//! it, with a fake core and a fake clock.
//!
//! The input is lines. A line is a text frame from the client, unless it
//! starts with `#`, which makes it a step of the world around the session:
//!
//! | line | step |
//! | --- | --- |
//! | `#t<ms>` | the clock moves on; a due timeout fires |
//! | `#a` / `#z` | the core answers its oldest / newest pending call |
//! | `#e` | from now on the core refuses (or, again, accepts) calls |
//! | `#m<channel>:<id>` | a live `message` for that channel arrives |
//! | `#b` | a binary frame arrives |
//! | `#p` | a WebSocket ping arrives |
//! | `#k` | the registry closes the session |
//!
//! Calls are answered when the session would stop reading without them, and
//! all of them at the end. The session must never panic, every frame it
//! writes must be a JSON object with a `type` (an `error` with a code and a
//! message), and once every call is answered it must be closed or reading.
//!
//! To see what an input does, run the target on it with `FUZZ_TRACE=1`.

#![no_main]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chat_protocol::wire::{
    Channel, ChannelKind, ChannelState, Message, Notifications, Presence, PresenceStatus, Settings,
    User,
};
use chat_protocol::{
    AheadProfile, Call, CallResult, Delivery, Output, ReadyLoad, Session, SessionConfig,
    SharedFrame,
};
use chat_protocol::{CallError, CloseReason};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Catch-up pages answered with "more after this one", per input, so that
/// a session catching up always finishes.
const MORE_PAGES: u32 = 4;
/// Messages in each catch-up page at most.
const PAGE: u64 = 3;

/// Whether to print every output, for reading what an input does.
static TRACE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("FUZZ_TRACE").is_some());

fuzz_target!(|data: &[u8]| {
    let mut world = World::new();
    for line in data.split(|b| *b == b'\n') {
        world.step(line);
        if world.session.is_closed() {
            break;
        }
    }
    world.settle();
});

struct World {
    session: Session,
    now: Instant,
    pending: VecDeque<Call>,
    refuse: bool,
    more_pages: u32,
    /// The largest live message id delivered, per channel: stored, so a
    /// page reaches it.
    live: HashMap<u64, u64>,
    closes: usize,
}

impl World {
    fn new() -> Self {
        let now = Instant::now();
        // Small limits, so that a short input reaches them.
        let config = SessionConfig {
            hello_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(10),
            max_in_flight: 3,
            frames_per_sec: 20.0,
            frames_burst: 30.0,
            max_text_chars: 40,
            max_frame_bytes: 1 << 20,
            idle_timeout: Duration::from_secs(30),
            sync_page: 2,
            max_cursors: 4,
            typing_interval: Duration::from_secs(1),
        };
        Self {
            session: Session::new(1, Arc::new(config), now),
            now,
            pending: VecDeque::new(),
            refuse: false,
            more_pages: MORE_PAGES,
            live: HashMap::new(),
            closes: 0,
        }
    }

    fn step(&mut self, line: &[u8]) {
        match line {
            [b'#', b't', ms @ ..] => {
                let ms = number(ms).unwrap_or(0).min(3_600_000);
                self.now += Duration::from_millis(ms);
                if self.session.poll_timeout().is_some_and(|at| at <= self.now) {
                    self.session.handle_timeout(self.now);
                }
            }
            [b'#', b'a', ..] => self.answer_oldest(),
            [b'#', b'z', ..] => {
                if let Some(call) = self.pending.pop_back() {
                    self.answer(call);
                }
            }
            [b'#', b'e', ..] => self.refuse = !self.refuse,
            [b'#', b'm', rest @ ..] => {
                let mut parts = rest.splitn(2, |b| *b == b':');
                let channel = parts.next().and_then(number).unwrap_or(1);
                let id = parts.next().and_then(number).unwrap_or(1);
                if self.session.wants_deliveries() {
                    let live = self.live.entry(channel).or_default();
                    *live = (*live).max(id);
                    let message = message(channel, id);
                    let text = serde_json::json!({"type": "message", "message": message});
                    // The author's profile ahead, sometimes changed.
                    let author = 100 + id % 5;
                    let profile =
                        serde_json::json!({"type": "profile", "user": {"id": author.to_string()}});
                    let frame = SharedFrame {
                        text: text.to_string().into(),
                        position: Some((channel, id)),
                        ahead: Box::new([AheadProfile {
                            user_id: author,
                            print: id % 3,
                            text: profile.to_string().into(),
                        }]),
                    };
                    self.session
                        .handle_delivery(Delivery::Frame(Arc::new(frame)));
                }
            }
            [b'#', b'b', ..] => self.when_reading(|s, now| s.handle_binary(now)),
            [b'#', b'p', ..] => self.session.handle_activity(self.now),
            [b'#', b'k', ..] => self
                .session
                .handle_delivery(Delivery::Close(&CloseReason::SHUTDOWN)),
            text => {
                let text = String::from_utf8_lossy(text);
                self.when_reading(|s, now| s.handle_text(&text, now));
            }
        }
        self.carry_outputs();
    }

    /// Feeds the client's next frame once the session reads again, as the
    /// driver does: calls are answered until it does.
    fn when_reading(&mut self, feed: impl FnOnce(&mut Session, Instant)) {
        while !self.session.wants_read() && !self.pending.is_empty() {
            self.answer_oldest();
        }
        if self.session.wants_read() {
            feed(&mut self.session, self.now);
        }
    }

    /// Answers every call, including those the answers lead to.
    fn settle(&mut self) {
        while !self.pending.is_empty() {
            self.answer_oldest();
        }
        assert!(
            self.session.is_closed() || self.session.wants_read(),
            "every call is answered, yet the session neither reads nor closed"
        );
    }

    fn answer_oldest(&mut self) {
        if let Some(call) = self.pending.pop_front() {
            self.answer(call);
        }
    }

    fn carry_outputs(&mut self) {
        while let Some(output) = self.session.poll_output() {
            if *TRACE {
                eprintln!("{output:?}");
            }
            match output {
                Output::Text(text) => check_frame(&text),
                Output::Call(call) => self.pending.push_back(*call),
                Output::Register { .. } => {}
                Output::Close(_) => {
                    self.closes += 1;
                    assert_eq!(self.closes, 1, "a session closes once");
                    assert!(self.session.is_closed());
                }
            }
        }
    }

    fn answer(&mut self, call: Call) {
        let refused = || CallError::new("channel_not_found", "channel not found");
        let refuse = self.refuse;
        let done = |result: Result<(), CallError>| if refuse { Err(refused()) } else { result };
        let result = match call {
            Call::Authenticate { .. } if refuse => {
                CallResult::Authenticated(Err(CallError::new("invalid_token", "invalid token")))
            }
            Call::Authenticate { .. } => CallResult::Authenticated(Ok((user(), 9))),
            Call::Ready if refuse => {
                CallResult::Ready(Err(CallError::new("internal", "no ready state")))
            }
            Call::Ready => CallResult::Ready(Ok(ReadyLoad {
                settings: settings(),
                channels: ready_channels(),
                users: vec![],
                receipts_max_members: 20,
            })),
            Call::Send(chat_protocol::SendCall {
                channel_id,
                client_msg_id,
                text,
            }) => CallResult::Sent {
                result: if refuse {
                    Err(refused())
                } else {
                    let mut message = message(channel_id, 1);
                    message.text = text;
                    message.client_msg_id = client_msg_id.clone();
                    Ok((message, false))
                },
                client_msg_id,
            },
            Call::MarkRead {
                channel_id,
                message_id,
            }
            | Call::Edit {
                channel_id,
                message_id,
                ..
            }
            | Call::Delete {
                channel_id,
                message_id,
            } => CallResult::Done {
                channel_id,
                message_id: Some(message_id),
                result: done(Ok(())),
            },
            Call::Typing { channel_id } => CallResult::Done {
                channel_id,
                message_id: None,
                result: done(Ok(())),
            },
            Call::Watch { channel_id } => CallResult::Watched {
                channel_id,
                result: if refuse {
                    Err(refused())
                } else {
                    Ok(vec![presence()])
                },
            },
            Call::Unwatch { channel_id } => CallResult::Unwatched {
                channel_id,
                result: done(Ok(())),
            },
            Call::History {
                channel_id,
                after,
                limit,
            } => CallResult::History {
                channel_id,
                result: self.page(channel_id, after, limit, false),
            },
            Call::Changes {
                channel_id,
                after,
                limit,
            } => CallResult::Changes {
                channel_id,
                result: self.page(channel_id, after, limit, true),
            },
        };
        self.session.handle_call_result(result);
        self.carry_outputs();
    }

    /// A page of messages (or of changes) after `after`, as a core answers.
    fn page(
        &mut self,
        channel: u64,
        after: u64,
        limit: u32,
        changes: bool,
    ) -> Result<(Vec<Message>, bool), CallError> {
        if self.refuse {
            return Err(CallError::new("channel_not_found", "no such channel"));
        }
        let mut ids: Vec<u64> = (1..=PAGE.min(u64::from(limit)))
            .map_while(|n| after.checked_add(n))
            .collect();
        let live = self.live.get(&channel).copied().unwrap_or(0);
        if !changes && self.more_pages == 0 && live > ids.last().copied().unwrap_or(after) {
            // Out of patience: the page jumps to the newest message.
            ids.push(live);
        }
        let messages = ids
            .iter()
            .map(|&id| {
                let mut m = message(channel, id);
                if changes {
                    m.version_id = id;
                    m.deleted = id % 2 == 0;
                }
                m
            })
            .collect::<Vec<_>>();
        let more = !messages.is_empty() && self.more_pages > 0;
        self.more_pages = self.more_pages.saturating_sub(u32::from(more));
        Ok((messages, more))
    }
}

/// What every frame the session writes must look like.
fn check_frame(text: &str) {
    let frame: Value = serde_json::from_str(text).expect("frames are JSON");
    let kind = frame["type"].as_str().expect("frames have a type");
    if kind == "error" {
        let code = frame["code"].as_str().expect("errors have a code");
        let message = frame["message"].as_str().expect("errors have a message");
        assert!(!code.is_empty() && !message.is_empty(), "{text}");
    }
}

fn number(digits: &[u8]) -> Option<u64> {
    std::str::from_utf8(digits).ok()?.trim().parse().ok()
}

fn user() -> User {
    User {
        id: 7,
        username: "ann".into(),
        created_at_ms: 1,
        ..Default::default()
    }
}

fn settings() -> Settings {
    Settings {
        notifications: Notifications::All,
        muted_channel_ids: Vec::new(),
        invisible: false,
    }
}

/// Channels 1 to 3 with messages up to 5, none and up to 9, so live
/// messages meet the ready cut.
fn ready_channels() -> Vec<ChannelState> {
    [(1, 5), (2, 0), (3, 9)]
        .into_iter()
        .map(|(id, last_message_id)| ChannelState {
            channel: Channel {
                id,
                kind: ChannelKind::Group,
                name: "g".into(),
                owner_id: 7,
                member_ids: vec![7, 8],
                admin_ids: Vec::new(),
                created_at_ms: 1,
                last_message_id,
            },
            last_read_id: 0,
            unread_count: 0,
            mention_count: 0,
            last_message: None,
        })
        .collect()
}

fn presence() -> Presence {
    Presence {
        user_id: 7,
        status: PresenceStatus::Online,
        last_active_at_ms: 1,
    }
}

fn message(channel_id: u64, id: u64) -> Message {
    Message {
        id,
        channel_id,
        sender_id: 7,
        text: "x".into(),
        client_msg_id: "c".into(),
        created_at_ms: 1,
        ..Default::default()
    }
}
