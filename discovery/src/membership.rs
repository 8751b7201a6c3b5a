//! The live nodes of one kind, kept current from ZooKeeper watches.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Client, EventType, OneshotWatcher, SessionState, WatchedEvent};

use crate::error::zk;
use crate::zk::{connect, ensure_dir, epoch, parse_id};
use crate::{Error, Member, Members, NodeInfo, NodeKind, ZkConfig};

/// The longest pause between two attempts to reach ZooKeeper again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The first pause.
const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// Starts watching the live nodes of `kind`: returns once the first list
/// was read (so the receiver starts with a real list), and keeps it current
/// in a task until [`MemberWatch::shutdown`] or drop.
pub async fn watch_members(config: &ZkConfig, kind: NodeKind) -> Result<MemberWatch, Error> {
    let client = connect(config).await?;
    let follower = Follower {
        dir: config.nodes_path(kind),
        kind,
        config: config.clone(),
    };
    let mut view = View::default();
    timeout(
        config.session_timeout(),
        follower.read_all(&client, &mut view),
    )
    .await
    .map_err(|_| Error::Timeout {
        op: "reading the member list",
        after: config.session_timeout(),
    })??;
    let (tx, members) = watch::channel(view.members());
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = follower.run(client, view, &tx) => {}
        }
    });
    Ok(MemberWatch {
        members,
        cancel,
        task: Some(task),
    })
}

/// A running membership watch. Dropping it stops the task (and closes its
/// ZooKeeper session); receivers keep the last list.
#[derive(Debug)]
pub struct MemberWatch {
    members: watch::Receiver<Members>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl MemberWatch {
    /// A receiver of the list, marked changed at every change.
    pub fn subscribe(&self) -> watch::Receiver<Members> {
        self.members.clone()
    }

    /// The list now.
    pub fn current(&self) -> Members {
        self.members.borrow().clone()
    }

    /// Stops the task and waits for it.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            tracing::error!(%err, "membership watch failed");
        }
    }
}

impl Drop for MemberWatch {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

type DataWatch = Pin<Box<dyn Future<Output = (u64, WatchedEvent)> + Send>>;

/// What one session knows: the members read and the watches armed.
#[derive(Default)]
struct View {
    /// id → (znode name, member).
    known: BTreeMap<u64, (String, Member)>,
    /// The `pzxid` of the directory when its children were last listed.
    version: u64,
    children: Option<OneshotWatcher>,
    data: FuturesUnordered<DataWatch>,
}

impl View {
    fn members(&self) -> Members {
        Members {
            version: self.version,
            nodes: self.known.values().map(|(_, m)| m.clone()).collect(),
        }
    }
}

/// Why following stopped.
enum Stop {
    /// The session ended (expired or closed): a new one is needed.
    SessionEnded,
    /// A read failed; the session may still be usable.
    Failed(Error),
}

struct Follower {
    config: ZkConfig,
    kind: NodeKind,
    dir: String,
}

impl Follower {
    /// Forever: follow with the session we have, and when it ends or a read
    /// fails, get back to a full, freshly watched view.
    async fn run(&self, client: Client, mut view: View, tx: &watch::Sender<Members>) {
        let mut client = Some(client);
        let mut backoff = MIN_BACKOFF;
        loop {
            let current = match client.take() {
                Some(c) => c,
                None => match connect(&self.config).await {
                    Ok(c) => {
                        tracing::info!(kind = %self.kind, "membership watch has a new ZooKeeper session");
                        c
                    }
                    Err(err) => {
                        tracing::warn!(%err, kind = %self.kind, "membership watch cannot reach ZooKeeper; retrying");
                        sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                },
            };
            if view.children.is_none() {
                // A fresh view: read everything and arm every watch.
                view = View::default();
                if let Err(err) = self.read_all(&current, &mut view).await {
                    tracing::warn!(%err, kind = %self.kind, "reading the member list failed; retrying");
                    client = self.after_failure(current, backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            publish(tx, &view);
            backoff = MIN_BACKOFF;
            match self.follow(&current, &mut view, tx).await {
                Stop::SessionEnded => {
                    tracing::warn!(kind = %self.kind, "membership watch's ZooKeeper session ended; reconnecting");
                    view.children = None;
                }
                Stop::Failed(err) => {
                    tracing::warn!(%err, kind = %self.kind, "membership watch read failed; reading again");
                    view.children = None;
                    client = self.after_failure(current, backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// After a failed read: keep the session if it lives (waiting, bounded,
    /// for it to connect again), or drop it.
    async fn after_failure(&self, client: Client, backoff: Duration) -> Option<Client> {
        sleep(backoff).await;
        let mut states = client.state_watcher();
        let connected = timeout(self.config.session_timeout(), async {
            loop {
                match states.peek_state() {
                    SessionState::SyncConnected | SessionState::ConnectedReadOnly => return true,
                    s if s.is_terminated() => return false,
                    _ => {
                        states.changed().await;
                    }
                }
            }
        })
        .await;
        matches!(connected, Ok(true)).then_some(client)
    }

    /// Lists the children (arming the child watch) and reads every child
    /// not yet known (arming its data watch); forgets the ones gone.
    async fn read_all(&self, client: &Client, view: &mut View) -> Result<(), Error> {
        let (names, stat, children) = match client.get_and_watch_children(&self.dir).await {
            Ok(listed) => listed,
            Err(zookeeper_client::Error::NoNode) => {
                ensure_dir(client, &self.dir).await?;
                client
                    .get_and_watch_children(&self.dir)
                    .await
                    .map_err(zk("list", &self.dir))?
            }
            Err(err) => return Err(zk("list", &self.dir)(err)),
        };
        view.children = Some(children);
        view.version = epoch(stat.pzxid)?;
        let mut live: Vec<(u64, String)> = Vec::with_capacity(names.len());
        for name in names {
            match parse_id(&name) {
                Some(id) => live.push((id, name)),
                None => {
                    tracing::warn!(%name, dir = %self.dir, "ignoring a znode that is not a registration")
                }
            }
        }
        view.known.retain(|id, _| live.iter().any(|(l, _)| l == id));
        for (id, name) in live {
            if !view.known.contains_key(&id) {
                self.read_one(client, view, id, name).await?;
            }
        }
        Ok(())
    }

    /// Reads one child's data and stat, arming its data watch.
    async fn read_one(
        &self,
        client: &Client,
        view: &mut View,
        id: u64,
        name: String,
    ) -> Result<(), Error> {
        let path = format!("{}/{name}", self.dir);
        let (data, stat, watcher) = match client.get_and_watch_data(&path).await {
            Ok(read) => read,
            // Gone between the listing and now: the child watch says so too.
            Err(zookeeper_client::Error::NoNode) => {
                view.known.remove(&id);
                return Ok(());
            }
            Err(err) => return Err(zk("read", &path)(err)),
        };
        view.data
            .push(Box::pin(async move { (id, watcher.changed().await) }));
        match serde_json::from_slice::<NodeInfo>(&data) {
            Ok(info) if info.kind == self.kind => {
                let member = Member {
                    id,
                    epoch: epoch(stat.czxid)?,
                    info,
                };
                view.known.insert(id, (name, member));
            }
            Ok(info) => {
                tracing::warn!(%path, kind = %info.kind, "ignoring a registration of another kind");
                view.known.remove(&id);
            }
            Err(err) => {
                tracing::warn!(%path, %err, "ignoring a registration whose data is not node info");
                view.known.remove(&id);
            }
        }
        Ok(())
    }

    /// Waits for watch events and applies them, publishing after each.
    async fn follow(&self, client: &Client, view: &mut View, tx: &watch::Sender<Members>) -> Stop {
        let mut states = client.state_watcher();
        if states.peek_state().is_terminated() {
            return Stop::SessionEnded;
        }
        loop {
            let Some(children) = view.children.take() else {
                return Stop::Failed(Error::Unexpected("no child watch armed".into()));
            };
            // `children.changed()` consumes the watcher: keep the future
            // across data events, so the child watch stays armed.
            let mut children = Box::pin(children.changed());
            loop {
                tokio::select! {
                    event = &mut children => {
                        if event.event_type == EventType::Session {
                            return Stop::SessionEnded;
                        }
                        // Children changed, or the directory itself was
                        // deleted (read_all makes it again).
                        if let Err(err) = self.read_all(client, view).await {
                            return failed(client, err);
                        }
                        publish(tx, view);
                        break;
                    }
                    Some((id, event)) = view.data.next(), if !view.data.is_empty() => {
                        match event.event_type {
                            EventType::Session => return Stop::SessionEnded,
                            EventType::NodeDataChanged => {
                                if let Some((name, _)) = view.known.get(&id) {
                                    let name = name.clone();
                                    if let Err(err) = self.read_one(client, view, id, name).await {
                                        return failed(client, err);
                                    }
                                }
                            }
                            // The child watch fires for it too, and the
                            // listing it reads carries the new version:
                            // the set changes only with its version.
                            EventType::NodeDeleted => continue,
                            EventType::NodeCreated | EventType::NodeChildrenChanged => {}
                        }
                        publish(tx, view);
                    }
                    state = states.changed() => {
                        if state.is_terminated() {
                            return Stop::SessionEnded;
                        }
                    }
                }
            }
        }
    }
}

/// A failed read during follow: the session's end (expiry can surface as
/// a read error before the state changes), or a failure to retry.
fn failed(client: &Client, err: Error) -> Stop {
    let ended = matches!(
        &err,
        Error::Zk {
            source: zookeeper_client::Error::SessionExpired | zookeeper_client::Error::ClientClosed,
            ..
        }
    );
    if ended || client.state().is_terminated() {
        Stop::SessionEnded
    } else {
        Stop::Failed(err)
    }
}

fn publish(tx: &watch::Sender<Members>, view: &View) {
    let members = view.members();
    tx.send_if_modified(|current| {
        let changed = *current != members;
        if changed {
            *current = members;
        }
        changed
    });
}
