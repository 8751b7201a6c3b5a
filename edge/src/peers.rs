//! The live edges, as discovery offers them to clients: ranked for a
//! region by whether they are in it and how busy they are. In a cluster the
//! list comes from ZooKeeper (each edge registers its region, WebSocket URL
//! and load); alone, an edge offers itself.

use chat_discovery::{Load, Members};
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

/// The address purpose under which an edge registers its WebSocket URL.
pub const WS_ADDR: &str = "ws";

/// One edge a client may connect to.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EdgeOffer {
    /// The edge's node id in ZooKeeper (0 for an edge alone).
    #[serde(with = "crate::wire::id_str")]
    #[schema(value_type = crate::wire::Id)]
    pub id: u64,
    /// Its region.
    #[schema(example = "eu-west")]
    pub region: String,
    /// Where to open the WebSocket.
    #[schema(example = "wss://eu1.chat.example/ws")]
    pub websocket_url: String,
    /// Connections it holds.
    pub connections: u64,
    /// The most it takes (0: no bound).
    pub capacity: u64,
    /// Its CPU use, in percent of one core.
    pub cpu_percent: f32,
}

impl EdgeOffer {
    fn load(&self) -> Load {
        Load {
            connections: self.connections,
            cpu_percent: self.cpu_percent,
            capacity: self.capacity,
        }
    }
}

/// This edge as discovery shows it.
#[derive(Debug, Clone)]
pub struct Me {
    /// Its node id (0 when not registered).
    pub id: u64,
    /// Its region.
    pub region: String,
    /// Its WebSocket URL.
    pub websocket_url: String,
}

/// Where the list of live edges comes from.
#[derive(Debug, Clone)]
pub struct Peers {
    me: Me,
    members: Option<watch::Receiver<Members>>,
}

impl Peers {
    /// An edge alone: it offers only itself.
    pub fn alone(me: Me) -> Self {
        Self { me, members: None }
    }

    /// An edge of a cluster: the live edges ZooKeeper lists.
    pub fn cluster(me: Me, members: watch::Receiver<Members>) -> Self {
        Self {
            me,
            members: Some(members),
        }
    }

    /// This edge's region.
    pub fn region(&self) -> &str {
        &self.me.region
    }

    /// This edge's node id (0 when alone).
    pub fn id(&self) -> u64 {
        self.me.id
    }

    /// The edges that take connections, best first for `region` (see
    /// [`rank`]); this edge's own entry carries `own` load, which is newer
    /// than what it last published.
    pub fn offer(&self, region: &str, own: Load) -> Vec<EdgeOffer> {
        let mine = EdgeOffer {
            id: self.me.id,
            region: self.me.region.clone(),
            websocket_url: self.me.websocket_url.clone(),
            connections: own.connections,
            capacity: own.capacity,
            cpu_percent: own.cpu_percent,
        };
        let mut all = vec![mine];
        if let Some(members) = &self.members {
            let members = members.borrow();
            all.extend(
                members
                    .nodes
                    .iter()
                    .filter(|m| m.id != self.me.id)
                    .filter_map(|m| {
                        Some(EdgeOffer {
                            id: m.id,
                            region: m.info.region.clone(),
                            websocket_url: m.info.addr(WS_ADDR)?.to_owned(),
                            connections: m.info.load.connections,
                            capacity: m.info.load.capacity,
                            cpu_percent: m.info.load.cpu_percent,
                        })
                    }),
            );
        }
        rank(all, region)
    }
}

/// Leaves out full edges and orders the rest: those in `region` first,
/// then the less loaded (the share of capacity used, else connections),
/// then the less busy CPU; ties by id.
pub fn rank(mut edges: Vec<EdgeOffer>, region: &str) -> Vec<EdgeOffer> {
    edges.retain(|e| !e.load().is_full());
    edges.sort_by(|a, b| {
        let away = |e: &EdgeOffer| e.region != region;
        away(a)
            .cmp(&away(b))
            .then(used(a).total_cmp(&used(b)))
            .then(a.cpu_percent.total_cmp(&b.cpu_percent))
            .then(a.id.cmp(&b.id))
    });
    edges
}

/// How much of its room an edge uses: a share of its capacity, or its
/// connections where it has no bound.
fn used(e: &EdgeOffer) -> f64 {
    if e.capacity > 0 {
        e.connections as f64 / e.capacity as f64
    } else {
        e.connections as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(id: u64, region: &str, connections: u64, capacity: u64) -> EdgeOffer {
        EdgeOffer {
            id,
            region: region.to_owned(),
            websocket_url: format!("ws://e{id}/ws"),
            connections,
            capacity,
            cpu_percent: 0.0,
        }
    }

    fn ids(edges: &[EdgeOffer]) -> Vec<u64> {
        edges.iter().map(|e| e.id).collect()
    }

    #[test]
    fn the_region_comes_first_then_the_least_loaded_and_full_edges_not_at_all() {
        let all = vec![
            edge(1, "a", 10, 100),
            edge(2, "b", 90, 100),
            edge(3, "a", 5, 100),
            edge(4, "b", 100, 100),
            edge(5, "b", 20, 100),
        ];
        assert_eq!(ids(&rank(all.clone(), "b")), vec![5, 2, 3, 1]);
        assert_eq!(ids(&rank(all.clone(), "a")), vec![3, 1, 5, 2]);
        assert_eq!(
            ids(&rank(all, "nowhere")),
            vec![3, 1, 5, 2],
            "by load alone"
        );
    }

    #[test]
    fn an_edge_alone_offers_itself_with_its_own_load() {
        let me = Me {
            id: 0,
            region: "local".into(),
            websocket_url: "ws://127.0.0.1:8080/ws".into(),
        };
        let peers = Peers::alone(me);
        let load = Load {
            connections: 3,
            cpu_percent: 1.5,
            capacity: 10,
        };
        let offer = peers.offer("eu", load);
        assert_eq!(offer.len(), 1);
        assert_eq!((offer[0].connections, offer[0].capacity), (3, 10));
        let full = Load {
            connections: 10,
            ..load
        };
        assert!(peers.offer("eu", full).is_empty(), "full: none to offer");
    }
}
