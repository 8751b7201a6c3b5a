//! Reads this edge's event stream from the core and hands each event to the
//! local sessions of its recipients, encoding each frame once.

use std::sync::Arc;
use std::time::Duration;

use chat_proto::CoreHandle;
use chat_proto::EventStream;
use chat_proto::v1::{SubscribeRequest, event};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::protocol::{SharedFrame, events};
use crate::registry::Registry;

/// Opens the stream; call before accepting connections so no event is missed.
pub async fn subscribe(core: &CoreHandle, edge_id: u64) -> Result<EventStream, ApiError> {
    core.subscribe(tonic::Request::new(SubscribeRequest { edge_id }))
        .await
        .map(tonic::Response::into_inner)
        .map_err(ApiError::from)
}

/// Delivers events until shutdown, re-subscribing if the stream ends.
pub async fn run(
    core: CoreHandle,
    registry: Arc<Registry>,
    edge_id: u64,
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
            if let Ok(fresh) = subscribe(&core, edge_id).await {
                match registry.reannounce().await {
                    Ok(()) => break fresh,
                    Err(e) => tracing::warn!(error = %e, "could not re-announce users"),
                }
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
