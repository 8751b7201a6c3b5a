//! Frames of an open session besides `send`: read positions, typing, edits,
//! deletes and presence watches. Each becomes one core call.

use std::time::Instant;

use super::{Call, Session};
use crate::ClientFrame;

/// Typing entries kept before old ones are dropped.
const TYPING_ENTRIES: usize = 64;

impl Session {
    /// Handles one of the frames above on an open session.
    pub(super) fn handle_action(&mut self, frame: ClientFrame, now: Instant) {
        let call = match frame {
            ClientFrame::Read {
                channel_id,
                message_id,
            } => Call::MarkRead {
                channel_id,
                message_id,
            },
            ClientFrame::Typing { channel_id } => {
                if !self.typing_allowed(channel_id, now) {
                    let ms = self.config.typing_interval.as_millis();
                    let message = format!("send typing at most once per {ms} ms per channel");
                    self.send(super::ServerFrame::Error {
                        code: "rate_limited".into(),
                        message,
                        client_msg_id: None,
                        channel_id: Some(channel_id),
                        message_id: None,
                    });
                    return;
                }
                Call::Typing { channel_id }
            }
            ClientFrame::Edit {
                channel_id,
                message_id,
                text,
            } => Call::Edit {
                channel_id,
                message_id,
                text,
            },
            ClientFrame::Delete {
                channel_id,
                message_id,
            } => Call::Delete {
                channel_id,
                message_id,
            },
            ClientFrame::WatchPresence { channel_id } => {
                return self.queue_watch(Call::Watch { channel_id });
            }
            ClientFrame::UnwatchPresence { channel_id } => {
                return self.queue_watch(Call::Unwatch { channel_id });
            }
            ClientFrame::Hello { .. } | ClientFrame::Send { .. } | ClientFrame::Ping { .. } => {
                return;
            }
        };
        // Counted like sends, so a client cannot pile up calls to the core.
        self.in_flight += 1;
        self.call(call);
    }

    /// Sends a watch or unwatch once those before it are answered; counted
    /// in flight while it waits, so the queue is bounded too.
    pub(super) fn queue_watch(&mut self, call: Call) {
        self.in_flight += 1;
        if let Some(call) = self.watches.start(call) {
            self.call(call);
        }
    }

    /// The core answered a watch or unwatch: sends the next one.
    pub(super) fn next_watch(&mut self) {
        if let Some(call) = self.watches.finish() {
            self.call(call);
        }
    }

    /// Allows one `typing` per channel per interval.
    fn typing_allowed(&mut self, channel_id: u64, now: Instant) -> bool {
        let interval = self.config.typing_interval;
        if let Some(last) = self.typing.get(&channel_id)
            && now.saturating_duration_since(*last) < interval
        {
            return false;
        }
        if self.typing.len() >= TYPING_ENTRIES {
            self.typing
                .retain(|_, last| now.saturating_duration_since(*last) < interval);
        }
        self.typing.insert(channel_id, now);
        true
    }
}
