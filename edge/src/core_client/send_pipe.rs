//! The edge's end of a session's send stream (`SendStream`): sends go out
//! in order while many are in flight, and each outcome is matched to its
//! send by position. The stream opens with the first send and closes when
//! no send is waiting, so an idle session holds none.

use std::collections::VecDeque;

use chat_proto::v1::{SendMessageRequest, SendOutcome, send_outcome};
use chat_proto::{ERROR_CODE_KEY, RETRY_AFTER_KEY};
use futures::stream::{BoxStream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

use super::{Bearer, CoreClient};
use crate::error::ApiError;
use crate::protocol::CallResult;
use crate::wire::Message;

/// Sends one session may have in flight on its stream.
const CAPACITY: usize = 1024;

struct Open {
    tx: mpsc::Sender<SendMessageRequest>,
    outcomes: BoxStream<'static, Result<SendOutcome, ApiError>>,
}

/// One session's send stream.
#[derive(Default)]
pub struct SendPipe {
    open: Option<Open>,
    /// Sends awaiting their outcome: client_msg_id and when it went out.
    waiting: VecDeque<(String, Instant)>,
    /// Outcomes decided at the edge (the stream broke), to hand out next.
    failed: VecDeque<CallResult>,
}

impl SendPipe {
    /// True while an outcome is still to come.
    pub fn busy(&self) -> bool {
        !self.waiting.is_empty() || !self.failed.is_empty()
    }

    /// Sends `req` after every earlier send of this pipe; a stream opened
    /// for it carries `bearer`, on whose behalf every send is made.
    pub fn send(&mut self, core: &CoreClient, bearer: &Bearer, req: SendMessageRequest) {
        let client_msg_id = req.client_msg_id.clone();
        let open = self.open.get_or_insert_with(|| open(core, bearer));
        if open.tx.try_send(req).is_err() {
            // More than CAPACITY in flight, which the session's own limit
            // prevents, or a stream that has ended: refuse, the client retries.
            self.failed.push_back(unavailable(client_msg_id));
            return;
        }
        self.waiting.push_back((client_msg_id, Instant::now()));
    }

    /// The next outcome; pending while none is due (check [`busy`](Self::busy)).
    pub async fn next(&mut self, core: &CoreClient) -> CallResult {
        if let Some(failed) = self.failed.pop_front() {
            return failed;
        }
        let (Some(open), Some((_, sent))) = (self.open.as_mut(), self.waiting.front()) else {
            return std::future::pending().await;
        };
        let deadline = *sent + core.link.call_timeout();
        let next = tokio::time::timeout_at(deadline, open.outcomes.next()).await;
        match next {
            Ok(Some(Ok(outcome))) => {
                let Some((client_msg_id, _)) = self.waiting.pop_front() else {
                    return std::future::pending().await;
                };
                if self.waiting.is_empty() {
                    // Nothing left to wait for: end the stream; the next
                    // send opens another.
                    self.open = None;
                }
                CallResult::Sent {
                    client_msg_id,
                    result: result(outcome),
                }
            }
            Ok(Some(Err(_)) | None) | Err(_) => {
                // Broken or silent past the deadline: every send still
                // waiting fails, and the client sends it again (same
                // client_msg_id, so nothing is stored twice).
                metrics::counter!("chat_core_send_stream_failures_total").increment(1);
                self.open = None;
                self.failed
                    .extend(self.waiting.drain(..).map(|(id, _)| unavailable(id)));
                self.failed
                    .pop_front()
                    .unwrap_or_else(|| unavailable(String::new()))
            }
        }
    }
}

fn open(core: &CoreClient, bearer: &Bearer) -> Open {
    let (tx, rx) = mpsc::channel(CAPACITY);
    let mut grpc = core.grpc.clone();
    let mut request = tonic::Request::new(ReceiverStream::new(rx));
    bearer.attach(&mut request);
    let call = async move { grpc.send_stream(request).await };
    let outcomes = futures::stream::once(call)
        .flat_map(|reply| match reply {
            Ok(reply) => reply
                .into_inner()
                .map(|item| item.map_err(ApiError::from))
                .boxed(),
            Err(status) => futures::stream::iter([Err(ApiError::from(status))]).boxed(),
        })
        .boxed();
    Open { tx, outcomes }
}

fn unavailable(client_msg_id: String) -> CallResult {
    CallResult::Sent {
        client_msg_id,
        result: Err(ApiError::new(
            503,
            "unavailable",
            "the core could not be reached; send again with the same client_msg_id",
        )),
    }
}

fn result(outcome: SendOutcome) -> Result<(Message, bool), ApiError> {
    match outcome.result {
        Some(send_outcome::Result::Sent(reply)) => {
            let message = reply
                .message
                .ok_or_else(|| ApiError::new(500, "internal", "ack without message"))?;
            Ok((message.into(), reply.duplicate))
        }
        Some(send_outcome::Result::Error(e)) => {
            let mut status = tonic::Status::new(tonic::Code::from(e.grpc_code), e.message);
            if let Ok(code) = e.code.parse() {
                status.metadata_mut().insert(ERROR_CODE_KEY, code);
            }
            if e.retry_after_ms > 0
                && let Ok(ms) = e.retry_after_ms.to_string().parse()
            {
                status.metadata_mut().insert(RETRY_AFTER_KEY, ms);
            }
            Err(status.into())
        }
        None => Err(ApiError::new(500, "internal", "empty send outcome")),
    }
}
