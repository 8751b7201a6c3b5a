//! A node's own registration: an ephemeral sequential znode that lives as
//! long as the node's ZooKeeper session.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::future::OptionFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Client, EventType, SessionState, Stat, StateWatcher};

use crate::error::zk;
use crate::zk::{NAME_PREFIX, connect, ensure_dir, epoch, registration};
use crate::{Error, Load, NodeInfo, NodeKind, ZkConfig};

/// Load is written to ZooKeeper at most this often; updates in between are
/// coalesced into the next write (every write is a ZooKeeper transaction,
/// and a watch event at every watcher).
pub const LOAD_WRITE_INTERVAL: Duration = Duration::from_secs(1);

/// How long [`Registration::close`] waits for ZooKeeper to confirm the close.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Why a registration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostReason {
    /// ZooKeeper expired the session (the node was silent past the timeout).
    Expired,
    /// The node could not reach ZooKeeper for a whole session timeout, so
    /// the server has expired (or is about to expire) the session; the
    /// session is closed here so that it cannot come back.
    Unreachable,
    /// The registration's znode was deleted while the session lived (by an
    /// operator, or by another client).
    Deleted,
    /// The session was closed ([`Registration::close`], or the handle dropped).
    Closed,
    /// ZooKeeper refused the session's credentials.
    AuthFailed,
}

/// The state of a registration, published on a watch channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// The znode exists and the session is connected.
    Registered {
        /// The node id (the znode's sequence number).
        id: u64,
        /// The epoch (the znode's creation zxid).
        epoch: u64,
    },
    /// The connection to ZooKeeper broke. The session, and the znode with
    /// it, lives on at the server until the session timeout while the
    /// client reconnects: this either goes back to `Registered` (same id
    /// and epoch) or on to `Lost`.
    Suspended {
        /// The node id.
        id: u64,
        /// The epoch.
        epoch: u64,
    },
    /// The registration is gone for good: the id and epoch must not be used
    /// again. [`Registration::reregister`] makes a new one.
    Lost {
        /// The node id it had.
        id: u64,
        /// The epoch it had.
        epoch: u64,
        /// Why it ended.
        reason: LostReason,
    },
}

impl RegistrationState {
    /// Whether the registration has ended.
    pub fn is_lost(&self) -> bool {
        matches!(self, RegistrationState::Lost { .. })
    }
}

/// This node's registration under `{chroot}/nodes/{kind}/`. Dropping it (or
/// [`close`](Self::close)) closes the session, which deletes the znode.
#[derive(Debug)]
pub struct Registration {
    config: ZkConfig,
    info: NodeInfo,
    path: String,
    id: u64,
    epoch: u64,
    session_timeout: Duration,
    state: watch::Receiver<RegistrationState>,
    load: watch::Sender<Load>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Registration {
    /// Opens a session, creates the parents if needed and registers `info`
    /// as an ephemeral sequential znode; returns once ZooKeeper created it.
    pub async fn register(config: &ZkConfig, info: NodeInfo) -> Result<Self, Error> {
        let client = connect(config).await?;
        let session_timeout = client.session_timeout();
        let op_timeout = config.session_timeout();
        let dir = config.nodes_path(info.kind);
        bounded("mkdir", op_timeout, ensure_dir(&client, &dir)).await?;
        let prefix = format!("{dir}/{NAME_PREFIX}");
        let data = serde_json::to_vec(&info).map_err(|source| Error::Json {
            path: prefix.clone(),
            source,
        })?;
        // On any error the client is dropped here, which closes the session:
        // a znode created without our hearing of it goes with it.
        let (stat, sequence) = bounded("create", op_timeout, async {
            client
                .create(&prefix, &data, &registration())
                .await
                .map_err(zk("create", &prefix))
        })
        .await?;
        if stat.is_invalid() {
            return Err(Error::Unexpected(format!(
                "create {prefix} returned no stat (server older than 3.5?)"
            )));
        }
        let id = u64::try_from(sequence.into_i64())
            .map_err(|_| Error::Unexpected(format!("negative sequence {sequence} for {prefix}")))?;
        let epoch = epoch(stat.czxid)?;
        let path = format!("{prefix}{sequence}");
        tracing::info!(kind = %info.kind, id, epoch, %path, session_timeout_ms = session_timeout.as_millis() as u64, "registered in ZooKeeper");

        let (state_tx, state) = watch::channel(RegistrationState::Registered { id, epoch });
        let (load, load_rx) = watch::channel(info.load);
        let cancel = CancellationToken::new();
        let states = client.state_watcher();
        let task = tokio::spawn(
            Keeper {
                client,
                states,
                path: path.clone(),
                info: info.clone(),
                id,
                epoch,
                session_timeout,
                state: state_tx,
                load: load_rx,
                cancel: cancel.clone(),
            }
            .run(),
        );
        Ok(Self {
            config: config.clone(),
            info,
            path,
            id,
            epoch,
            session_timeout,
            state,
            load,
            cancel,
            task: Some(task),
        })
    }

    /// The node id: the sequence number ZooKeeper appended to the znode's
    /// name, unique among all registrations of this kind ever made under
    /// the chroot.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The ownership epoch: the znode's creation zxid (see the crate doc).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The kind registered as.
    pub fn kind(&self) -> NodeKind {
        self.info.kind
    }

    /// The registration's znode, e.g. `/chat/nodes/core/n-0000000007`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The session timeout ZooKeeper granted (it may differ from the one asked).
    pub fn session_timeout(&self) -> Duration {
        self.session_timeout
    }

    /// The current state.
    pub fn current(&self) -> RegistrationState {
        *self.state.borrow()
    }

    /// A receiver of every state change.
    pub fn state(&self) -> watch::Receiver<RegistrationState> {
        self.state.clone()
    }

    /// Resolves once the registration is lost, with the `Lost` state.
    pub fn lost(&self) -> impl Future<Output = RegistrationState> + Send + 'static {
        let mut state = self.state.clone();
        let (id, epoch) = (self.id, self.epoch);
        async move {
            match state.wait_for(RegistrationState::is_lost).await {
                Ok(lost) => *lost,
                // The keeper ended without saying Lost: only by a panic.
                Err(_) => RegistrationState::Lost {
                    id,
                    epoch,
                    reason: LostReason::Closed,
                },
            }
        }
    }

    /// Publishes this node's load: written within [`LOAD_WRITE_INTERVAL`],
    /// later values replacing earlier ones not yet written.
    pub fn update_load(&self, load: Load) {
        self.load.send_if_modified(|current| {
            let changed = *current != load;
            *current = load;
            changed
        });
    }

    /// Ends this registration (if it is not lost already) and registers
    /// again with the same info and the latest load: a new session, a new
    /// id and a higher epoch.
    pub async fn reregister(self) -> Result<Registration, Error> {
        let config = self.config.clone();
        let mut info = self.info.clone();
        info.load = *self.load.borrow();
        self.close().await;
        Registration::register(&config, info).await
    }

    /// Closes the session, which deletes the znode at once (when ZooKeeper
    /// is reachable), and waits (briefly) for ZooKeeper to confirm.
    pub async fn close(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            tracing::error!(%err, path = %self.path, "registration keeper failed");
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancel.cancel();
        // The keeper sees the cancellation and drops the client (closing
        // the session) on its own; aborting it would skip that.
    }
}

/// Runs `op` for at most `after`.
async fn bounded<T>(
    op: &'static str,
    after: Duration,
    f: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    timeout(after, f)
        .await
        .map_err(|_| Error::Timeout { op, after })?
}

type Write = Pin<Box<dyn Future<Output = Result<Stat, zookeeper_client::Error>> + Send>>;

/// A watch on the registration's own znode: resolves with the event type
/// that fired it (`NodeDeleted` at once if the znode is already gone).
type OwnWatch = Pin<Box<dyn Future<Output = Result<EventType, zookeeper_client::Error>> + Send>>;

fn watch_own(client: &Client, path: &str) -> OwnWatch {
    let (client, path) = (client.clone(), path.to_owned());
    Box::pin(async move {
        match client.check_and_watch_stat(&path).await? {
            (None, _) => Ok(EventType::NodeDeleted),
            (Some(_), watcher) => Ok(watcher.changed().await.event_type),
        }
    })
}

/// The task that owns the session of a registration.
struct Keeper {
    client: Client,
    states: StateWatcher,
    path: String,
    info: NodeInfo,
    id: u64,
    epoch: u64,
    session_timeout: Duration,
    state: watch::Sender<RegistrationState>,
    load: watch::Receiver<Load>,
    cancel: CancellationToken,
}

impl Keeper {
    /// The znode is gone: by hand (the session lives), or because ZooKeeper
    /// expired the session, whose deletions can reach us before the expiry
    /// itself does. One round trip tells them apart.
    async fn why_deleted(&self) -> LostReason {
        let checked = timeout(self.session_timeout, self.client.check_stat(&self.path)).await;
        match (checked, self.states.peek_state()) {
            (_, SessionState::Expired) | (Ok(Err(zookeeper_client::Error::SessionExpired)), _) => {
                LostReason::Expired
            }
            _ => LostReason::Deleted,
        }
    }

    async fn run(mut self) {
        let (id, epoch) = (self.id, self.epoch);
        let mut disconnected_at = None;
        let mut pending = false;
        let mut last_write: Option<Instant> = None;
        let mut write: Option<Write> = None;
        // So that a deletion of the znode (by hand) ends the registration
        // at once rather than at the next load write.
        let mut own: Option<OwnWatch> = Some(watch_own(&self.client, &self.path));
        // The state may have moved between the create and here.
        let mut next = Some(self.states.state());
        let reason = loop {
            if let Some(session) = next.take() {
                match session {
                    SessionState::SyncConnected | SessionState::ConnectedReadOnly => {
                        if disconnected_at.take().is_some() {
                            tracing::info!(
                                id,
                                epoch,
                                "ZooKeeper connection back; registration kept"
                            );
                        }
                        if own.is_none() {
                            own = Some(watch_own(&self.client, &self.path));
                        }
                        self.state
                            .send_replace(RegistrationState::Registered { id, epoch });
                    }
                    SessionState::Disconnected => {
                        if disconnected_at.is_none() {
                            tracing::warn!(
                                id,
                                epoch,
                                "ZooKeeper connection lost; the session lives until its timeout"
                            );
                            disconnected_at = Some(Instant::now());
                        }
                        self.state
                            .send_replace(RegistrationState::Suspended { id, epoch });
                    }
                    SessionState::Expired => break LostReason::Expired,
                    SessionState::Closed => break LostReason::Closed,
                    SessionState::AuthFailed => break LostReason::AuthFailed,
                }
            }
            let unreachable_at = disconnected_at.map(|at: Instant| at + self.session_timeout);
            let write_at = (pending && write.is_none() && disconnected_at.is_none())
                .then(|| last_write.map_or_else(Instant::now, |at| at + LOAD_WRITE_INTERVAL));
            tokio::select! {
                _ = self.cancel.cancelled() => break LostReason::Closed,
                session = self.states.changed() => next = Some(session),
                _ = sleep_until(unreachable_at.unwrap_or_else(Instant::now)), if unreachable_at.is_some() => {
                    break LostReason::Unreachable;
                }
                changed = self.load.changed(), if !pending => match changed {
                    Ok(()) => pending = true,
                    // The handle is gone; its drop cancels too.
                    Err(_) => break LostReason::Closed,
                },
                _ = sleep_until(write_at.unwrap_or_else(Instant::now)), if write_at.is_some() => {
                    self.info.load = *self.load.borrow_and_update();
                    pending = false;
                    last_write = Some(Instant::now());
                    match serde_json::to_vec(&self.info) {
                        Ok(data) => write = Some(Box::pin(self.client.set_data(&self.path, &data, None))),
                        Err(err) => tracing::error!(%err, "cannot encode node info"),
                    }
                }
                Some(fired) = OptionFuture::from(own.as_mut()), if own.is_some() => {
                    own = None;
                    match fired {
                        Ok(EventType::NodeDeleted) => break self.why_deleted().await,
                        // Our own load writes: watch again.
                        Ok(EventType::NodeDataChanged | EventType::NodeCreated | EventType::NodeChildrenChanged) => {
                            own = Some(watch_own(&self.client, &self.path));
                        }
                        // The session ended (the session state says so
                        // too), or the check failed (a broken connection):
                        // watched again at the next reconnect.
                        Ok(EventType::Session) => {}
                        Err(err) => tracing::debug!(%err, path = %self.path, "watch on own znode failed"),
                    }
                }
                Some(written) = OptionFuture::from(write.as_mut()), if write.is_some() => {
                    write = None;
                    match written {
                        Ok(_) => {}
                        Err(zookeeper_client::Error::NoNode) => break self.why_deleted().await,
                        // Written again after the interval, once connected
                        // (the session state says whether the session lives).
                        Err(err) => {
                            tracing::warn!(%err, path = %self.path, "load not written to ZooKeeper; retrying");
                            pending = true;
                        }
                    }
                }
            }
        };
        match reason {
            LostReason::Closed => tracing::info!(id, epoch, "registration closed"),
            _ => tracing::warn!(id, epoch, ?reason, "registration lost"),
        }
        // Said first: the owner must stop at once, not after the close.
        self.state
            .send_replace(RegistrationState::Lost { id, epoch, reason });
        drop(write);
        drop(own);
        // Closing the session deletes the znode now if the server still has
        // it, rather than at the timeout, and makes the loss final. On
        // close(), wait (briefly) for ZooKeeper to confirm, so the znode is
        // gone when close() returns.
        let mut states = self.states;
        drop(self.client);
        if reason == LostReason::Closed {
            let _ = timeout(CLOSE_WAIT, async {
                while !states.peek_state().is_terminated() {
                    states.changed().await;
                }
            })
            .await;
        }
    }
}
