//! Which core node writes which channel. The write path asks
//! [`Ownership::fence`] for every channel it writes: the answer is the
//! [`Fence`] to write with, or [`NotOwner`] naming the node this one
//! believes owns the channel, so the caller can retry there. Storage checks
//! the fence again in the write's own transaction (see [`Fence`]), so an
//! answer that is out of date can delay a write but never let two owners
//! commit.
//!
//! A core alone ([`SoleOwner`]) owns every channel for good. In a cluster
//! ([`ClusterOwnership`]) each core owns its share by rendezvous hashing of
//! the channel id over the live cores that ZooKeeper lists, with the
//! version of that list as the epoch.

mod cluster;

pub use cluster::{ClusterOwnership, OwnerView};

use crate::store::{Fence, Id};

/// A channel this node does not own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotOwner {
    /// The channel asked for.
    pub channel: Id,
    /// The node believed to own it; `None` when no core is known to be live.
    pub owner: Option<u64>,
}

/// Who writes which channel, as this node sees it now.
pub trait Ownership: Send + Sync + 'static {
    /// The fence to write `channel` with, if this node owns it.
    fn fence(&self, channel: Id) -> Result<Fence, NotOwner>;

    /// Whether other nodes write too: then a channel is claimed before it
    /// is read for a watch, and caches hold only what this node owns.
    fn shared(&self) -> bool;
}

/// One core that owns every channel, for good (epoch 0).
#[derive(Debug, Clone, Copy)]
pub struct SoleOwner {
    fence: Fence,
}

impl SoleOwner {
    /// Node `node` owns everything.
    pub fn new(node: u16) -> Self {
        Self {
            fence: Fence::single_node(node),
        }
    }
}

impl Ownership for SoleOwner {
    fn fence(&self, _channel: Id) -> Result<Fence, NotOwner> {
        Ok(self.fence)
    }

    fn shared(&self) -> bool {
        false
    }
}
