//! The channels this edge watches at the core: which of its users are
//! members of each, how far it has delivered each channel's messages and
//! changes (the cursor it resumes from when a stream breaks), and at which
//! core each is watched.
//!
//! A channel is watched while one of the edge's users is a member: from
//! the user's `ready` state (at the channel's `last_message_id` then), and
//! from the channel events that add the user. It is unwatched when its last
//! member here leaves or logs off. A channel is watched at its owner only
//! (the core that publishes its events), on that core's event stream;
//! commands go out on each stream in the order they are made. When a
//! stream opens, every channel its core owns is watched again from its
//! cursor; when the owner changes ([`Watches::reroute`]), the channel is
//! unwatched at the old owner and watched at the new one from its cursor,
//! so the new owner replays whatever the edge has not delivered. A core
//! that refuses a watch (it does not own the channel yet) leaves the
//! channel unplaced until the next reroute.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chat_proto::v1::{
    ChannelCursor, EdgeCommand, UnwatchChannels, WatchChannels, edge_command, event::Kind,
};
use tokio::sync::mpsc::UnboundedSender;

/// The core that owns a channel now, if one is live.
pub type OwnerOf = Arc<dyn Fn(u64) -> Option<u64> + Send + Sync>;

/// One watched channel.
#[derive(Debug, Default)]
struct Watched {
    /// The edge's users who are members.
    members: HashSet<u64>,
    /// Every message up to this id was delivered.
    message_id: u64,
    /// Every change up to this version was delivered.
    version_id: u64,
    /// The core it is watched at, `None` while at none.
    at: Option<u64>,
}

#[derive(Default)]
struct Inner {
    channels: HashMap<u64, Watched>,
    /// The channels each user is in, as this edge knows them.
    users: HashMap<u64, HashSet<u64>>,
    /// Each core's current stream's command queue.
    txs: HashMap<u64, UnboundedSender<EdgeCommand>>,
}

/// The channels this edge watches.
pub struct Watches {
    inner: Mutex<Inner>,
    owner: OwnerOf,
}

impl Default for Watches {
    /// Watches of a single core ([`crate::core_client::SOLE_CORE`]).
    fn default() -> Self {
        Self::new(Arc::new(|_| Some(crate::core_client::SOLE_CORE)))
    }
}

impl Inner {
    /// Sends `kind` on core `node`'s stream; false if it has none open.
    fn send(&self, node: u64, kind: edge_command::Kind) -> bool {
        match self.txs.get(&node) {
            // A closed queue means the stream ended: the next one re-watches.
            Some(tx) => tx.send(EdgeCommand { kind: Some(kind) }).is_ok(),
            None => false,
        }
    }

    /// Watches `cursors` at `node`; true if the command went out.
    fn watch(&self, node: u64, cursors: Vec<ChannelCursor>) -> bool {
        cursors.is_empty()
            || self.send(
                node,
                edge_command::Kind::Watch(WatchChannels { channels: cursors }),
            )
    }

    fn unwatch(&self, node: u64, channel_ids: Vec<u64>) {
        if !channel_ids.is_empty() {
            self.send(
                node,
                edge_command::Kind::Unwatch(UnwatchChannels { channel_ids }),
            );
        }
    }

    /// Watches each of `channels` at its owner, where it has a stream.
    fn place(&mut self, owner: &OwnerOf, channels: Vec<u64>) {
        let mut by_node: HashMap<u64, Vec<ChannelCursor>> = HashMap::new();
        for channel in channels {
            let Some(w) = self.channels.get_mut(&channel) else {
                continue;
            };
            w.at = None;
            if let Some(node) = owner(channel)
                && self.txs.contains_key(&node)
            {
                w.at = Some(node);
                by_node
                    .entry(node)
                    .or_default()
                    .push(cursor(channel, w.message_id, w.version_id));
            }
        }
        for (node, cursors) in by_node {
            if !self.watch(node, cursors.clone()) {
                for c in cursors {
                    if let Some(w) = self.channels.get_mut(&c.channel_id) {
                        w.at = None;
                    }
                }
            }
        }
    }

    /// Removes `user` from `channel`; the core it was watched at if nobody
    /// here is left in it.
    fn remove(&mut self, user: u64, channel: u64) -> Option<Option<u64>> {
        if let Some(channels) = self.users.get_mut(&user) {
            channels.remove(&channel);
            if channels.is_empty() {
                self.users.remove(&user);
            }
        }
        let watched = self.channels.get_mut(&channel)?;
        watched.members.remove(&user);
        if watched.members.is_empty() {
            return self.channels.remove(&channel).map(|w| w.at);
        }
        None
    }

    fn unwatch_all(&self, gone: Vec<(u64, Option<u64>)>) {
        let mut by_node: HashMap<u64, Vec<u64>> = HashMap::new();
        for (channel, at) in gone {
            if let Some(node) = at {
                by_node.entry(node).or_default().push(channel);
            }
        }
        for (node, channels) in by_node {
            self.unwatch(node, channels);
        }
    }
}

impl Watches {
    /// Watches placed at the core `owner` names for each channel.
    pub fn new(owner: OwnerOf) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            owner,
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends core `node`'s commands to its new stream, watching every
    /// channel it owns again from its cursor.
    pub fn attach(&self, node: u64, tx: UnboundedSender<EdgeCommand>) {
        let mut inner = self.inner();
        inner.txs.insert(node, tx);
        let mine: Vec<u64> = inner
            .channels
            .keys()
            .copied()
            .filter(|c| (self.owner)(*c) == Some(node))
            .collect();
        inner.place(&self.owner, mine);
    }

    /// Core `node`'s stream ended: its channels are watched nowhere until
    /// it opens again or they move.
    pub fn detach(&self, node: u64) {
        let mut inner = self.inner();
        inner.txs.remove(&node);
        for w in inner.channels.values_mut() {
            if w.at == Some(node) {
                w.at = None;
            }
        }
    }

    /// Moves every channel whose owner changed (or that is watched
    /// nowhere) to its owner: unwatched at the old, watched from its
    /// cursor at the new. Call when the membership changed, and now and
    /// then for channels a core refused.
    pub fn reroute(&self) -> usize {
        let mut inner = self.inner();
        let mut moved = Vec::new();
        let mut leaving: HashMap<u64, Vec<u64>> = HashMap::new();
        for (channel, w) in &inner.channels {
            let owner = (self.owner)(*channel);
            let placed = owner.is_some_and(|o| inner.txs.contains_key(&o));
            let right = w.at.is_some() && w.at == owner;
            if right || (w.at.is_none() && !placed) {
                continue;
            }
            if let Some(old) = w.at {
                leaving.entry(old).or_default().push(*channel);
            }
            moved.push(*channel);
        }
        for (node, channels) in leaving {
            inner.unwatch(node, channels);
        }
        let n = moved.len();
        inner.place(&self.owner, moved);
        n
    }

    /// Core `node` did not take the watch of `channel` (it does not own
    /// it): the channel waits for the next [`reroute`](Self::reroute).
    pub fn refused(&self, node: u64, channel: u64) {
        if let Some(w) = self.inner().channels.get_mut(&channel)
            && w.at == Some(node)
        {
            w.at = None;
        }
    }

    /// Whether some channel is watched at no core.
    pub fn unplaced(&self) -> bool {
        self.inner().channels.values().any(|w| w.at.is_none())
    }

    /// `user` is in these `(channel, last_message_id)` channels; watches
    /// the ones new here from that id.
    pub fn join(&self, user: u64, channels: impl IntoIterator<Item = (u64, u64)>) {
        let mut inner = self.inner();
        let mut fresh = Vec::new();
        for (channel, last_message_id) in channels {
            inner.users.entry(user).or_default().insert(channel);
            let watched = inner.channels.entry(channel).or_insert_with(|| {
                fresh.push(channel);
                Watched {
                    members: HashSet::new(),
                    message_id: last_message_id,
                    version_id: last_message_id,
                    at: None,
                }
            });
            watched.members.insert(user);
        }
        inner.place(&self.owner, fresh);
    }

    /// `user` left `channel` (or it was deleted, for everyone here).
    pub fn leave(&self, users: &[u64], channel: u64) {
        let mut inner = self.inner();
        let mut gone = Vec::new();
        for user in users {
            if let Some(at) = inner.remove(*user, channel) {
                gone.push((channel, at));
            }
        }
        inner.unwatch_all(gone);
    }

    /// `user` has no session here any more.
    pub fn leave_all(&self, user: u64) {
        let mut inner = self.inner();
        let channels: Vec<u64> = inner
            .users
            .get(&user)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();
        let gone = channels
            .into_iter()
            .filter_map(|channel| inner.remove(user, channel).map(|at| (channel, at)))
            .collect();
        inner.unwatch_all(gone);
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
        w.attach(0, tx);
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
        w.attach(0, tx);
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
        w.attach(0, tx);
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
        w.attach(0, tx);
        drop(rx);
        w.join(1, [(9, 5)]);
        let (tx, mut rx) = mpsc::unbounded_channel();
        w.attach(0, tx);
        assert_eq!(commands(&mut rx), vec![watched(&[(9, 5)])]);
    }
}
