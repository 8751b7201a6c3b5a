//! Reads this edge's event stream from the core and hands each event to the
//! local sessions of its recipients, encoding each frame once.
//!
//! The edge holds one stream per live core (one alone outside a cluster).
//! When a stream breaks the edge opens another and resumes: user events
//! from the last `seq` it received (the core keeps them a while), channel
//! events from each watched channel's cursor (replayed from storage). What
//! cannot be resumed is never skipped silently: a channel the core could
//! not replay sends its sessions a `resync` frame, and user events the core
//! no longer has close every session here with 4009, so clients reconnect
//! with their cursors and read their state afresh.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

mod ahead;

use crate::cache::MetaCache;
use crate::core_client::CoreClient;
use chat_proto::EventStream;
use chat_proto::v1::{ChannelChange, EdgeCommand, Event, SubscribeRequest, edge_command, event};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::{ApiError, CloseReason};
use crate::protocol::{AheadProfile, SharedFrame, events};
use crate::registry::Registry;
use crate::watches::Watches;

/// Who this edge is to the core.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    /// The id asked for, 0 until the core assigned one.
    pub edge_id: u64,
    /// Random for this process: tells a reconnect from a second edge.
    pub incarnation: u64,
}

/// An open event stream.
pub struct Subscribed {
    /// The id the core confirmed.
    pub edge_id: u64,
    /// False if user events were lost since `after_seq`.
    pub resumed: bool,
    /// The events.
    pub events: EventStream,
}

/// How often channels a core refused (or whose owner had no stream yet)
/// are placed again.
const REROUTE_EVERY: Duration = Duration::from_millis(200);

/// Opens the stream from core `node` (resuming after user event `resume`,
/// if given), waits for the core to confirm the edge's id, then watches
/// every channel of `watches` that the core owns again from its cursor.
/// Call before accepting connections so no event is missed.
pub async fn subscribe(
    core: &CoreClient,
    node: u64,
    identity: Identity,
    resume: Option<u64>,
    watches: &Watches,
) -> Result<Subscribed, ApiError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let hello = SubscribeRequest {
        edge_id: identity.edge_id,
        incarnation: identity.incarnation,
        resume: resume.is_some(),
        after_seq: resume.unwrap_or(0),
    };
    // The receiver is alive: this cannot fail.
    let _ = tx.send(EdgeCommand {
        kind: Some(edge_command::Kind::Hello(hello)),
    });
    let mut events = core.subscribe(node, rx).await?;
    match events.next().await {
        Some(Ok(Event {
            kind: Some(event::Kind::Registered(registered)),
            ..
        })) => {
            watches.attach(node, tx);
            Ok(Subscribed {
                edge_id: registered.edge_id,
                resumed: registered.resumed,
                events,
            })
        }
        Some(Err(status)) => Err(status.into()),
        _ => Err(ApiError::new(
            503,
            "unavailable",
            "the core's event stream did not start with the edge's id",
        )),
    }
}

/// Delivers the events of every live core until shutdown: one stream per
/// core, opened as cores join and closed as they leave, each resumed when
/// it breaks; `first` is the stream [`subscribe`] opened at start.
pub async fn run(
    core: CoreClient,
    registry: Arc<Registry>,
    cache: Arc<MetaCache>,
    identity: Identity,
    first: (u64, EventStream),
    shutdown: CancellationToken,
) {
    // Watched before the first sync, so no change falls between the two.
    let mut view = core.directory().map(|d| d.subscribe());
    let mut streams = Streams {
        core,
        registry,
        cache,
        identity,
        stops: HashMap::new(),
        cores: None,
        tracker: TaskTracker::new(),
        shutdown: shutdown.clone(),
    };
    streams.start(first.0, Some(first.1));
    streams.sync();
    let mut tick = tokio::time::interval(REROUTE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let changed = async {
            match view.as_mut() {
                Some(view) => view.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            ok = changed => {
                if !ok {
                    view = None;
                    continue;
                }
                streams.sync();
            }
            _ = tick.tick() => {
                if streams.registry.watches().unplaced() {
                    streams.registry.watches().reroute();
                }
            }
        }
    }
    streams.tracker.close();
    streams.tracker.wait().await;
}

/// One event stream per live core, each in a task of its own.
struct Streams {
    core: CoreClient,
    registry: Arc<Registry>,
    cache: Arc<MetaCache>,
    identity: Identity,
    /// The live cores' streams, by node.
    stops: HashMap<u64, CancellationToken>,
    /// The live cores as of the last sync (none before the first): users'
    /// presence homes are the owners of their ids among them.
    cores: Option<Vec<u64>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Streams {
    fn start(&mut self, node: u64, initial: Option<EventStream>) {
        let stop = self.shutdown.child_token();
        self.stops.insert(node, stop.clone());
        let (core, registry) = (self.core.clone(), self.registry.clone());
        let to = Deliver {
            registry,
            cache: self.cache.clone(),
        };
        self.tracker
            .spawn(follow(core, to, self.identity, node, initial, stop));
    }

    /// Opens the streams of cores that joined, closes those of cores that
    /// left, and moves the watches whose owner changed.
    fn sync(&mut self) {
        let live = self.core.nodes();
        let gone: Vec<u64> = self
            .stops
            .keys()
            .copied()
            .filter(|n| !live.contains(n))
            .collect();
        for node in gone {
            if let Some(stop) = self.stops.remove(&node) {
                stop.cancel();
            }
            self.registry.watches().detach(node);
            // Changes it made may not have reached this edge.
            self.cache.flush();
            tracing::info!(node, "core left: its stream is closed");
        }
        for node in live {
            if !self.stops.contains_key(&node) {
                tracing::info!(node, "core joined: opening its stream");
                self.start(node, None);
            }
        }
        let moved = self.registry.watches().reroute();
        metrics::counter!("chat_edge_watches_moved_total").increment(moved as u64);
        self.follow_presence();
    }

    /// When the live cores changed, so the homes of some users' presence
    /// moved: announces the sessions whose home moved to their new home and
    /// has every session watch again (in a task: these are calls).
    fn follow_presence(&mut self) {
        let live = self.core.nodes();
        // With no core live there is nobody to tell until one is.
        if live.is_empty() {
            return;
        }
        let before = self.cores.replace(live.clone());
        // At start the sessions announce themselves.
        let Some(before) = before.filter(|b| *b != live) else {
            return;
        };
        tracing::info!(?before, now = ?live, "the live cores changed: presence homes move");
        metrics::counter!("chat_edge_presence_moves_total").increment(1);
        let registry = self.registry.clone();
        let stop = self.shutdown.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                () = registry.presence_moved(&before, &live) => {}
            }
        });
    }
}

/// Where a stream's events go: the sessions, and the metadata cache.
struct Deliver {
    registry: Arc<Registry>,
    cache: Arc<MetaCache>,
}

/// The events of core `node`, until `stop`: opens its stream if `initial`
/// is none, and opens it again (resuming) whenever it ends.
async fn follow(
    core: CoreClient,
    to: Deliver,
    identity: Identity,
    node: u64,
    initial: Option<EventStream>,
    stop: CancellationToken,
) {
    let registry = &to.registry;
    let mut last_seq = 0;
    let mut resume = None;
    let mut events = initial;
    loop {
        let mut stream = match events.take() {
            Some(stream) => stream,
            None => match reopen(&core, registry, identity, node, resume, &stop).await {
                Some(fresh) => {
                    if resume.is_some() && !fresh.resumed {
                        let kicked = registry.kick_all(CloseReason::RESYNC);
                        tracing::warn!(
                            node,
                            kicked,
                            "user events were lost; sessions told to resync"
                        );
                        metrics::counter!("chat_edge_unresumed_streams_total").increment(1);
                        to.cache.flush();
                        last_seq = 0;
                    }
                    tracing::info!(node, last_seq, "event stream open");
                    fresh.events
                }
                None => return,
            },
        };
        let mut waiting = ahead::InOrder::new(core.clone(), to.cache.clone());
        loop {
            let next = tokio::select! {
                biased;
                _ = stop.cancelled() => return,
                Some((event, ahead)) = waiting.next(), if !waiting.is_empty() => {
                    handle(registry, node, event, ahead);
                    continue;
                }
                next = stream.next(), if waiting.len() < ahead::IN_FLIGHT => next,
            };
            match next {
                Some(Ok(event)) => {
                    if event.seq > 0 {
                        if event.seq <= last_seq {
                            continue;
                        }
                        last_seq = event.seq;
                    }
                    if let Some(event::Kind::Metadata(change)) = &event.kind {
                        to.cache.changed(change).await;
                        continue;
                    }
                    waiting.push(event);
                }
                Some(Err(status)) => {
                    tracing::warn!(node, %status, "event stream error");
                    break;
                }
                None => break,
            }
        }
        // What the stream gave before it ended goes out first.
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                looked = waiting.next() => match looked {
                    Some((event, ahead)) => handle(registry, node, event, ahead),
                    None => break,
                },
            }
        }
        registry.watches().detach(node);
        metrics::counter!("chat_edge_stream_breaks_total").increment(1);
        resume = Some(last_seq);
    }
}

/// Opens core `node`'s stream (again), with backoff, and announces this
/// edge's users there; `None` once stopped.
async fn reopen(
    core: &CoreClient,
    registry: &Registry,
    identity: Identity,
    node: u64,
    resume: Option<u64>,
    stop: &CancellationToken,
) -> Option<Subscribed> {
    let mut backoff = Duration::from_millis(50);
    loop {
        if resume.is_some() || backoff > Duration::from_millis(50) {
            tokio::select! {
                _ = stop.cancelled() => return None,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
        let fresh = match subscribe(core, node, identity, resume, registry.watches()).await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(node, error = %e, "could not open the event stream");
                continue;
            }
        };
        match registry.reannounce_at(node).await {
            Ok(()) => return Some(fresh),
            Err(e) => tracing::warn!(node, error = %e, "could not announce users"),
        }
    }
}

/// Hands `event` to its recipients here, with the profiles to send `ahead`
/// of it.
fn handle(registry: &Registry, node: u64, event: Event, ahead: Box<[AheadProfile]>) {
    let Some(kind) = event.kind else { return };
    let watches = registry.watches();
    match &kind {
        event::Kind::WatchRefused(refused) => {
            tracing::debug!(
                node,
                channel = refused.channel_id,
                owner = refused.owner,
                "watch refused"
            );
            watches.refused(node, refused.channel_id);
            return;
        }
        event::Kind::TokenRevoked(revoked) => {
            crate::principals::revoked(&revoked.token_ids);
            registry.revoke(&event.recipients, &revoked.token_ids);
            return;
        }
        event::Kind::Gap(gap) => {
            // The core names no recipients: the members here are the ones.
            let members = watches.members(gap.channel_id);
            if let Some((text, _)) = events::encode_event(kind) {
                registry.deliver(&members, &Arc::new(SharedFrame::plain(text)));
            }
            return;
        }
        event::Kind::Channel(changed) => follow_membership(watches, &event.recipients, changed),
        _ => {
            if !watches.admit(&kind) {
                metrics::counter!("chat_edge_duplicate_events_total").increment(1);
                return;
            }
        }
    }
    if let Some((text, position)) = events::encode_event(kind) {
        let frame = Arc::new(SharedFrame {
            text,
            position,
            ahead,
        });
        let queued = registry.deliver(&event.recipients, &frame);
        metrics::counter!("chat_ws_deliveries_total").increment(queued as u64);
    }
}

/// Watches a channel its users joined, unwatches one they all left.
fn follow_membership(watches: &Watches, here: &[u64], changed: &chat_proto::v1::ChannelChanged) {
    let Some(channel) = &changed.channel else {
        return;
    };
    let at = |users: &[u64]| {
        for user in users {
            watches.join(*user, [(channel.id, channel.last_message_id)]);
        }
    };
    match ChannelChange::try_from(changed.change) {
        Ok(ChannelChange::Created) => at(here),
        Ok(ChannelChange::MemberAdded) if here.contains(&changed.user_id) => at(&[changed.user_id]),
        Ok(ChannelChange::MemberRemoved) if here.contains(&changed.user_id) => {
            watches.leave(&[changed.user_id], channel.id);
        }
        Ok(ChannelChange::Deleted) => watches.leave(&watches.members(channel.id), channel.id),
        _ => {}
    }
}
