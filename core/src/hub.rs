//! Routes events to the edges that hold sessions of their recipients: one
//! event per edge, carrying the recipients on that edge.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chat_proto::v1::{Event, event};
use tokio::sync::mpsc;
use tonic::Status;

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
    edges: HashMap<Id, mpsc::Sender<Result<Event, Status>>>,
    users: HashMap<Id, HashSet<Id>>,
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

    /// Opens the stream for `edge`, replacing (and ending) an earlier one.
    pub fn subscribe(&self, edge: Id) -> EdgeStream {
        let (tx, rx) = mpsc::channel(self.capacity);
        let mut state = self.state();
        state.forget_edge(edge);
        state.edges.insert(edge, tx);
        rx
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
    /// Waits while an edge's stream is full, so events stay in order.
    pub async fn publish(&self, recipients: &[Id], kind: event::Kind) {
        let targets: Vec<_> = {
            let state = self.state();
            let mut per_edge: HashMap<Id, Vec<Id>> = HashMap::new();
            for user in recipients {
                for edge in state.users.get(user).into_iter().flatten() {
                    per_edge.entry(*edge).or_default().push(*user);
                }
            }
            per_edge
                .into_iter()
                .filter_map(|(edge, users)| {
                    state.edges.get(&edge).map(|tx| (edge, tx.clone(), users))
                })
                .collect()
        };
        for (edge, tx, users) in targets {
            let event = Event {
                recipients: users,
                kind: Some(kind.clone()),
            };
            if tx.send(Ok(event)).await.is_err() {
                tracing::info!(edge, "edge stream closed; forgetting the edge");
                let mut state = self.state();
                if state
                    .edges
                    .get(&edge)
                    .is_some_and(|cur| cur.same_channel(&tx))
                {
                    state.forget_edge(edge);
                }
            }
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

    #[tokio::test]
    async fn events_go_once_per_edge_to_interested_users_only() {
        let hub = Hub::new(8);
        let mut a = hub.subscribe(1);
        let mut b = hub.subscribe(2);
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
        let mut a = hub.subscribe(1);
        hub.update_interest(1, &[10], &[]);
        hub.update_interest(1, &[], &[10]);
        hub.publish(&[10], kind()).await;
        assert!(a.try_recv().is_err());
        let b = hub.subscribe(2);
        hub.update_interest(2, &[10], &[]);
        drop(b);
        hub.publish(&[10], kind()).await;
        assert!(!hub.state().edges.contains_key(&2));
    }
}
