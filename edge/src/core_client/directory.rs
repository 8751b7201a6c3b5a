//! The cores an edge reaches in a cluster: the live list ZooKeeper gives
//! (`chat_discovery::watch_members`), a gRPC client per core made on first
//! use from the address the core registered, and which core owns a key.
//! Every edge and core computes owners with the same rendezvous hash over
//! the same list, so an edge sends each channel's calls where the core
//! that owns it is (`docs/architecture.md`, "Cluster").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chat_discovery::Members;
use chat_discovery::ownership::owner;
use chat_proto::v1::chat_core_client::ChatCoreClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use super::{CoreLinkConfig, grpc_client};
use crate::error::ApiError;

/// The live cores and a client of each.
pub struct Directory {
    members: watch::Receiver<Members>,
    link: Arc<CoreLinkConfig>,
    /// Node id → (the address the client was made for, the client).
    clients: Mutex<HashMap<u64, (String, ChatCoreClient<Channel>)>>,
}

impl Directory {
    /// A directory following `members` (the live cores), reaching each
    /// with the deadlines, keepalive and TLS of `link` (its `url` unused).
    pub fn new(members: watch::Receiver<Members>, link: CoreLinkConfig) -> Self {
        Self {
            members,
            link: Arc::new(link),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// A receiver of the live list, marked changed at every change.
    pub fn subscribe(&self) -> watch::Receiver<Members> {
        self.members.clone()
    }

    /// The ids of the live cores.
    pub fn ids(&self) -> Vec<u64> {
        self.members.borrow().ids()
    }

    /// The core that owns `key` now, if any is live.
    pub fn owner(&self, key: u64) -> Option<u64> {
        owner(key, &self.ids())
    }

    /// Whether core `node` is live.
    pub fn is_live(&self, node: u64) -> bool {
        self.members.borrow().get(node).is_some()
    }

    /// A client of live core `node`.
    pub fn client(&self, node: u64) -> Option<ChatCoreClient<Channel>> {
        let addr = self
            .members
            .borrow()
            .get(node)?
            .info
            .addr("grpc")?
            .to_owned();
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, client)) = clients.get(&node)
            && *at == addr
        {
            return Some(client.clone());
        }
        match self.connect(&addr) {
            Ok(client) => {
                // Forget the clients of cores that left, as new ones come.
                let live = self.members.borrow().ids();
                clients.retain(|id, _| live.contains(id));
                clients.insert(node, (addr, client.clone()));
                Some(client)
            }
            Err(e) => {
                tracing::error!(node, %addr, error = %e.message, "cannot make a client of a core");
                None
            }
        }
    }

    fn connect(&self, addr: &str) -> Result<ChatCoreClient<Channel>, ApiError> {
        let scheme = if self.link.tls_ca.is_some() {
            "https"
        } else {
            "http"
        };
        let link = CoreLinkConfig {
            url: format!("{scheme}://{addr}"),
            ..(*self.link).clone()
        };
        grpc_client(&link)
    }
}
