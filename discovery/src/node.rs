//! What a node publishes about itself, and the list of live nodes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The two kinds of registered nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A core node (channel owner, storage writer).
    Core,
    /// An edge node (client connections).
    Edge,
}

impl NodeKind {
    /// The kind as it appears in znode paths and JSON: `core` or `edge`.
    pub const fn as_str(self) -> &'static str {
        match self {
            NodeKind::Core => "core",
            NodeKind::Edge => "edge",
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for NodeKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "core" => Ok(NodeKind::Core),
            "edge" => Ok(NodeKind::Edge),
            other => Err(crate::Error::Config(format!(
                "node kind {other:?} is neither core nor edge"
            ))),
        }
    }
}

/// How busy a node is, for ranking edges (and, later, cores).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Load {
    /// Open client connections (edges) or edge streams (cores).
    pub connections: u64,
    /// CPU use of the process, in percent of one core (may exceed 100).
    pub cpu_percent: f32,
    /// The most connections the node takes; 0 when it sets no bound. A
    /// node at its bound is full: discovery sends clients elsewhere.
    pub capacity: u64,
}

impl Load {
    /// Whether the node takes no more connections.
    pub fn is_full(&self) -> bool {
        self.capacity > 0 && self.connections >= self.capacity
    }
}

/// The data of a registration znode (JSON). Unknown fields are ignored and
/// missing ones default, so nodes of neighbouring releases read each other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Core or edge; the same as the directory the znode is in.
    pub kind: NodeKind,
    /// The node's region, e.g. `eu-west`; empty when not set.
    #[serde(default)]
    pub region: String,
    /// Where the node listens, by purpose: `grpc`, `http`, `admin`, …
    /// (`host:port`), so each kind publishes what it serves.
    #[serde(default)]
    pub addrs: BTreeMap<String, String>,
    /// The load last published ([`crate::Registration::update_load`]).
    #[serde(default)]
    pub load: Load,
}

impl NodeInfo {
    /// A node of `kind` in `region` with no addresses and no load yet.
    pub fn new(kind: NodeKind, region: impl Into<String>) -> Self {
        Self {
            kind,
            region: region.into(),
            addrs: BTreeMap::new(),
            load: Load::default(),
        }
    }

    /// Adds the address the node serves `purpose` on (builder style).
    pub fn with_addr(mut self, purpose: impl Into<String>, addr: impl Into<String>) -> Self {
        self.addrs.insert(purpose.into(), addr.into());
        self
    }

    /// The address for `purpose`, if published.
    pub fn addr(&self, purpose: &str) -> Option<&str> {
        self.addrs.get(purpose).map(String::as_str)
    }
}

/// One live node as the membership watch sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Member {
    /// The node id: the sequence number ZooKeeper gave its znode.
    pub id: u64,
    /// Its ownership epoch: the creation zxid of its znode.
    pub epoch: u64,
    /// What it published.
    pub info: NodeInfo,
}

/// The live nodes of one kind, sorted by id, as of one version of the list.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Members {
    /// The version of the list: the zxid of the last registration made or
    /// ended among nodes of this kind (the kind directory's `pzxid`), 0
    /// before anything was read. Two readers that hold the same version
    /// hold the same set of ids, and a later set has a larger version, so
    /// it can serve as an ownership epoch (see the crate doc).
    pub version: u64,
    /// The nodes, sorted by id, each once.
    pub nodes: Vec<Member>,
}

impl Members {
    /// The ids, in order.
    pub fn ids(&self) -> Vec<u64> {
        self.nodes.iter().map(|m| m.id).collect()
    }

    /// The member with this id.
    pub fn get(&self, id: u64) -> Option<&Member> {
        self.nodes
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.nodes[i])
    }

    /// How many nodes are live.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is live.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The owner of `key` among these nodes ([`crate::ownership::owner`]).
    pub fn owner(&self, key: u64) -> Option<&Member> {
        crate::ownership::owner(key, &self.ids()).and_then(|id| self.get(id))
    }
}
