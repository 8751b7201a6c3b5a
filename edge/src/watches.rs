//! The channels this edge watches at the core: which of its users are
//! members of each, and how far it has delivered each channel's messages
//! and changes (the cursor it resumes from when the stream breaks).
//!
//! A channel is watched while one of the edge's users is a member: from
//! the user's `ready` state (at the channel's `last_message_id` then), and
//! from the channel events that add the user. It is unwatched when its last
//! member here leaves or logs off. Commands go out on the current event
//! stream in the order they are made; on a new stream every channel is
//! watched again from its cursor.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chat_proto::v1::{
    ChannelCursor, EdgeCommand, UnwatchChannels, WatchChannels, edge_command, event::Kind,
};
use tokio::sync::mpsc::UnboundedSender;

/// One watched channel.
#[derive(Debug, Default)]
struct Watched {
    /// The edge's users who are members.
    members: HashSet<u64>,
    /// Every message up to this id was delivered.
    message_id: u64,
    /// Every change up to this version was delivered.
    version_id: u64,
}

#[derive(Debug, Default)]
struct Inner {
    channels: HashMap<u64, Watched>,
    /// The channels each user is in, as this edge knows them.
    users: HashMap<u64, HashSet<u64>>,
    /// The current stream's command queue; `None` between streams.
    tx: Option<UnboundedSender<EdgeCommand>>,
}

/// The channels this edge watches.
#[derive(Debug, Default)]
pub struct Watches {
    inner: Mutex<Inner>,
}

impl Inner {
    fn send(&self, kind: edge_command::Kind) {
        if let Some(tx) = &self.tx {
            // A closed queue means the stream ended: the next one re-watches.
            let _ = tx.send(EdgeCommand { kind: Some(kind) });
        }
    }

    fn watch(&self, cursors: Vec<ChannelCursor>) {
        if !cursors.is_empty() {
            self.send(edge_command::Kind::Watch(WatchChannels {
                channels: cursors,
            }));
        }
    }

    fn unwatch(&self, channel_ids: Vec<u64>) {
        if !channel_ids.is_empty() {
            self.send(edge_command::Kind::Unwatch(UnwatchChannels { channel_ids }));
        }
    }

    /// Removes `user` from `channel`; true if nobody here is left in it.
    fn remove(&mut self, user: u64, channel: u64) -> bool {
        if let Some(channels) = self.users.get_mut(&user) {
            channels.remove(&channel);
            if channels.is_empty() {
                self.users.remove(&user);
            }
        }
        let Some(watched) = self.channels.get_mut(&channel) else {
            return false;
        };
        watched.members.remove(&user);
        if watched.members.is_empty() {
            self.channels.remove(&channel);
            return true;
        }
        false
    }
}

impl Watches {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends commands to a new stream, watching every channel again from
    /// its cursor.
    pub fn attach(&self, tx: UnboundedSender<EdgeCommand>) {
        let mut inner = self.inner();
        inner.tx = Some(tx);
        let cursors = inner
            .channels
            .iter()
            .map(|(id, w)| cursor(*id, w.message_id, w.version_id))
            .collect();
        inner.watch(cursors);
    }

    /// `user` is in these `(channel, last_message_id)` channels; watches
    /// the ones new here from that id.
    pub fn join(&self, user: u64, channels: impl IntoIterator<Item = (u64, u64)>) {
        let mut inner = self.inner();
        let mut fresh = Vec::new();
        for (channel, last_message_id) in channels {
            inner.users.entry(user).or_default().insert(channel);
            let watched = inner.channels.entry(channel).or_insert_with(|| {
                fresh.push(cursor(channel, last_message_id, last_message_id));
                Watched {
                    members: HashSet::new(),
                    message_id: last_message_id,
                    version_id: last_message_id,
                }
            });
            watched.members.insert(user);
        }
        inner.watch(fresh);
    }

    /// `user` left `channel` (or it was deleted, for everyone here).
    pub fn leave(&self, users: &[u64], channel: u64) {
        let mut inner = self.inner();
        let mut empty = false;
        for user in users {
            empty |= inner.remove(*user, channel);
        }
        if empty {
            inner.unwatch(vec![channel]);
        }
    }

    /// `user` has no session here any more.
    pub fn leave_all(&self, user: u64) {
        let mut inner = self.inner();
        let channels: Vec<u64> = inner
            .users
            .get(&user)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();
        let empty = channels
            .into_iter()
            .filter(|channel| inner.remove(user, *channel))
            .collect();
        inner.unwatch(empty);
    }

    /// Whether a channel event is new here (advancing the channel's
    /// cursor): false for a message or change already delivered. Events of
    /// users, and of channels not watched, always pass.
    pub fn admit(&self, kind: &Kind) -> bool {
        let mut inner = self.inner();
        match kind {
            Kind::Message(created) => {
                let Some(m) = &created.message else {
                    return true;
                };
                let Some(w) = inner.channels.get_mut(&m.channel_id) else {
                    return true;
                };
                let new = m.id > w.message_id;
                w.message_id = w.message_id.max(m.id);
                new
            }
            Kind::MessageUpdated(updated) => {
                let Some(m) = &updated.message else {
                    return true;
                };
                let Some(w) = inner.channels.get_mut(&m.channel_id) else {
                    return true;
                };
                let new = m.version_id > w.version_id;
                w.version_id = w.version_id.max(m.version_id);
                new
            }
            _ => true,
        }
    }

    /// The edge's users in `channel`.
    pub fn members(&self, channel: u64) -> Vec<u64> {
        self.inner()
            .channels
            .get(&channel)
            .map(|w| w.members.iter().copied().collect())
            .unwrap_or_default()
    }
}

fn cursor(channel_id: u64, message_id: u64, version_id: u64) -> ChannelCursor {
    ChannelCursor {
        channel_id,
        message_id,
        version_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_proto::v1::{Message, MessageCreated, MessageUpdated};
    use tokio::sync::mpsc;

    fn commands(rx: &mut mpsc::UnboundedReceiver<EdgeCommand>) -> Vec<edge_command::Kind> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|c| c.kind)
            .collect()
    }

    fn watched(channels: &[(u64, u64)]) -> edge_command::Kind {
        edge_command::Kind::Watch(WatchChannels {
            channels: channels
                .iter()
                .map(|(c, at)| cursor(*c, *at, *at))
                .collect(),
        })
    }

    fn message(channel: u64, id: u64, version: u64) -> Message {
        Message {
            id,
            channel_id: channel,
            version_id: version,
            ..Default::default()
        }
    }

    #[test]
    fn a_channel_is_watched_once_while_a_member_is_here() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let w = Watches::default();
        w.attach(tx);
        w.join(1, [(7, 100)]);
        w.join(2, [(7, 105), (8, 0)]);
        assert_eq!(
            commands(&mut rx),
            vec![watched(&[(7, 100)]), watched(&[(8, 0)])]
        );
        w.leave_all(1);
        assert!(commands(&mut rx).is_empty(), "user 2 is still in 7");
        w.leave(&[2], 7);
        assert_eq!(
            commands(&mut rx),
            vec![edge_command::Kind::Unwatch(UnwatchChannels {
                channel_ids: vec![7]
            })]
        );
        assert_eq!(w.members(8), vec![2]);
    }

    #[test]
    fn delivered_positions_are_the_cursors_of_the_next_stream() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let w = Watches::default();
        w.attach(tx);
        w.join(1, [(7, 100)]);
        let created = |id| {
            Kind::Message(MessageCreated {
                message: Some(message(7, id, 0)),
                origin_session: 0,
            })
        };
        assert!(!w.admit(&created(100)), "ready already counted it");
        assert!(w.admit(&created(101)));
        assert!(!w.admit(&created(101)), "once");
        let edited = Kind::MessageUpdated(MessageUpdated {
            message: Some(message(7, 50, 102)),
        });
        assert!(w.admit(&edited));
        assert!(!w.admit(&edited), "once");
        let (tx, mut rx) = mpsc::unbounded_channel();
        w.attach(tx);
        assert_eq!(
            commands(&mut rx),
            vec![edge_command::Kind::Watch(WatchChannels {
                channels: vec![cursor(7, 101, 102)]
            })]
        );
    }

    #[test]
    fn commands_made_between_streams_are_covered_by_the_next_attach() {
        let (tx, rx) = mpsc::unbounded_channel();
        let w = Watches::default();
        w.attach(tx);
        drop(rx);
        w.join(1, [(9, 5)]);
        let (tx, mut rx) = mpsc::unbounded_channel();
        w.attach(tx);
        assert_eq!(commands(&mut rx), vec![watched(&[(9, 5)])]);
    }
}
