//! Reads this edge's event stream from the core and hands each event to the
//! local sessions of its recipients, encoding each frame once.
//!
//! When the stream breaks the edge opens another and resumes: user events
//! from the last `seq` it received (the core keeps them a while), channel
//! events from each watched channel's cursor (replayed from storage). What
//! cannot be resumed is never skipped silently: a channel the core could
//! not replay sends its sessions a `resync` frame, and user events the core
//! no longer has close every session here with 4009, so clients reconnect
//! with their cursors and read their state afresh.

use std::sync::Arc;
use std::time::Duration;

use crate::core_client::CoreClient;
use chat_proto::EventStream;
use chat_proto::v1::{ChannelChange, EdgeCommand, Event, SubscribeRequest, edge_command, event};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::{ApiError, CloseReason};
use crate::protocol::{SharedFrame, events};
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

/// Opens the stream (resuming after user event `resume`, if given), waits
/// for the core to confirm the edge's id, then watches every channel of
/// `watches` again from its cursor. Call before accepting connections so
/// no event is missed.
pub async fn subscribe(
    core: &CoreClient,
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
    let mut events = core.subscribe(rx).await?;
    match events.next().await {
        Some(Ok(Event {
            kind: Some(event::Kind::Registered(registered)),
            ..
        })) => {
            watches.attach(tx);
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

/// Delivers events until shutdown, resuming the stream when it ends.
pub async fn run(
    core: CoreClient,
    registry: Arc<Registry>,
    identity: Identity,
    mut events: EventStream,
    shutdown: CancellationToken,
) {
    let mut last_seq = 0;
    loop {
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = events.next() => next,
            };
            match next {
                Some(Ok(event)) => {
                    if event.seq > 0 {
                        if event.seq <= last_seq {
                            continue;
                        }
                        last_seq = event.seq;
                    }
                    handle(&registry, event);
                }
                Some(Err(status)) => {
                    tracing::warn!(%status, "event stream error");
                    break;
                }
                None => break,
            }
        }
        metrics::counter!("chat_edge_stream_breaks_total").increment(1);
        let mut backoff = Duration::from_millis(50);
        events = loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
            let opened = subscribe(&core, identity, Some(last_seq), registry.watches()).await;
            let fresh = match opened {
                Ok(fresh) => fresh,
                Err(e) => {
                    tracing::warn!(error = %e, "could not reopen the event stream");
                    continue;
                }
            };
            if !fresh.resumed {
                let kicked = registry.kick_all(CloseReason::RESYNC);
                tracing::warn!(kicked, "user events were lost; sessions told to resync");
                metrics::counter!("chat_edge_unresumed_streams_total").increment(1);
                last_seq = 0;
            }
            match registry.reannounce().await {
                Ok(()) => break fresh.events,
                Err(e) => tracing::warn!(error = %e, "could not re-announce users"),
            }
        };
        tracing::info!(last_seq, "event stream resumed");
    }
}

fn handle(registry: &Registry, event: Event) {
    let Some(kind) = event.kind else { return };
    let watches = registry.watches();
    match &kind {
        event::Kind::TokenRevoked(revoked) => {
            crate::principals::revoked(&revoked.token_ids);
            registry.revoke(&event.recipients, &revoked.token_ids);
            return;
        }
        event::Kind::Gap(gap) => {
            // The core names no recipients: the members here are the ones.
            let members = watches.members(gap.channel_id);
            if let Some((text, position)) = events::encode_event(kind) {
                let frame = Arc::new(SharedFrame { text, position });
                registry.deliver(&members, &frame);
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
        let frame = Arc::new(SharedFrame { text, position });
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
