//! The profiles sent ahead of a message: its author's and those of the
//! members it mentions, from the metadata cache. A miss is one core call,
//! made by the edge itself, before the message goes out. Lookups run side
//! by side ([`InOrder`]) and events leave in stream order, so a miss delays
//! its own message and the events behind it by one round trip, and never
//! limits the stream to one message per round trip.

use std::sync::Arc;

use chat_proto::v1 as pb;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesOrdered;

use crate::cache::MetaCache;
use crate::core_client::CoreClient;
use crate::protocol::shown::fingerprint;
use crate::protocol::{AheadProfile, ServerFrame};
use crate::wire::User;

/// Most events waiting for their lookups; the stream is not read further
/// while this many wait.
pub const IN_FLIGHT: usize = 1024;

/// An event with the profiles to send ahead of it.
pub type Looked = (pb::Event, Box<[AheadProfile]>);

/// Events in stream order, each once its profiles were looked up.
pub struct InOrder {
    core: CoreClient,
    cache: Arc<MetaCache>,
    queue: FuturesOrdered<BoxFuture<'static, Looked>>,
}

impl InOrder {
    /// Lookups through `cache`, its misses asked of `core`.
    pub fn new(core: CoreClient, cache: Arc<MetaCache>) -> Self {
        Self {
            core,
            cache,
            queue: FuturesOrdered::new(),
        }
    }

    /// Queues `event`; a message starts its lookup at once.
    pub fn push(&mut self, event: pb::Event) {
        let lookup: BoxFuture<'static, Looked> = if message_of(&event).is_some() {
            let (core, cache) = (self.core.clone(), self.cache.clone());
            Box::pin(async move {
                let ahead = match message_of(&event) {
                    Some(message) => profiles(&core, &cache, message).await,
                    None => Box::default(),
                };
                (event, ahead)
            })
        } else {
            Box::pin(std::future::ready((event, Box::default())))
        };
        self.queue.push_back(lookup);
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The oldest event once its lookup is done; `None` when none waits.
    pub async fn next(&mut self) -> Option<Looked> {
        self.queue.next().await
    }
}

/// The new message `event` carries, if it is one.
fn message_of(event: &pb::Event) -> Option<&pb::Message> {
    match &event.kind {
        Some(pb::event::Kind::Message(pb::MessageCreated {
            message: Some(message),
            ..
        })) => Some(message),
        _ => None,
    }
}

/// The profiles to send ahead of `message`, author first; none if the
/// core could not be asked (the client can still ask for them).
pub async fn profiles(
    core: &CoreClient,
    cache: &MetaCache,
    message: &pb::Message,
) -> Box<[AheadProfile]> {
    let mut ids = vec![message.sender_id];
    for mention in &message.mentions {
        if !ids.contains(&mention.user_id) {
            ids.push(mention.user_id);
        }
    }
    match cache.profiles(core, &ids).await {
        Ok(found) => found
            .items
            .iter()
            .map(|u| {
                let user = User::from(u.as_ref().clone());
                AheadProfile {
                    user_id: user.id,
                    print: fingerprint(&user),
                    text: ServerFrame::Profile { user }.encode(),
                }
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "no profiles ahead of a message");
            metrics::counter!("chat_edge_ahead_profile_failures_total").increment(1);
            Box::default()
        }
    }
}
