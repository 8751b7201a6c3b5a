//! Ownership in a cluster: the channels rendezvous hashing gives this node
//! among the live cores of one membership version.
//!
//! The view is set from outside (the node's ZooKeeper follower) and read on
//! every write. A node owns nothing while it is not registered, and while
//! the list it holds does not include itself: a node cut off from
//! ZooKeeper is set a view without itself at once, before its session
//! could expire and another node take its channels over.

use std::sync::{Arc, RwLock};

use chat_discovery::ownership;

use super::{NotOwner, Ownership};
use crate::store::{Fence, Id};

/// One version of the live cores, as this node sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerView {
    /// This node's id, `None` while it is not (or no longer) registered.
    pub me: Option<u64>,
    /// The version of the list ([`chat_discovery::Members::version`]).
    pub version: u64,
    /// The live cores' ids.
    pub cores: Vec<u64>,
}

impl OwnerView {
    /// The owner of `key` (a channel or user id) in this view.
    pub fn owner(&self, key: u64) -> Option<u64> {
        ownership::owner(key, &self.cores)
    }

    /// Whether this node owns `key` in this view.
    pub fn owns(&self, key: u64) -> bool {
        self.me.is_some() && self.owner(key) == self.me
    }
}

/// The current view, shared by the write path and the calls.
#[derive(Debug, Default)]
pub struct ClusterOwnership {
    view: RwLock<Arc<OwnerView>>,
}

impl ClusterOwnership {
    /// Owning nothing until the first view.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the view; true if it changed.
    pub fn set(&self, view: OwnerView) -> bool {
        let mut current = self.view.write().unwrap_or_else(|p| p.into_inner());
        if **current == view {
            return false;
        }
        *current = Arc::new(view);
        true
    }

    /// The view now.
    pub fn view(&self) -> Arc<OwnerView> {
        self.view.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Ownership for ClusterOwnership {
    fn fence(&self, channel: Id) -> Result<Fence, NotOwner> {
        let view = self.view();
        match view.me {
            Some(me) if view.owner(channel) == Some(me) => Ok(Fence {
                owner: me,
                epoch: view.version,
            }),
            _ => Err(NotOwner {
                channel,
                owner: view.owner(channel),
            }),
        }
    }

    fn shared(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_owns_its_share_only_while_it_is_in_the_view() {
        let ownership = ClusterOwnership::new();
        assert_eq!(
            ownership.fence(5),
            Err(NotOwner {
                channel: 5,
                owner: None
            }),
            "nothing before the first view"
        );
        let cores = vec![1, 2, 3];
        ownership.set(OwnerView {
            me: Some(2),
            version: 40,
            cores: cores.clone(),
        });
        let mine: Vec<u64> = (0..300).filter(|c| ownership.fence(*c).is_ok()).collect();
        assert!(
            (60..140).contains(&mine.len()),
            "about a third: {}",
            mine.len()
        );
        for channel in 0..300u64 {
            let owner = ownership::owner(channel, &cores);
            match ownership.fence(channel) {
                Ok(fence) => {
                    assert_eq!(owner, Some(2));
                    assert_eq!(
                        fence,
                        Fence {
                            owner: 2,
                            epoch: 40
                        }
                    );
                }
                Err(not) => assert_eq!(not.owner, owner),
            }
        }
        // Cut off: no longer registered, it owns nothing, and says who does.
        assert!(ownership.set(OwnerView {
            me: None,
            version: 40,
            cores: cores.clone(),
        }));
        let channel = mine[0];
        assert_eq!(
            ownership.fence(channel),
            Err(NotOwner {
                channel,
                owner: Some(2)
            })
        );
        assert!(
            !ownership.set(ownership.view().as_ref().clone()),
            "no change"
        );
    }
}
