//! Routes events to the edges that hold sessions of their recipients: one
//! event per edge, carrying the recipients on that edge.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chat_proto::v1::{EdgeRegistered, Event, event};
use tokio::sync::mpsc;
use tonic::Status;

use crate::error::CoreError;
use crate::store::Id;

/// The stream an edge reads its events from.
pub type EdgeStream = mpsc::Receiver<Result<Event, Status>>;

/// Which users each edge serves, and how to reach each edge.
pub struct Hub {
    state: Mutex<State>,
    capacity: usize,
}

#[derive(Default)]
struct State {
    edges: HashMap<Id, Link>,
    users: HashMap<Id, HashSet<Id>>,
}

/// One edge's open stream.
struct Link {
    tx: mpsc::Sender<Result<Event, Status>>,
    incarnation: u64,
}

impl State {
    fn forget_edge(&mut self, edge: Id) {
        self.edges.remove(&edge);
        self.users.retain(|_, edges| {
            edges.remove(&edge);
            !edges.is_empty()
        });
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

    /// Opens the stream of edge `requested` (0: a fresh id from `assign`),
    /// replacing an earlier stream of the same incarnation. Refuses an id
    /// that a live edge of another incarnation holds. The stream's first
    /// event names the edge's id.
    pub fn subscribe(
        &self,
        requested: Id,
        incarnation: u64,
        assign: impl FnOnce() -> Id,
    ) -> Result<(Id, EdgeStream), CoreError> {
        let (tx, rx) = mpsc::channel(self.capacity);
        let mut state = self.state();
        let edge = match requested {
            0 => assign(),
            id => id,
        };
        if let Some(old) = state.edges.get(&edge)
            && old.incarnation != incarnation
            && !old.tx.is_closed()
        {
            return Err(CoreError::EdgeIdTaken(edge));
        }
        let registered = Event {
            recipients: Vec::new(),
            kind: Some(event::Kind::Registered(EdgeRegistered { edge_id: edge })),
        };
        // The channel is new and empty: this cannot fail for want of room.
        let _ = tx.try_send(Ok(registered));
        state.forget_edge(edge);
        state.edges.insert(edge, Link { tx, incarnation });
        Ok((edge, rx))
    }

    /// Ends every edge's stream (at shutdown); the edges reconnect.
    pub fn end_all(&self) {
        let mut state = self.state();
        state.edges.clear();
        state.users.clear();
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

    /// Sends `kind` to every edge serving one of `recipients`, once per edge.
    /// Never waits: an edge whose stream is full is too slow and loses the
    /// stream (it ends after what it buffered; the edge subscribes again),
    /// so one slow or dead edge never delays writes, acks or other edges.
    pub async fn publish(&self, recipients: &[Id], kind: event::Kind) {
        let mut state = self.state();
        let mut per_edge: HashMap<Id, Vec<Id>> = HashMap::new();
        for user in recipients {
            for edge in state.users.get(user).into_iter().flatten() {
                per_edge.entry(*edge).or_default().push(*user);
            }
        }
        let mut gone = Vec::new();
        for (edge, users) in per_edge {
            let Some(link) = state.edges.get(&edge) else {
                continue;
            };
            let event = Event {
                recipients: users,
                kind: Some(kind.clone()),
            };
            match link.tx.try_send(Ok(event)) {
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
                    tracing::info!(edge, "edge stream closed; forgetting the edge");
                    gone.push(edge);
                }
            }
        }
        for edge in gone {
            state.forget_edge(edge);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_proto::v1::TokenRevoked;

    fn kind() -> event::Kind {
        event::Kind::TokenRevoked(TokenRevoked { token_ids: vec![9] })
    }

    /// Opens edge `id`'s stream and takes its registration event.
    fn open(hub: &Hub, id: Id) -> EdgeStream {
        let (got, mut rx) = hub.subscribe(id, id, || 99).expect("free id");
        assert_eq!(got, id);
        let first = rx.try_recv().expect("registration").expect("ok");
        assert!(matches!(first.kind, Some(event::Kind::Registered(r)) if r.edge_id == id));
        rx
    }

    #[tokio::test]
    async fn a_live_edge_id_is_refused_to_another_edge_but_not_to_a_reconnect() {
        let hub = Hub::new(8);
        let first = open(&hub, 1);
        let err = hub.subscribe(1, 2, || 99).expect_err("another incarnation");
        assert!(matches!(err, CoreError::EdgeIdTaken(1)));
        let (id, _again) = hub
            .subscribe(1, 1, || 99)
            .expect("the same edge reconnects");
        assert_eq!(id, 1);
        drop(first);
        let (assigned, _) = hub.subscribe(0, 7, || 42).expect("assigned");
        assert_eq!(assigned, 42);
    }

    #[test]
    fn an_id_whose_edge_is_gone_can_be_taken() {
        let hub = Hub::new(8);
        drop(open(&hub, 3));
        assert!(hub.subscribe(3, 9, || 99).is_ok());
    }

    #[tokio::test]
    async fn a_full_edge_loses_its_stream_and_nobody_waits_for_it() {
        let hub = Hub::new(2);
        let mut stuck = open(&hub, 1);
        let mut reader = open(&hub, 2);
        hub.update_interest(1, &[10], &[]);
        hub.update_interest(2, &[10], &[]);
        for _ in 0..10 {
            let publish = hub.publish(&[10], kind());
            tokio::time::timeout(std::time::Duration::from_secs(1), publish)
                .await
                .expect("publish never waits for a full edge");
            reader
                .recv()
                .await
                .expect("the reading edge gets it")
                .expect("ok");
        }
        // The stuck edge keeps what it buffered, then its stream ends.
        assert!(stuck.recv().await.is_some());
        assert!(stuck.recv().await.is_some());
        assert!(stuck.recv().await.is_none(), "its stream ended");
        assert!(!hub.state().edges.contains_key(&1));
        assert!(hub.state().edges.contains_key(&2));
    }

    #[tokio::test]
    async fn events_go_once_per_edge_to_interested_users_only() {
        let hub = Hub::new(8);
        let mut a = open(&hub, 1);
        let mut b = open(&hub, 2);
        hub.update_interest(1, &[10, 11], &[]);
        hub.update_interest(2, &[12], &[]);
        hub.publish(&[10, 11, 13], kind()).await;
        let ev = a.recv().await.expect("event").expect("ok");
        let mut got = ev.recipients.clone();
        got.sort_unstable();
        assert_eq!(got, vec![10, 11]);
        assert!(b.try_recv().is_err(), "edge 2 serves none of them");
        assert!(a.try_recv().is_err(), "one event per edge");
    }

    #[tokio::test]
    async fn removed_interest_and_closed_edges_get_nothing() {
        let hub = Hub::new(8);
        let mut a = open(&hub, 1);
        hub.update_interest(1, &[10], &[]);
        hub.update_interest(1, &[], &[10]);
        hub.publish(&[10], kind()).await;
        assert!(a.try_recv().is_err());
        let b = open(&hub, 2);
        hub.update_interest(2, &[10], &[]);
        drop(b);
        hub.publish(&[10], kind()).await;
        assert!(!hub.state().edges.contains_key(&2));
    }
}
