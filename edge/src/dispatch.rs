//! Reads this edge's event stream from the core and hands each event to the
//! local sessions of its recipients, encoding each frame once.

use std::sync::Arc;
use std::time::Duration;

use crate::core_client::CoreClient;
use chat_proto::EventStream;
use chat_proto::v1::{Event, SubscribeRequest, event};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::protocol::{SharedFrame, events};
use crate::registry::Registry;

/// Who this edge is to the core.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    /// The id asked for, 0 until the core assigned one.
    pub edge_id: u64,
    /// Random for this process: tells a reconnect from a second edge.
    pub incarnation: u64,
}

/// Opens the stream and waits for the core to confirm the edge's id; call
/// before accepting connections so no event is missed.
pub async fn subscribe(
    core: &CoreClient,
    identity: Identity,
) -> Result<(u64, EventStream), ApiError> {
    let req = SubscribeRequest {
        edge_id: identity.edge_id,
        incarnation: identity.incarnation,
    };
    let mut stream = core.subscribe(req).await?;
    match stream.next().await {
        Some(Ok(Event {
            kind: Some(event::Kind::Registered(registered)),
            ..
        })) => Ok((registered.edge_id, stream)),
        Some(Err(status)) => Err(status.into()),
        _ => Err(ApiError::new(
            503,
            "unavailable",
            "the core's event stream did not start with the edge's id",
        )),
    }
}

/// Delivers events until shutdown, re-subscribing if the stream ends.
pub async fn run(
    core: CoreClient,
    registry: Arc<Registry>,
    identity: Identity,
    mut stream: EventStream,
    shutdown: CancellationToken,
) {
    loop {
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = stream.next() => next,
            };
            match next {
                Some(Ok(event)) => handle(&registry, event),
                Some(Err(status)) => {
                    tracing::warn!(%status, "event stream error");
                    break;
                }
                None => break,
            }
        }
        // The stream ended: open it again and re-announce our users.
        let mut backoff = Duration::from_millis(50);
        stream = loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            match subscribe(&core, identity).await {
                Ok((_, fresh)) => match registry.reannounce().await {
                    Ok(()) => break fresh,
                    Err(e) => tracing::warn!(error = %e, "could not re-announce users"),
                },
                Err(e) => tracing::warn!(error = %e, "could not reopen the event stream"),
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        };
    }
}

fn handle(registry: &Registry, event: chat_proto::v1::Event) {
    let Some(kind) = event.kind else { return };
    if let event::Kind::TokenRevoked(revoked) = &kind {
        registry.revoke(&event.recipients, &revoked.token_ids);
        return;
    }
    if let Some((text, position)) = events::encode_event(kind) {
        let frame = Arc::new(SharedFrame { text, position });
        let queued = registry.deliver(&event.recipients, &frame);
        metrics::counter!("chat_ws_deliveries_total").increment(queued as u64);
    }
}
