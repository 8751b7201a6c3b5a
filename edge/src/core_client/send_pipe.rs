//! The edge's end of a session's send streams (`SendStream`): sends go out
//! in order while many are in flight, and each outcome is matched to its
//! send by position. A stream opens with the first send and closes when no
//! send is waiting, so an idle session holds none. In a cluster a session
//! has one stream per core it sends to (each channel's sends go to its
//! owner, in order); a send a core refuses as `not_owner` goes once more
//! to the owner the edge's view names, if that is another core. A session's
//! sends to one channel keep their order across such a move: while one
//! waits at one core, the later sends to that channel wait at the edge
//! rather than go to another core ahead of it.

use std::collections::VecDeque;
use std::task::Poll;

use chat_proto::v1::{SendMessageRequest, SendOutcome, send_outcome};
use chat_proto::{ERROR_CODE_KEY, RETRY_AFTER_KEY};
use futures::stream::{BoxStream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

use super::{Bearer, CoreClient};
use crate::error::ApiError;
use crate::protocol::{CallError, CallResult};
use crate::wire::Message;

/// Sends one session may have in flight on its stream.
const CAPACITY: usize = 1024;
/// Times one send is sent again at another core after `not_owner`.
const MOVES: u32 = 2;

/// A send awaiting its outcome.
struct Waiting {
    req: SendMessageRequest,
    /// When it first went out: the deadline counts from here.
    sent: Instant,
    /// How often it went again elsewhere.
    moved: u32,
}

/// One stream, to one core.
struct Open {
    node: u64,
    tx: mpsc::Sender<SendMessageRequest>,
    outcomes: BoxStream<'static, Result<SendOutcome, ApiError>>,
    waiting: VecDeque<Waiting>,
}

/// One session's send streams.
#[derive(Default)]
pub struct SendPipe {
    open: Vec<Open>,
    /// Outcomes decided at the edge (a stream broke), to hand out next.
    failed: VecDeque<CallResult>,
    /// Sends held back, in order, while an earlier send to their channel
    /// waits at another core than theirs would go to.
    held: VecDeque<Waiting>,
    /// Whose sends these are (set by the first).
    bearer: Option<Bearer>,
}

impl SendPipe {
    /// True while an outcome is still to come.
    pub fn busy(&self) -> bool {
        !self.failed.is_empty()
            || !self.held.is_empty()
            || self.open.iter().any(|o| !o.waiting.is_empty())
    }

    /// Whether a send to `channel` waits on a stream to a core other than
    /// `node`.
    fn waits_elsewhere(&self, channel: u64, node: u64) -> bool {
        self.open
            .iter()
            .any(|o| o.node != node && o.waiting.iter().any(|w| w.req.channel_id == channel))
    }

    /// Sends the held sends whose turn has come, keeping each channel's order.
    fn release(&mut self, core: &CoreClient) {
        let mut still: VecDeque<Waiting> = VecDeque::new();
        for waiting in std::mem::take(&mut self.held) {
            let channel = waiting.req.channel_id;
            if still.iter().any(|h| h.req.channel_id == channel) {
                still.push_back(waiting);
                continue;
            }
            match core.owner(channel) {
                Some(node) if self.waits_elsewhere(channel, node) => still.push_back(waiting),
                Some(node) => self.push(core, node, waiting),
                None => self
                    .failed
                    .push_back(unavailable(waiting.req.client_msg_id)),
            }
        }
        self.held = still;
    }

    /// Sends `req` after every earlier send of this pipe to its channel; a
    /// stream opened for it carries `bearer`, on whose behalf every send is
    /// made.
    pub fn send(&mut self, core: &CoreClient, bearer: &Bearer, req: SendMessageRequest) {
        if self.bearer.is_none() {
            self.bearer = Some(bearer.clone());
        }
        let waiting = Waiting {
            req,
            sent: Instant::now(),
            moved: 0,
        };
        let channel = waiting.req.channel_id;
        match core.owner(channel) {
            Some(node)
                if self.waits_elsewhere(channel, node)
                    || self.held.iter().any(|h| h.req.channel_id == channel) =>
            {
                self.held.push_back(waiting);
            }
            Some(node) => self.push(core, node, waiting),
            None => self
                .failed
                .push_back(unavailable(waiting.req.client_msg_id)),
        }
    }

    /// Puts `waiting` on the stream to `node`, opening one if needed.
    fn push(&mut self, core: &CoreClient, node: u64, waiting: Waiting) {
        if let Some(i) = self.open.iter().position(|o| o.node == node)
            && self.open[i].tx.is_closed()
        {
            // The stream ended (the core let go of it, or the link broke)
            // before `next` saw its end: give it up here, so this send goes
            // on a fresh stream instead of failing.
            self.abandon(i);
        }
        let i = match self.open.iter().position(|o| o.node == node) {
            Some(i) => i,
            None => {
                let Some(bearer) = &self.bearer else {
                    self.failed
                        .push_back(unavailable(waiting.req.client_msg_id));
                    return;
                };
                match open(core, bearer, node) {
                    Some(open) => self.open.push(open),
                    None => {
                        self.failed
                            .push_back(unavailable(waiting.req.client_msg_id));
                        return;
                    }
                }
                self.open.len() - 1
            }
        };
        let open = &mut self.open[i];
        if open.tx.try_send(waiting.req.clone()).is_err() {
            // More than CAPACITY in flight, which the session's own limit
            // prevents, or a stream that has ended: refuse, the client retries.
            self.failed
                .push_back(unavailable(waiting.req.client_msg_id));
            return;
        }
        open.waiting.push_back(waiting);
    }

    /// The next outcome; pending while none is due (check [`busy`](Self::busy)).
    pub async fn next(&mut self, core: &CoreClient) -> CallResult {
        loop {
            self.release(core);
            if let Some(failed) = self.failed.pop_front() {
                return failed;
            }
            let budget = core.link.call_timeout();
            let Some(deadline) = self
                .open
                .iter()
                .filter_map(|o| o.waiting.front().map(|w| w.sent + budget))
                .min()
            else {
                return std::future::pending().await;
            };
            let ready = std::future::poll_fn(|cx| {
                for (i, open) in self.open.iter_mut().enumerate() {
                    if open.waiting.is_empty() {
                        continue;
                    }
                    if let Poll::Ready(item) = open.outcomes.poll_next_unpin(cx) {
                        return Poll::Ready((i, item));
                    }
                }
                Poll::Pending
            });
            match tokio::time::timeout_at(deadline, ready).await {
                Ok((i, Some(Ok(outcome)))) => {
                    if let Some(done) = self.outcome(core, i, outcome) {
                        return done;
                    }
                }
                // Broken.
                Ok((i, Some(Err(_)) | None)) => self.abandon(i),
                // Silent past the deadline: give up the streams that are.
                Err(_) => {
                    let now = Instant::now();
                    while let Some(i) = self
                        .open
                        .iter()
                        .position(|o| o.waiting.front().is_some_and(|w| w.sent + budget <= now))
                    {
                        self.abandon(i);
                    }
                }
            }
        }
    }

    /// Takes the outcome of stream `i`'s first send: its result, or `None`
    /// when it went again to another core.
    fn outcome(&mut self, core: &CoreClient, i: usize, outcome: SendOutcome) -> Option<CallResult> {
        let open = &mut self.open[i];
        let node = open.node;
        let waiting = open.waiting.pop_front()?;
        if open.waiting.is_empty() {
            // Nothing left to wait for: end the stream; the next send
            // opens another.
            self.open.remove(i);
        }
        let refused = matches!(&outcome.result,
            Some(send_outcome::Result::Error(e)) if e.code == "not_owner");
        if refused
            && waiting.moved < MOVES
            && let Some(owner) = core.owner(waiting.req.channel_id)
            && owner != node
        {
            metrics::counter!("chat_core_call_moves_total").increment(1);
            let moved = Waiting {
                moved: waiting.moved + 1,
                ..waiting
            };
            self.push(core, owner, moved);
            return None;
        }
        Some(CallResult::Sent {
            client_msg_id: waiting.req.client_msg_id,
            result: result(outcome).map_err(Into::into),
        })
    }

    /// Drops broken stream `i`: every send still waiting on it fails, and
    /// the client sends it again (same client_msg_id, so nothing is stored
    /// twice).
    fn abandon(&mut self, i: usize) {
        metrics::counter!("chat_core_send_stream_failures_total").increment(1);
        let open = self.open.remove(i);
        self.failed.extend(
            open.waiting
                .into_iter()
                .map(|w| unavailable(w.req.client_msg_id)),
        );
    }
}

fn open(core: &CoreClient, bearer: &Bearer, node: u64) -> Option<Open> {
    let (tx, rx) = mpsc::channel(CAPACITY);
    let mut grpc = core.node(node)?;
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
    Some(Open {
        node,
        tx,
        outcomes,
        waiting: VecDeque::new(),
    })
}

fn unavailable(client_msg_id: String) -> CallResult {
    CallResult::Sent {
        client_msg_id,
        result: Err(CallError::new(
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use chat_proto::v1::{SendMessageReply, SendMessageRequest, SendOutcome, send_outcome};
    use futures::stream::{BoxStream, StreamExt};
    use tonic::codegen::{BoxFuture, Service, http};
    use tonic::server::{Grpc, NamedService, StreamingService};
    use tonic::transport::server::TcpIncoming;
    use tonic::{Request, Response, Status, Streaming};

    use std::sync::{Arc, Mutex};

    use chat_discovery::ownership::owner;
    use chat_discovery::{Member, Members, NodeInfo, NodeKind};
    use chat_proto::v1::CallError;
    use tokio::sync::{Semaphore, watch};

    use super::SendPipe;
    use crate::core_client::{CoreClient, CoreLinkConfig, Directory};
    use crate::protocol::CallResult;

    /// Longest any step may take.
    const STEP: Duration = Duration::from_secs(10);

    /// A core serving only `SendStream` on loopback TCP: it answers each
    /// send, and ends the stream right after answering `"last"`, leaving
    /// the sends behind it unread (as a core that lets go of a stream does).
    /// It logs each send it reads; one that refuses answers each `not_owner`,
    /// once the test gives it a permit.
    #[derive(Clone, Default)]
    struct Core {
        log: Arc<Mutex<Vec<String>>>,
        refuse: Option<Arc<Semaphore>>,
    }

    impl NamedService for Core {
        const NAME: &'static str = "chat.core.v1.ChatCore";
    }

    impl Service<http::Request<tonic::body::Body>> for Core {
        type Response = http::Response<tonic::body::Body>;
        type Error = Infallible;
        type Future = BoxFuture<Self::Response, Infallible>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
            let sends = Sends(self.clone());
            Box::pin(async move {
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.streaming(sends, req).await)
            })
        }
    }

    struct Sends(Core);

    impl StreamingService<SendMessageRequest> for Sends {
        type Response = SendOutcome;
        type ResponseStream = BoxStream<'static, Result<SendOutcome, Status>>;
        type Future = BoxFuture<Response<Self::ResponseStream>, Status>;

        fn call(&mut self, req: Request<Streaming<SendMessageRequest>>) -> Self::Future {
            let core = self.0.clone();
            let state = Some((req.into_inner(), core));
            let outcomes = futures::stream::unfold(state, |state| async move {
                let (mut sends, core) = state?;
                let send = sends.next().await?.ok()?;
                core.log
                    .lock()
                    .expect("log")
                    .push(send.client_msg_id.clone());
                if let Some(permits) = &core.refuse {
                    permits.acquire().await.ok()?.forget();
                    let refused = SendOutcome {
                        result: Some(send_outcome::Result::Error(CallError {
                            grpc_code: tonic::Code::Unavailable as i32,
                            code: "not_owner".into(),
                            message: "not the owner".into(),
                            retry_after_ms: 0,
                        })),
                    };
                    return Some((Ok(refused), Some((sends, core))));
                }
                let last = send.client_msg_id == "last";
                let outcome = SendOutcome {
                    result: Some(send_outcome::Result::Sent(SendMessageReply {
                        message: Some(chat_proto::v1::Message {
                            id: 1,
                            channel_id: send.channel_id,
                            client_msg_id: send.client_msg_id,
                            text: send.text,
                            ..Default::default()
                        }),
                        duplicate: false,
                    })),
                };
                // Dropping the request stream lets go of it.
                Some((Ok(outcome), (!last).then_some((sends, core))))
            });
            Box::pin(async move { Ok(Response::new(outcomes.boxed())) })
        }
    }

    /// Serves `core` on loopback; its address.
    fn serve(core: Core) -> SocketAddr {
        let incoming = TcpIncoming::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
        let addr = incoming.local_addr().expect("local addr");
        let server = tonic::transport::Server::builder()
            .add_service(core)
            .serve_with_incoming(incoming);
        tokio::spawn(server);
        addr
    }

    async fn core() -> CoreClient {
        let addr = serve(Core::default());
        let link = CoreLinkConfig {
            url: format!("http://{addr}"),
            ..CoreLinkConfig::default()
        };
        CoreClient::connect(link).expect("client")
    }

    fn member(id: u64, addr: SocketAddr) -> Member {
        Member {
            id,
            epoch: id,
            info: NodeInfo::new(NodeKind::Core, "test").with_addr("grpc", addr.to_string()),
        }
    }

    fn send(client_msg_id: &str) -> SendMessageRequest {
        SendMessageRequest {
            actor_id: 7,
            channel_id: 5,
            text: "hi".into(),
            client_msg_id: client_msg_id.into(),
            origin_session: 1,
        }
    }

    async fn next(pipe: &mut SendPipe, core: &CoreClient) -> (String, bool) {
        match tokio::time::timeout(STEP, pipe.next(core)).await {
            Ok(CallResult::Sent {
                client_msg_id,
                result,
            }) => (client_msg_id, result.is_ok()),
            Ok(other) => panic!("not a send's result: {other:?}"),
            Err(_) => panic!("no outcome in time"),
        }
    }

    /// A send after the core let go of the stream, but before the pipe
    /// read the stream's end, goes on a fresh stream and is stored; it
    /// used to fail with `unavailable` on the ended one.
    #[tokio::test]
    async fn a_send_after_the_stream_ended_opens_a_fresh_one() {
        let core = core().await;
        let mut pipe = SendPipe::default();
        let bearer = crate::core_client::Bearer::new("token").expect("a printable token");
        pipe.send(&core, &bearer, send("last"));
        pipe.send(&core, &bearer, send("unread"));
        assert_eq!(next(&mut pipe, &core).await, ("last".into(), true));
        // The core has let go of the stream: the edge's end sees it closed.
        let tx = pipe.open.first().expect("a stream is open").tx.clone();
        tokio::time::timeout(STEP, tx.closed())
            .await
            .expect("the ended stream is closed in time");

        pipe.send(&core, &bearer, send("after"));
        let mut results = Vec::new();
        while pipe.busy() {
            results.push(next(&mut pipe, &core).await);
        }
        assert_eq!(
            results,
            [("unread".into(), false), ("after".into(), true)],
            "the unread send fails (the client sends it again), the next one is stored"
        );
    }

    /// Waits until `log` holds `id`, driving `pipe` meanwhile (a stream
    /// sends only while its outcomes are read).
    async fn until_logged(
        pipe: &mut SendPipe,
        core: &CoreClient,
        log: &Mutex<Vec<String>>,
        id: &str,
    ) {
        let logged = async {
            while !log.lock().expect("log").iter().any(|s| s == id) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(STEP, logged) => {}
            result = pipe.next(core) => panic!("no outcome was due yet: {result:?}"),
        }
    }

    /// A send refused `not_owner` goes again to the new owner, and the
    /// send after it to the same channel waits for it instead of reaching
    /// the new owner first: the channel keeps the session's order.
    #[tokio::test]
    async fn a_channel_keeps_its_order_when_its_owner_changes_under_a_send() {
        let old_core = Core {
            refuse: Some(Arc::new(Semaphore::new(0))),
            ..Core::default()
        };
        let new_core = Core::default();
        let (old_addr, new_addr) = (serve(old_core.clone()), serve(new_core.clone()));
        // Ids such that the old core owns channel 5 while both are live.
        let (old_id, new_id) = if owner(5, &[1, 2]) == Some(1) {
            (1, 2)
        } else {
            (2, 1)
        };
        let mut both = vec![member(old_id, old_addr), member(new_id, new_addr)];
        both.sort_by_key(|m| m.id);
        let (view, members) = watch::channel(Members {
            version: 1,
            nodes: both,
        });
        let link = CoreLinkConfig::default();
        let core = CoreClient::cluster(Arc::new(Directory::new(members, link.clone())), link);
        let bearer = crate::core_client::Bearer::new("token").expect("a printable token");
        let mut pipe = SendPipe::default();

        pipe.send(&core, &bearer, send("first"));
        until_logged(&mut pipe, &core, &old_core.log, "first").await;
        // The old core leaves the view while it holds the first send.
        view.send_replace(Members {
            version: 2,
            nodes: vec![member(new_id, new_addr)],
        });
        pipe.send(&core, &bearer, send("second"));
        old_core.refuse.as_ref().expect("refuses").add_permits(1);
        let mut results = Vec::new();
        while pipe.busy() {
            results.push(next(&mut pipe, &core).await);
        }
        assert_eq!(results, [("first".into(), true), ("second".into(), true)]);
        assert_eq!(
            *new_core.log.lock().expect("log"),
            ["first", "second"],
            "the new owner got them in the order sent"
        );
    }
}
