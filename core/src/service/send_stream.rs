//! One session's sends as one ordered stream: each request is checked and
//! queued for writing before the next is read, so ids follow the order the
//! client sent them, and outcomes go back in that order while many sends
//! are in flight.

use std::pin::Pin;
use std::sync::Arc;

use chat_proto::v1 as pb;
use chat_proto::{ERROR_CODE_KEY, RETRY_AFTER_KEY};
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, Stream, StreamExt};
use tonic::{Status, Streaming};

use super::CoreService;
use super::acting::check;
use super::required::{Required, missing};
use crate::store::Store;

/// Sends of one stream queued but not yet answered; past this the stream
/// stops reading until answers go out.
const MAX_QUEUED: usize = 1024;

/// The outcomes of a send stream.
pub type OutcomeStream = Pin<Box<dyn Stream<Item = Result<pb::SendOutcome, Status>> + Send>>;

struct State<S> {
    core: Arc<CoreService<S>>,
    /// The bearer token the stream was opened with.
    token: String,
    inbound: Streaming<pb::SendMessageRequest>,
    queued: FuturesOrdered<BoxFuture<'static, pb::SendOutcome>>,
    reading: bool,
}

/// The outcomes of the sends read from `inbound`, made with `token`, in order.
pub fn outcomes<S: Store>(
    core: Arc<CoreService<S>>,
    token: String,
    inbound: Streaming<pb::SendMessageRequest>,
) -> OutcomeStream {
    let state = State {
        core,
        token,
        inbound,
        queued: FuturesOrdered::new(),
        reading: true,
    };
    Box::pin(futures::stream::unfold(state, |mut st| async move {
        loop {
            let room = st.queued.len() < MAX_QUEUED;
            tokio::select! {
                biased;
                Some(outcome) = st.queued.next(), if !st.queued.is_empty() => {
                    return Some((Ok(outcome), st));
                }
                next = st.inbound.next(), if st.reading && room => match next {
                    Some(Ok(req)) => {
                        let answer = queue(&st.core, &st.token, req).await;
                        st.queued.push_back(answer);
                    }
                    Some(Err(status)) => {
                        tracing::debug!(%status, "send stream broke");
                        st.reading = false;
                    }
                    None => st.reading = false,
                },
                else => return None,
            }
        }
    }))
}

/// Checks and queues one send; the future is its outcome.
async fn queue<S: Store>(
    core: &CoreService<S>,
    token: &str,
    req: pb::SendMessageRequest,
) -> BoxFuture<'static, pb::SendOutcome> {
    if let Some(field) = req.missing() {
        let refused = failed(&missing(field));
        return Box::pin(async move { refused });
    }
    let allowed = match core.principal(token).await {
        Ok(principal) => check(&req, &principal),
        Err(e) => Err(e),
    };
    if let Err(e) = allowed {
        let refused = failed(&Status::from(e));
        return Box::pin(async move { refused });
    }
    match core.queue_message(req).await {
        Ok(durable) => Box::pin(async move {
            match durable.await {
                Ok(reply) => pb::SendOutcome {
                    result: Some(pb::send_outcome::Result::Sent(reply)),
                },
                Err(e) => failed(&Status::from(e)),
            }
        }),
        Err(e) => {
            let refused = failed(&Status::from(e));
            Box::pin(async move { refused })
        }
    }
}

/// The outcome of a refused send, carrying what its status would say.
fn failed(status: &Status) -> pb::SendOutcome {
    let meta = |key| {
        status
            .metadata()
            .get(key)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    pb::SendOutcome {
        result: Some(pb::send_outcome::Result::Error(pb::CallError {
            grpc_code: status.code() as i32,
            code: meta(ERROR_CODE_KEY).unwrap_or_default(),
            message: status.message().to_owned(),
            retry_after_ms: meta(RETRY_AFTER_KEY)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        })),
    }
}
