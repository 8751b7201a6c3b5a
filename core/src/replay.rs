//! Resuming channels for an edge, without IO: what to read from storage
//! after the edge's cursor, and which live events to hold meanwhile and
//! let through afterwards, so each of the channel's events reaches the edge
//! once and in order.
//!
//! The edge's watch is registered in the hub before the first page is read,
//! so every event published from then on is offered here live. Each was
//! stored before it was published: an event published before the watch is
//! in storage by the time the first page is read, and an event published
//! after it is offered live. While a channel replays, its live events are
//! held; when the replay ends they go out, except those a page already
//! carried (a message id at or below the last one replayed, a version at or
//! below the last change replayed). From then on live events go straight
//! through: the core publishes a channel's messages in id order and its
//! changes in version order.

use std::collections::HashMap;

use chat_proto::v1::{ChannelCursor, Event, event::Kind};

use crate::store::Id;

/// Messages one replay sends at most; past this the edge is told of a gap
/// and its sessions page history themselves.
pub const MAX_REPLAY_MESSAGES: usize = 10_000;

/// Which storage read a replay step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// Messages with ids above `after`.
    Messages,
    /// Messages changed with versions above `after`.
    Changes,
}

/// The next page a channel's replay must read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The channel replaying.
    pub channel_id: Id,
    /// Messages or changes.
    pub kind: PageKind,
    /// The id (or version) the page starts after.
    pub after: Id,
}

/// What to do with a live event.
#[derive(Debug, PartialEq)]
pub enum Offer {
    /// Send it now.
    Pass(Event),
    /// Kept until its channel's replay ends.
    Held,
    /// The edge held more than it may: end its stream.
    Overflow,
}

/// How a replay step ended.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Read this page next.
    Next(PageRequest),
    /// The replay is over: send these held live events. With `gap`, some
    /// messages after `after_message_id` were not replayed, for this reason.
    Finished {
        /// Live events held meanwhile that no page carried, in order.
        held: Vec<Event>,
        /// Why some messages were left out, if any were.
        gap: Option<&'static str>,
        /// The last message id replayed (or the cursor, if none was).
        after_message_id: Id,
    },
}

/// One channel's replay in progress.
#[derive(Debug)]
struct Replay {
    message_id: Id,
    version_id: Id,
    kind: PageKind,
    sent: usize,
    held: Vec<Event>,
}

/// The replays of one edge's stream.
#[derive(Debug)]
pub struct Replays {
    channels: HashMap<Id, Replay>,
    held: usize,
    max_held: usize,
}

/// The channel an event belongs to, if it is a channel's event: messages,
/// their changes, typing and gaps are; everything else is a user's.
pub fn channel_of(kind: &Kind) -> Option<Id> {
    match kind {
        Kind::Message(created) => created.message.as_ref().map(|m| m.channel_id),
        Kind::MessageUpdated(updated) => updated.message.as_ref().map(|m| m.channel_id),
        Kind::Typing(typing) => Some(typing.channel_id),
        Kind::Gap(gap) => Some(gap.channel_id),
        _ => None,
    }
}

impl Replays {
    /// No replays yet; at most `max_held` live events held in all.
    pub fn new(max_held: usize) -> Self {
        Self {
            channels: HashMap::new(),
            held: 0,
            max_held,
        }
    }

    /// Starts replaying a channel from `cursor`: the first page to read.
    /// `None` if the channel is already replaying (its first cursor holds).
    pub fn start(&mut self, cursor: &ChannelCursor) -> Option<PageRequest> {
        if self.channels.contains_key(&cursor.channel_id) {
            return None;
        }
        self.channels.insert(
            cursor.channel_id,
            Replay {
                message_id: cursor.message_id,
                version_id: cursor.version_id,
                kind: PageKind::Messages,
                sent: 0,
                held: Vec::new(),
            },
        );
        Some(PageRequest {
            channel_id: cursor.channel_id,
            kind: PageKind::Messages,
            after: cursor.message_id,
        })
    }

    /// Whether `channel` is replaying.
    #[cfg(test)]
    pub fn is_replaying(&self, channel: Id) -> bool {
        self.channels.contains_key(&channel)
    }

    /// Stops a channel's replay (it was unwatched); its held events go.
    pub fn cancel(&mut self, channel: Id) {
        if let Some(replay) = self.channels.remove(&channel) {
            self.held -= replay.held.len();
        }
    }

    /// A live event: held while its channel replays, else passed.
    pub fn offer(&mut self, event: Event) -> Offer {
        let channel = event.kind.as_ref().and_then(channel_of);
        let Some(replay) = channel.and_then(|c| self.channels.get_mut(&c)) else {
            return Offer::Pass(event);
        };
        if self.held >= self.max_held {
            return Offer::Overflow;
        }
        replay.held.push(event);
        self.held += 1;
        Offer::Held
    }

    /// A page was read for `req`: `ids` are the ids (for messages) or the
    /// versions (for changes) it held, ascending, and `full` says it held
    /// as many as were asked for, so more may follow. The page's events are
    /// the caller's to send before anything this returns.
    pub fn page(&mut self, req: PageRequest, ids: &[Id], full: bool) -> Step {
        let Some(replay) = self.channels.get_mut(&req.channel_id) else {
            return self.finished(req.channel_id, None);
        };
        let last = ids.last().copied();
        match req.kind {
            PageKind::Messages => {
                replay.message_id = last.unwrap_or(replay.message_id).max(replay.message_id);
                replay.sent += ids.len();
                if full && replay.sent >= MAX_REPLAY_MESSAGES {
                    return self.finished(req.channel_id, Some("too_many"));
                }
                if full {
                    return Step::Next(PageRequest {
                        after: replay.message_id,
                        ..req
                    });
                }
                replay.kind = PageKind::Changes;
                Step::Next(PageRequest {
                    channel_id: req.channel_id,
                    kind: PageKind::Changes,
                    after: replay.version_id,
                })
            }
            PageKind::Changes => {
                replay.version_id = last.unwrap_or(replay.version_id).max(replay.version_id);
                if full {
                    return Step::Next(PageRequest {
                        after: replay.version_id,
                        ..req
                    });
                }
                self.finished(req.channel_id, None)
            }
        }
    }

    /// A page could not be read: the replay ends with a gap.
    pub fn failed(&mut self, channel: Id) -> Step {
        self.finished(channel, Some("unavailable"))
    }

    fn finished(&mut self, channel: Id, gap: Option<&'static str>) -> Step {
        let Some(replay) = self.channels.remove(&channel) else {
            return Step::Finished {
                held: Vec::new(),
                gap,
                after_message_id: 0,
            };
        };
        self.held -= replay.held.len();
        let (message_id, version_id) = (replay.message_id, replay.version_id);
        let held = replay
            .held
            .into_iter()
            .filter(|e| match &e.kind {
                Some(Kind::Message(c)) => c.message.as_ref().is_some_and(|m| m.id > message_id),
                Some(Kind::MessageUpdated(u)) => u
                    .message
                    .as_ref()
                    .is_some_and(|m| m.version_id > version_id),
                _ => true,
            })
            .collect();
        Step::Finished {
            held,
            gap,
            after_message_id: message_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_proto::v1::{Message, MessageCreated, MessageUpdated, TypingStarted};

    fn created(channel: Id, id: Id) -> Event {
        Event {
            recipients: vec![1],
            seq: 0,
            kind: Some(Kind::Message(MessageCreated {
                message: Some(Message {
                    id,
                    channel_id: channel,
                    ..Default::default()
                }),
                origin_session: 0,
            })),
        }
    }

    fn updated(channel: Id, id: Id, version: Id) -> Event {
        Event {
            recipients: vec![1],
            seq: 0,
            kind: Some(Kind::MessageUpdated(MessageUpdated {
                message: Some(Message {
                    id,
                    channel_id: channel,
                    version_id: version,
                    ..Default::default()
                }),
            })),
        }
    }

    fn cursor(channel: Id, message_id: Id, version_id: Id) -> ChannelCursor {
        ChannelCursor {
            channel_id: channel,
            message_id,
            version_id,
        }
    }

    #[test]
    fn live_events_wait_for_the_replay_and_what_a_page_carried_is_dropped() {
        let mut r = Replays::new(100);
        let first = r.start(&cursor(7, 10, 10)).expect("first page");
        assert_eq!(first.after, 10);
        assert_eq!(first.kind, PageKind::Messages);
        // Published after the watch: 12 was also in the page, 13 was not.
        assert_eq!(r.offer(created(7, 12)), Offer::Held);
        assert_eq!(r.offer(created(7, 13)), Offer::Held);
        assert_eq!(r.offer(updated(7, 11, 14)), Offer::Held);
        // Another channel's event is not held.
        assert!(matches!(r.offer(created(8, 1)), Offer::Pass(_)));
        let changes = match r.page(first, &[11, 12], false) {
            Step::Next(next) => next,
            other => panic!("expected changes, got {other:?}"),
        };
        assert_eq!(changes.kind, PageKind::Changes);
        assert_eq!(changes.after, 10, "changes start at the version cursor");
        match r.page(changes, &[], false) {
            Step::Finished {
                held,
                gap,
                after_message_id,
            } => {
                assert_eq!(gap, None);
                assert_eq!(after_message_id, 12);
                assert_eq!(held, vec![created(7, 13), updated(7, 11, 14)]);
            }
            other => panic!("expected the end, got {other:?}"),
        }
        assert!(!r.is_replaying(7));
        assert!(matches!(r.offer(created(7, 14)), Offer::Pass(_)));
    }

    #[test]
    fn changes_a_page_carried_are_dropped_from_the_held_ones() {
        let mut r = Replays::new(100);
        let first = r.start(&cursor(7, 10, 20)).expect("first page");
        assert_eq!(r.offer(updated(7, 5, 21)), Offer::Held);
        assert_eq!(r.offer(updated(7, 6, 30)), Offer::Held);
        let Step::Next(changes) = r.page(first, &[], false) else {
            panic!("changes next");
        };
        let Step::Finished { held, .. } = r.page(changes, &[21], false) else {
            panic!("done");
        };
        assert_eq!(held, vec![updated(7, 6, 30)]);
    }

    #[test]
    fn full_pages_continue_after_the_last_id_until_the_limit() {
        let mut r = Replays::new(100);
        let first = r.start(&cursor(7, 0, 0)).expect("first page");
        let Step::Next(second) = r.page(first, &[1, 2, 3], true) else {
            panic!("a full page asks for more");
        };
        assert_eq!((second.kind, second.after), (PageKind::Messages, 3));
        let many: Vec<Id> = (4..4 + MAX_REPLAY_MESSAGES as Id).collect();
        match r.page(second, &many, true) {
            Step::Finished {
                gap: Some("too_many"),
                after_message_id,
                ..
            } => assert_eq!(after_message_id, 3 + MAX_REPLAY_MESSAGES as Id),
            other => panic!("expected a gap, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_read_is_a_gap_and_the_held_events_still_go() {
        let mut r = Replays::new(100);
        r.start(&cursor(7, 10, 10)).expect("first page");
        assert_eq!(r.offer(created(7, 11)), Offer::Held);
        match r.failed(7) {
            Step::Finished { held, gap, .. } => {
                assert_eq!(gap, Some("unavailable"));
                assert_eq!(held, vec![created(7, 11)]);
            }
            other => panic!("expected the end, got {other:?}"),
        }
    }

    #[test]
    fn holding_is_bounded_and_cancel_frees_room() {
        let mut r = Replays::new(2);
        r.start(&cursor(7, 0, 0)).expect("first page");
        assert_eq!(r.offer(created(7, 1)), Offer::Held);
        assert_eq!(r.offer(created(7, 2)), Offer::Held);
        assert_eq!(r.offer(created(7, 3)), Offer::Overflow);
        r.cancel(7);
        r.start(&cursor(7, 0, 0)).expect("again");
        assert_eq!(r.offer(created(7, 3)), Offer::Held);
        assert!(r.start(&cursor(7, 5, 5)).is_none(), "already replaying");
    }

    #[test]
    fn typing_is_held_and_then_passed() {
        let mut r = Replays::new(10);
        let first = r.start(&cursor(7, 0, 0)).expect("first page");
        let typing = Event {
            recipients: vec![1],
            seq: 0,
            kind: Some(Kind::Typing(TypingStarted {
                channel_id: 7,
                user_id: 2,
                expires_in_ms: 1,
            })),
        };
        assert_eq!(r.offer(typing.clone()), Offer::Held);
        let Step::Next(changes) = r.page(first, &[], false) else {
            panic!("changes next");
        };
        let Step::Finished { held, .. } = r.page(changes, &[], false) else {
            panic!("done");
        };
        assert_eq!(held, vec![typing]);
    }
}
