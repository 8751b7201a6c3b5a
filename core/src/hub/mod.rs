//! Routes events to edges, once per edge: a channel's events (messages,
//! their changes, typing) to the edges watching the channel, with all its
//! recipients; a user's events to the edges serving the user, with the
//! recipients on that edge; a change of metadata edges cache to every
//! edge, detached ones too (kept for their resume).
//!
//! A stream that ends (the edge went away, or was too slow and its queue
//! filled) leaves its edge detached for a while: the users it served stay
//! routed to it and their events are numbered and kept in its [`Ring`], so
//! the edge's next stream resumes them from the last one it received. Its
//! channel watches end with the stream; the edge watches again with its
//! cursors and the channels replay from storage.

mod ring;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chat_proto::v1::{EdgeRegistered, Event, event};
use tokio::sync::mpsc;
use tonic::Status;

use crate::error::CoreError;
use crate::replay::channel_of;
use crate::store::Id;
pub use ring::Ring;

/// The stream an edge reads its events from.
pub type EdgeStream = mpsc::Receiver<Result<Event, Status>>;

/// User events kept per edge for resuming its stream.
pub const RING_EVENTS: usize = 8192;
/// How long a detached edge's users stay routed to it.
pub const DETACHED_GRACE: Duration = Duration::from_secs(300);

/// Which users each edge serves, which channels it watches, and how to
/// reach each edge.
pub struct Hub {
    state: Mutex<State>,
    capacity: usize,
}

#[derive(Default)]
struct State {
    edges: HashMap<Id, Link>,
    users: HashMap<Id, HashSet<Id>>,
    channels: HashMap<Id, HashSet<Id>>,
    /// Numbers streams, so a replaced stream's late commands do nothing.
    streams: u64,
}

/// One edge: its open stream, if any, and its recent user events.
struct Link {
    incarnation: u64,
    stream: u64,
    tx: Option<mpsc::Sender<Result<Event, Status>>>,
    detached_at: Option<Instant>,
    ring: Ring,
}

impl Link {
    fn is_live(&self) -> bool {
        self.tx.as_ref().is_some_and(|tx| !tx.is_closed())
    }
}

/// An edge's stream as the hub knows it: which edge, which stream of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamId {
    /// The edge's id.
    pub edge: Id,
    /// This stream of it, unique in this process.
    pub stream: u64,
}

/// What an edge asks for when it opens a stream.
#[derive(Debug, Clone, Copy)]
pub struct Hello {
    /// The id it wants, 0 for a fresh one.
    pub edge_id: Id,
    /// Its process's random number.
    pub incarnation: u64,
    /// Whether it had a stream before and resumes it.
    pub resume: bool,
    /// The last user event's number it received.
    pub after_seq: u64,
}

impl State {
    fn forget_edge(&mut self, edge: Id) {
        self.edges.remove(&edge);
        self.unroute(edge, true);
    }

    /// Ends the routes to `edge`: its watches, and with `users` its users.
    fn unroute(&mut self, edge: Id, users: bool) {
        let mut maps = vec![&mut self.channels];
        if users {
            maps.push(&mut self.users);
        }
        for map in maps {
            map.retain(|_, edges| {
                edges.remove(&edge);
                !edges.is_empty()
            });
        }
    }

    /// Keeps `edge` routed but without a stream; its watches end.
    fn detach(&mut self, edge: Id) {
        if let Some(link) = self.edges.get_mut(&edge) {
            link.tx = None;
            link.detached_at.get_or_insert_with(Instant::now);
        }
        self.unroute(edge, false);
    }

    fn is_current(&self, id: StreamId) -> bool {
        self.edges
            .get(&id.edge)
            .is_some_and(|link| link.stream == id.stream && link.tx.is_some())
    }

    /// Forgets edges detached for longer than the grace period.
    fn prune(&mut self, now: Instant) {
        let expired: Vec<Id> = self
            .edges
            .iter()
            .filter(|(_, l)| l.detached_at.is_some_and(|at| now - at > DETACHED_GRACE))
            .map(|(id, _)| *id)
            .collect();
        for edge in expired {
            tracing::info!(edge, "detached edge forgotten");
            self.forget_edge(edge);
        }
    }
}

impl Hub {
    /// A hub whose per-edge streams buffer up to `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            capacity,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a stream for the edge of `hello` (edge id 0: a fresh id from
    /// `assign`), replacing an earlier stream of the same incarnation.
    /// Refuses an id that a live edge of another incarnation holds. The
    /// stream's first event names the edge's id and says whether it
    /// resumed; the user events it missed follow.
    pub fn subscribe(
        &self,
        hello: Hello,
        assign: impl FnOnce() -> Id,
    ) -> Result<(StreamId, EdgeStream), CoreError> {
        let (tx, rx) = mpsc::channel(self.capacity);
        let mut state = self.state();
        state.prune(Instant::now());
        let edge = match hello.edge_id {
            0 => assign(),
            id => id,
        };
        if let Some(old) = state.edges.get(&edge)
            && old.incarnation != hello.incarnation
        {
            if old.is_live() {
                return Err(CoreError::EdgeIdTaken(edge));
            }
            state.forget_edge(edge);
        }
        state.streams += 1;
        let stream = state.streams;
        // The old stream's watches end; the edge watches again with cursors.
        state.unroute(edge, false);
        let (resumed, missed) = match state.edges.get_mut(&edge) {
            Some(link) => {
                link.stream = stream;
                link.tx = Some(tx.clone());
                link.detached_at = None;
                match hello.resume.then(|| link.ring.since(hello.after_seq)) {
                    None => (true, Vec::new()),
                    Some(Some(missed)) if missed.len() < self.capacity => (true, missed),
                    Some(_) => (false, Vec::new()),
                }
            }
            None => {
                state.edges.insert(
                    edge,
                    Link {
                        incarnation: hello.incarnation,
                        stream,
                        tx: Some(tx.clone()),
                        detached_at: None,
                        ring: Ring::new(RING_EVENTS),
                    },
                );
                // A stream this process never had cannot be resumed.
                (!hello.resume, Vec::new())
            }
        };
        if !resumed {
            metrics::counter!("chat_hub_unresumable_streams_total").increment(1);
        }
        let registered = Event {
            kind: Some(event::Kind::Registered(EdgeRegistered {
                edge_id: edge,
                resumed,
            })),
            ..Event::default()
        };
        // The channel is new and holds more than a ring: these cannot fail.
        for event in std::iter::once(registered).chain(missed) {
            let _ = tx.try_send(Ok(event));
        }
        Ok((StreamId { edge, stream }, rx))
    }

    /// Sends `stream` the events of `channels` from now on, if it is still
    /// its edge's stream.
    pub fn watch(&self, stream: StreamId, channels: &[Id]) {
        let mut state = self.state();
        if !state.is_current(stream) {
            return;
        }
        for channel in channels {
            state
                .channels
                .entry(*channel)
                .or_default()
                .insert(stream.edge);
        }
    }

    /// Stops sending `stream` the events of `channels`.
    pub fn unwatch(&self, stream: StreamId, channels: &[Id]) {
        let mut state = self.state();
        if !state.is_current(stream) {
            return;
        }
        for channel in channels {
            if let Some(edges) = state.channels.get_mut(channel) {
                edges.remove(&stream.edge);
                if edges.is_empty() {
                    state.channels.remove(channel);
                }
            }
        }
    }

    /// Detaches `stream`'s edge if that is still its stream (it ended).
    pub fn close(&self, stream: StreamId) {
        let mut state = self.state();
        if state.is_current(stream) {
            state.detach(stream.edge);
        }
    }

    /// How many edges have a live stream.
    pub fn live_edges(&self) -> usize {
        self.state().edges.values().filter(|l| l.is_live()).count()
    }

    /// Ends every edge's stream (at shutdown); the edges reconnect.
    pub fn end_all(&self) {
        let mut state = self.state();
        state.edges.clear();
        state.users.clear();
        state.channels.clear();
    }

    /// Those of `users` no edge with a live stream serves: they have no
    /// session anywhere (every edge announces its users to every core), so
    /// they get push notifications. An edge whose stream broke a moment ago
    /// counts as gone: a notification too many beats one missed.
    pub fn unserved(&self, users: &[Id]) -> Vec<Id> {
        let state = self.state();
        users
            .iter()
            .copied()
            .filter(|user| {
                !state.users.get(user).is_some_and(|edges| {
                    edges
                        .iter()
                        .any(|edge| state.edges.get(edge).is_some_and(Link::is_live))
                })
            })
            .collect()
    }

    /// Records that `edge` now serves `add` and no longer serves `remove`.
    pub fn update_interest(&self, edge: Id, add: &[Id], remove: &[Id]) {
        let mut state = self.state();
        for user in remove {
            if let Some(edges) = state.users.get_mut(user) {
                edges.remove(&edge);
                if edges.is_empty() {
                    state.users.remove(user);
                }
            }
        }
        for user in add {
            state.users.entry(*user).or_default().insert(edge);
        }
    }

    /// Sends `kind` for `recipients` once to each edge that should have it:
    /// a channel's event to the edges watching the channel, a user's event
    /// to the edges serving one of `recipients`, numbered and kept for a
    /// resume; a change of cached metadata to every edge, numbered too. Never waits: an edge whose stream is full is too slow and
    /// loses the stream (it ends after what it buffered; the edge subscribes
    /// again and resumes), so one slow or dead edge never delays writes,
    /// acks or other edges.
    pub async fn publish(&self, recipients: &[Id], kind: event::Kind) {
        let mut state = self.state();
        let channel = channel_of(&kind);
        let mut per_edge: HashMap<Id, Vec<Id>> = HashMap::new();
        if matches!(kind, event::Kind::Metadata(_)) {
            // What edges cache is not tied to the users they serve.
            for edge in state.edges.keys() {
                per_edge.insert(*edge, Vec::new());
            }
        } else if let Some(channel) = channel {
            for edge in state.channels.get(&channel).into_iter().flatten() {
                per_edge.insert(*edge, recipients.to_vec());
            }
        } else {
            for user in recipients {
                for edge in state.users.get(user).into_iter().flatten() {
                    per_edge.entry(*edge).or_default().push(*user);
                }
            }
        }
        let mut gone = Vec::new();
        for (edge, users) in per_edge {
            let Some(link) = state.edges.get_mut(&edge) else {
                continue;
            };
            let mut event = Event {
                recipients: users,
                kind: Some(kind.clone()),
                seq: 0,
            };
            if channel.is_none() {
                event = link.ring.push(event);
            }
            let Some(tx) = &link.tx else { continue };
            match tx.try_send(Ok(event)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(
                        edge,
                        capacity = self.capacity,
                        "edge too slow; ending its stream"
                    );
                    metrics::counter!("chat_hub_slow_edges_total").increment(1);
                    gone.push(edge);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    tracing::info!(edge, "edge stream closed; detaching the edge");
                    gone.push(edge);
                }
            }
        }
        for edge in gone {
            state.detach(edge);
        }
    }
}

#[cfg(test)]
mod tests;
