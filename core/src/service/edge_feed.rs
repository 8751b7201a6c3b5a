//! One edge's event stream: the hub's live events for the edge, merged
//! with the replays from storage its channel watches ask for (the rules are
//! in [`crate::replay`]), and the edge's commands read in order.
//!
//! The stream is polled by the transport only as fast as the edge reads.
//! Live events wait in the hub's bounded queue meanwhile; when it is full
//! the hub drops the edge, this stream ends after what was queued, and the
//! edge subscribes again with its cursors. Nothing here is spawned: the
//! stream is the task, and it stops when the edge goes.

use std::collections::VecDeque;
use std::sync::Arc;

use chat_proto::EventStream;
use chat_proto::v1::{self as pb, ChannelGap, Event, edge_command, event::Kind};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tonic::{Status, Streaming};

use super::CoreService;
use crate::convert;
use crate::error::CoreError;
use crate::hub::{EdgeStream, StreamId};
use crate::replay::{Offer, PageKind, PageRequest, Replays, Step};
use crate::store::{Fence, HistoryAnchor, Id, Store, StoreError};

/// Messages (or changes) one replay page reads.
const PAGE: usize = 256;
/// Live events all of a stream's replays may hold.
const MAX_HELD: usize = 65_536;

/// A page read for a replay, with the channel's members as recipients.
type PageRead = (PageRequest, Result<(Vec<pb::Message>, Vec<Id>), CoreError>);

struct Feed<S> {
    core: Arc<CoreService<S>>,
    stream: StreamId,
    live: EdgeStream,
    commands: Streaming<pb::EdgeCommand>,
    reading: bool,
    replays: Replays,
    pages: FuturesUnordered<BoxFuture<'static, PageRead>>,
    out: VecDeque<Event>,
}

/// The event stream of edge `stream`, after its `registered` event.
pub fn feed<S: Store>(
    core: Arc<CoreService<S>>,
    stream: StreamId,
    live: EdgeStream,
    commands: Streaming<pb::EdgeCommand>,
) -> EventStream {
    let feed = Feed {
        core,
        stream,
        live,
        commands,
        reading: true,
        replays: Replays::new(MAX_HELD),
        pages: FuturesUnordered::new(),
        out: VecDeque::new(),
    };
    Box::pin(futures::stream::unfold(feed, |mut f| async move {
        let item = f.next().await;
        if item.is_none() {
            f.core.hub.close(f.stream);
        }
        item.map(|item| (item, f))
    }))
}

impl<S: Store> Feed<S> {
    /// The next event for the edge, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Result<Event, Status>> {
        loop {
            if let Some(event) = self.out.pop_front() {
                return Some(Ok(event));
            }
            tokio::select! {
                biased;
                Some((req, read)) = self.pages.next(), if !self.pages.is_empty() => {
                    self.on_page(req, read);
                }
                command = self.commands.next(), if self.reading => match command {
                    Some(Ok(command)) => {
                        if let Err(status) = self.on_command(command) {
                            return Some(Err(status));
                        }
                    }
                    Some(Err(status)) => {
                        tracing::debug!(edge = self.stream.edge, %status, "edge commands broke");
                        return None;
                    }
                    // The edge closed its side: it is going away.
                    None => return None,
                },
                live = self.live.recv() => match live? {
                    Ok(event) => match self.replays.offer(event) {
                        Offer::Pass(event) => return Some(Ok(event)),
                        Offer::Held => {}
                        Offer::Overflow => {
                            tracing::warn!(edge = self.stream.edge, "edge held too much during replay");
                            metrics::counter!("chat_hub_slow_edges_total").increment(1);
                            return None;
                        }
                    },
                    Err(status) => return Some(Err(status)),
                },
            }
        }
    }

    fn on_command(&mut self, command: pb::EdgeCommand) -> Result<(), Status> {
        match command.kind {
            Some(edge_command::Kind::Watch(watch)) => {
                // A channel is watched only at its owner, the one node
                // that publishes its events (see `docs/architecture.md`).
                let mut taken = Vec::with_capacity(watch.channels.len());
                for cursor in &watch.channels {
                    match self.core.ownership.fence(cursor.channel_id) {
                        Ok(fence) => taken.push((cursor, fence)),
                        Err(not) => self.out.push_back(refused(not.channel, not.owner)),
                    }
                }
                let ids: Vec<Id> = taken.iter().map(|(c, _)| c.channel_id).collect();
                self.core.hub.watch(self.stream, &ids);
                let shared = self.core.ownership.shared();
                for (cursor, fence) in taken {
                    if let Some(req) = self.replays.start(cursor) {
                        metrics::counter!("chat_replays_total").increment(1);
                        self.read(req, shared.then_some(fence));
                    }
                }
                Ok(())
            }
            Some(edge_command::Kind::Unwatch(unwatch)) => {
                self.core.hub.unwatch(self.stream, &unwatch.channel_ids);
                for channel in unwatch.channel_ids {
                    self.replays.cancel(channel);
                }
                Ok(())
            }
            Some(edge_command::Kind::Hello(_)) => Err(CoreError::invalid(
                "hello_twice",
                "hello comes once, first on the stream",
            )
            .into()),
            None => Err(super::required::missing("kind")),
        }
    }

    /// Reads a replay page; with `claim`, claims the channel for that
    /// fence first, so that every message a previous owner could still
    /// commit is stored before the page is read, and none after.
    fn read(&mut self, req: PageRequest, claim: Option<Fence>) {
        let core = self.core.clone();
        self.pages.push(Box::pin(async move {
            if let Some(fence) = claim
                && let Err(e) = core.store.claim_channel(req.channel_id, fence).await
            {
                return (req, Err(e.into()));
            }
            let read = read_page(&core, req).await;
            (req, read)
        }));
    }

    fn on_page(&mut self, req: PageRequest, read: Result<(Vec<pb::Message>, Vec<Id>), CoreError>) {
        let step = match read {
            Ok((messages, members)) => {
                let full = messages.len() >= PAGE;
                let ids: Vec<Id> = messages
                    .iter()
                    .map(|m| match req.kind {
                        PageKind::Messages => m.id,
                        PageKind::Changes => m.version_id,
                    })
                    .collect();
                metrics::counter!("chat_replayed_events_total").increment(messages.len() as u64);
                for message in messages {
                    let kind = match req.kind {
                        PageKind::Messages => Kind::Message(pb::MessageCreated {
                            message: Some(message),
                            origin_session: 0,
                        }),
                        PageKind::Changes => Kind::MessageUpdated(pb::MessageUpdated {
                            message: Some(message),
                        }),
                    };
                    self.out.push_back(Event {
                        recipients: members.clone(),
                        seq: 0,
                        kind: Some(kind),
                    });
                }
                self.replays.page(req, &ids, full)
            }
            Err(CoreError::Storage(StoreError::Fenced { owner, .. })) => {
                // A newer owner claimed it meanwhile: watch it there.
                self.replays.cancel(req.channel_id);
                self.core.hub.unwatch(self.stream, &[req.channel_id]);
                self.out.push_back(refused(req.channel_id, Some(owner)));
                return;
            }
            Err(e) => {
                tracing::warn!(edge = self.stream.edge, channel = req.channel_id, error = %e, "replay read failed");
                self.replays.failed(req.channel_id)
            }
        };
        match step {
            Step::Next(next) => self.read(next, None),
            Step::Finished {
                held,
                gap,
                after_message_id,
            } => {
                if let Some(reason) = gap {
                    metrics::counter!("chat_replay_gaps_total").increment(1);
                    self.out
                        .push_back(gap_event(req.channel_id, after_message_id, reason));
                }
                self.out.extend(held);
            }
        }
    }
}

/// The answer to a watch of a channel this node does not own.
fn refused(channel_id: Id, owner: Option<u64>) -> Event {
    Event {
        recipients: Vec::new(),
        seq: 0,
        kind: Some(Kind::WatchRefused(pb::WatchRefused {
            channel_id,
            owner: owner.unwrap_or(0),
        })),
    }
}

/// A gap event for the edge's sessions of `channel`.
pub(super) fn gap_event(channel: Id, after_message_id: Id, reason: &str) -> Event {
    Event {
        recipients: Vec::new(),
        seq: 0,
        kind: Some(Kind::Gap(ChannelGap {
            channel_id: channel,
            after_message_id,
            reason: reason.to_owned(),
        })),
    }
}

async fn read_page<S: Store>(
    core: &CoreService<S>,
    req: PageRequest,
) -> Result<(Vec<pb::Message>, Vec<Id>), CoreError> {
    let members = core.members.get(req.channel_id).await?;
    let records = match req.kind {
        PageKind::Messages => {
            core.store
                .history(req.channel_id, HistoryAnchor::After(req.after), PAGE)
                .await?
                .messages
        }
        PageKind::Changes => core.store.changes(req.channel_id, req.after, PAGE).await?,
    };
    Ok((
        records.iter().map(convert::message).collect(),
        members.to_vec(),
    ))
}
