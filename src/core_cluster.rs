//! A core node's part in a cluster: its ZooKeeper registration, the live
//! cores it watches, and the [`OwnerView`] that follows both.
//!
//! The node owns nothing unless it is registered and connected: the view
//! drops it as soon as its registration is suspended (ZooKeeper
//! unreachable) or lost, before another node could take its channels
//! over, and storage fences whatever it still tries. A lost registration
//! is made again (a new id, a newer epoch) until it succeeds; the
//! Snowflake node slot stays the one the first registration gave.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chat_core::ids::MAX_NODE_ID;
use chat_core::ownership::{ClusterOwnership, OwnerView};
use chat_discovery::{
    MemberWatch, Members, NodeInfo, Registration, RegistrationState, ZkConfig, watch_members,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Registrations tried for a node slot no live core uses.
const SLOT_ATTEMPTS: usize = 8;
/// The longest pause between two registration attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A registered core node and the task that keeps its view current.
pub struct CoreMembership {
    /// The view the write path reads.
    pub ownership: Arc<ClusterOwnership>,
    /// The node id ZooKeeper gave the first registration.
    pub id: u64,
    /// The Snowflake node slot of this process (the id modulo 1024, unique
    /// among the live cores when it registered).
    pub slot: u16,
    /// Changes whenever the view does.
    pub changed: watch::Receiver<Arc<OwnerView>>,
    stop: CancellationToken,
    tracker: TaskTracker,
    registration: Arc<tokio::sync::Mutex<Option<Registration>>>,
}

/// The Snowflake slot of node `id`.
pub fn slot_of(id: u64) -> u16 {
    (id % (u64::from(MAX_NODE_ID) + 1)) as u16
}

impl CoreMembership {
    /// Registers `info` and starts following the cores: returns once the
    /// node is registered in a slot no other live core has.
    pub async fn join(zk: &ZkConfig, info: NodeInfo) -> anyhow::Result<Self> {
        let members = watch_members(zk, chat_discovery::NodeKind::Core)
            .await
            .context("reading the live cores from ZooKeeper")?;
        let mut registration = None;
        for _ in 0..SLOT_ATTEMPTS {
            let r = Registration::register(zk, info.clone())
                .await
                .context("registering in ZooKeeper")?;
            let live = members.current();
            let clash = live
                .nodes
                .iter()
                .any(|m| m.id != r.id() && slot_of(m.id) == slot_of(r.id()));
            if !clash {
                registration = Some(r);
                break;
            }
            tracing::warn!(
                id = r.id(),
                "node slot taken by a live core; registering again"
            );
            r.close().await;
        }
        let registration = registration.context("no free node slot after several registrations")?;
        let id = registration.id();
        let ownership = Arc::new(ClusterOwnership::new());
        let (tx, changed) = watch::channel(ownership.view());
        let membership = Self {
            ownership: ownership.clone(),
            id,
            slot: slot_of(id),
            changed,
            stop: CancellationToken::new(),
            tracker: TaskTracker::new(),
            registration: Arc::new(tokio::sync::Mutex::new(Some(registration))),
        };
        let follow = Follow {
            zk: zk.clone(),
            info,
            ownership,
            tx,
            registration: membership.registration.clone(),
        };
        membership
            .tracker
            .spawn(follow.run(members, membership.stop.clone()));
        membership.tracker.close();
        Ok(membership)
    }

    /// Publishes this node's load in its registration (skipped while it
    /// registers again).
    pub fn update_load(&self, load: chat_discovery::Load) {
        if let Ok(registration) = self.registration.try_lock()
            && let Some(registration) = registration.as_ref()
        {
            registration.update_load(load);
        }
    }

    /// Ends the registration (the others take this node's channels over at
    /// once) and stops following.
    pub async fn leave(self) {
        self.stop.cancel();
        self.tracker.wait().await;
        if let Some(registration) = self.registration.lock().await.take() {
            registration.close().await;
        }
    }
}

struct Follow {
    zk: ZkConfig,
    info: NodeInfo,
    ownership: Arc<ClusterOwnership>,
    tx: watch::Sender<Arc<OwnerView>>,
    registration: Arc<tokio::sync::Mutex<Option<Registration>>>,
}

impl Follow {
    async fn run(self, members: MemberWatch, stop: CancellationToken) {
        let mut lists = members.subscribe();
        let mut backoff = Duration::from_millis(100);
        loop {
            let Some(mut state) = self.state().await else {
                return;
            };
            self.publish(*state.borrow_and_update(), &lists.borrow_and_update());
            loop {
                tokio::select! {
                    _ = stop.cancelled() => {
                        members.shutdown().await;
                        return;
                    }
                    changed = lists.changed() => {
                        if changed.is_err() {
                            tracing::error!("core membership watch ended");
                            return;
                        }
                    }
                    changed = state.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
                let now = *state.borrow_and_update();
                self.publish(now, &lists.borrow_and_update());
                if now.is_lost() {
                    break;
                }
            }
            // Lost: register again until it works.
            loop {
                let old = self.registration.lock().await.take();
                let again = match old {
                    Some(old) => old.reregister().await,
                    None => Registration::register(&self.zk, self.info.clone()).await,
                };
                match again {
                    Ok(r) => {
                        tracing::info!(id = r.id(), epoch = r.epoch(), "registered again");
                        *self.registration.lock().await = Some(r);
                        backoff = Duration::from_millis(100);
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "registering again failed; retrying");
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    }

    async fn state(&self) -> Option<watch::Receiver<RegistrationState>> {
        self.registration.lock().await.as_ref().map(|r| r.state())
    }

    /// Sets the view for registration state `state` and list `members`.
    fn publish(&self, state: RegistrationState, members: &Members) {
        let me = match state {
            RegistrationState::Registered { id, .. } => Some(id),
            _ => None,
        };
        let view = OwnerView {
            me,
            version: members.version,
            cores: members.ids(),
        };
        if self.ownership.set(view.clone()) {
            tracing::info!(
                me = ?view.me,
                version = view.version,
                cores = ?view.cores,
                "ownership view changed"
            );
            metrics::counter!("chat_core_ownership_changes_total").increment(1);
            let _ = self.tx.send(Arc::new(view));
        }
    }
}
