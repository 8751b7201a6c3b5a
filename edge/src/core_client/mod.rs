//! The edge's client of the core: the one place that turns the edge's
//! needs into gRPC calls. It owns each call's deadline, retries the calls
//! that are safe to repeat when the core could not be reached, and maps
//! failures to [`ApiError`]. The same client runs over TCP (cluster) and
//! over the in-memory link (single node), so both exercise the codec,
//! deadlines and transport errors.

mod bearer;
mod calls;
mod cluster_caches;
pub mod config;
pub mod directory;
mod presence;
pub mod retry;
mod send_pipe;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use chat_proto::EventStream;
use chat_proto::link::{MAX_MESSAGE_BYTES, tuning};
use chat_proto::v1::EdgeCommand;
use chat_proto::v1::chat_core_client::ChatCoreClient;
use tokio::time::Instant;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Response, Status};

pub use bearer::Bearer;
pub use config::CoreLinkConfig;
pub use directory::Directory;
use retry::Idempotence;

use crate::error::ApiError;

/// The core's calls on behalf of one user, who holds the bearer token.
#[derive(Clone, Copy)]
pub struct AsUser<'a> {
    core: &'a CoreClient,
    bearer: &'a Bearer,
}

/// The node id of the one core of a single node or a cluster without
/// ZooKeeper.
pub const SOLE_CORE: u64 = 0;

/// What decides which core a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Any core can answer (accounts, tokens, lookups by user).
    Any,
    /// The owner of this channel answers (its messages, members, reads).
    Channel(u64),
    /// The home of this user answers (the owner of their id): their
    /// sessions, presence, invisibility and settings.
    User(u64),
    /// The one core, the owner of [`GLOBAL_KEY`], that keeps the login
    /// limits (so every login counts against one limit) and orders
    /// relationship changes (so two users' requests cannot cross).
    Global,
}

/// The key whose owner answers [`Key::Global`] calls.
pub use chat_proto::GLOBAL_KEY;

/// A handle to the core (or the cores); cheap to clone, all clones share
/// the connections.
#[derive(Clone)]
pub struct CoreClient {
    route: Route,
    link: Arc<CoreLinkConfig>,
}

#[derive(Clone)]
enum Route {
    /// One core, for everything.
    One(ChatCoreClient<Channel>),
    /// Many, each call to the one that owns its key.
    Cluster(Arc<Directory>),
}

/// A gRPC client of the core at `link.url`, connecting lazily.
fn grpc_client(link: &CoreLinkConfig) -> Result<ChatCoreClient<Channel>, ApiError> {
    let invalid =
        |e: &dyn std::fmt::Display| ApiError::new(500, "invalid_config", format!("edge.core: {e}"));
    link.check_tls().map_err(|e| invalid(&e))?;
    let mut endpoint = Endpoint::from_shared(link.url.clone()).map_err(|e| invalid(&e))?;
    endpoint = tuning::endpoint(endpoint)
        .connect_timeout(Duration::from_millis(link.connect_timeout_ms))
        .http2_keep_alive_interval(Duration::from_millis(link.keepalive_interval_ms))
        .keep_alive_timeout(Duration::from_millis(link.keepalive_timeout_ms))
        .keep_alive_while_idle(true);
    if let Some(ca) = &link.tls_ca {
        let pem = std::fs::read(ca).map_err(|e| invalid(&format!("tls_ca {ca}: {e}")))?;
        let mut tls =
            ClientTlsConfig::new().ca_certificate(tonic::transport::Certificate::from_pem(pem));
        if let Some(domain) = &link.tls_domain {
            tls = tls.domain_name(domain.clone());
        }
        endpoint = endpoint.tls_config(tls).map_err(|e| invalid(&e))?;
    }
    Ok(limits(ChatCoreClient::new(endpoint.connect_lazy())))
}

fn limits(client: ChatCoreClient<Channel>) -> ChatCoreClient<Channel> {
    client
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

impl CoreClient {
    /// A client over `channel` (see [`chat_proto::link::memory::link`]).
    pub fn over(channel: Channel, link: CoreLinkConfig) -> Self {
        Self {
            route: Route::One(limits(ChatCoreClient::new(channel))),
            link: Arc::new(link),
        }
    }

    /// A client of the core at `link.url`. Connects lazily and reconnects
    /// by itself; HTTP/2 keepalive notices a dead core.
    pub fn connect(link: CoreLinkConfig) -> Result<Self, ApiError> {
        Ok(Self {
            route: Route::One(grpc_client(&link)?),
            link: Arc::new(link),
        })
    }

    /// A client of the live cores `directory` lists, each call sent to the
    /// owner of its key.
    pub fn cluster(directory: Arc<Directory>, link: CoreLinkConfig) -> Self {
        Self {
            route: Route::Cluster(directory),
            link: Arc::new(link),
        }
    }

    /// The live cores' list, in a cluster.
    pub fn directory(&self) -> Option<&Arc<Directory>> {
        match &self.route {
            Route::One(_) => None,
            Route::Cluster(directory) => Some(directory),
        }
    }

    /// The ids of the cores that are live now ([`SOLE_CORE`] alone
    /// without a cluster).
    pub fn nodes(&self) -> Vec<u64> {
        match &self.route {
            Route::One(_) => vec![SOLE_CORE],
            Route::Cluster(directory) => directory.ids(),
        }
    }

    /// The core that owns `key` now, if one is live.
    pub fn owner(&self, key: u64) -> Option<u64> {
        match &self.route {
            Route::One(_) => Some(SOLE_CORE),
            Route::Cluster(directory) => directory.owner(key),
        }
    }

    /// A client of core `node`, if it is live.
    fn node(&self, node: u64) -> Option<ChatCoreClient<Channel>> {
        match &self.route {
            Route::One(grpc) => Some(grpc.clone()),
            Route::Cluster(directory) => directory.client(node),
        }
    }

    /// The core for `key`, or the `hint` a core named, if it is live.
    fn pick(&self, key: Key, hint: Option<u64>) -> Option<(u64, ChatCoreClient<Channel>)> {
        let directory = match &self.route {
            Route::One(grpc) => return Some((SOLE_CORE, grpc.clone())),
            Route::Cluster(directory) => directory,
        };
        let node = match (hint, key) {
            (Some(hint), _) if directory.is_live(hint) => hint,
            (_, Key::Channel(id) | Key::User(id)) => directory.owner(id)?,
            (_, Key::Global) => directory.owner(GLOBAL_KEY)?,
            (_, Key::Any) => {
                let ids = directory.ids();
                let n = ids.len();
                if n == 0 {
                    return None;
                }
                ids[rand::random_range(0..n)]
            }
        };
        Some((node, directory.client(node)?))
    }

    /// The calls made on behalf of the holder of `bearer`.
    pub fn as_user<'a>(&'a self, bearer: &'a Bearer) -> AsUser<'a> {
        AsUser { core: self, bearer }
    }

    /// Opens the edge's event stream from core `node`, sending it
    /// `commands` (`hello` first); no deadline: it lives as long as the link.
    pub async fn subscribe(
        &self,
        node: u64,
        commands: tokio::sync::mpsc::UnboundedReceiver<EdgeCommand>,
    ) -> Result<EventStream, ApiError> {
        let mut grpc = self
            .node(node)
            .ok_or_else(|| ApiError::new(503, "unavailable", format!("core {node} is not live")))?;
        let commands = tokio_stream::wrappers::UnboundedReceiverStream::new(commands);
        let stream = grpc
            .subscribe(Request::new(commands))
            .await
            .map_err(with_causes)?
            .into_inner();
        Ok(Box::pin(stream) as EventStream)
    }

    /// Runs one unary call within the call budget at the core for `key`,
    /// retrying it while the core is unreachable if `idempotence` allows,
    /// and at the owner a core names when it answers `not_owner` (which
    /// did nothing, so any call may go again); with `bearer`, on behalf of
    /// its user.
    async fn unary<Req, Rep, F, Fut>(
        &self,
        idempotence: Idempotence,
        bearer: Option<&Bearer>,
        key: Key,
        req: Req,
        call: F,
    ) -> Result<Rep, ApiError>
    where
        Req: Clone,
        F: Fn(ChatCoreClient<Channel>, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Rep>, Status>>,
    {
        let budget = self.link.call_timeout();
        let deadline = Instant::now() + budget;
        let backoff = Duration::from_millis(self.link.retry_backoff_ms);
        let (mut attempt, mut moved, mut hint) = (0, 0, None);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let status = match self.pick(key, hint.take()) {
                Some((_, grpc)) => {
                    let mut request = Request::new(req.clone());
                    // Sent as `grpc-timeout`, so the core gives up when we do.
                    request.set_timeout(remaining);
                    if let Some(bearer) = bearer {
                        bearer.attach(&mut request);
                    }
                    match tokio::time::timeout(remaining, call(grpc, request)).await {
                        Ok(Ok(reply)) => return Ok(reply.into_inner()),
                        Ok(Err(status)) => status,
                        Err(_) => Status::deadline_exceeded("the core did not answer in time"),
                    }
                }
                None => Status::unavailable("no core is live"),
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if retry::not_owner(&status) {
                // Views of the membership converge within a ZooKeeper
                // notification: try the owner named, then our own view's.
                hint = retry::owner_named(&status);
                moved += 1;
                if let Some(pause) = retry::moved_pause(moved, backoff, remaining) {
                    metrics::counter!("chat_core_call_moves_total").increment(1);
                    tokio::time::sleep(pause).await;
                    continue;
                }
                return Err(status.into());
            }
            attempt += 1;
            let pause = (idempotence == Idempotence::Safe && retry::unreachable(&status))
                .then(|| retry::backoff(attempt, self.link.retries, backoff, remaining))
                .flatten();
            match pause {
                Some(pause) => {
                    metrics::counter!("chat_core_call_retries_total").increment(1);
                    tokio::time::sleep(pause).await;
                }
                None => {
                    if retry::unreachable(&status) || status.code() == tonic::Code::DeadlineExceeded
                    {
                        metrics::counter!("chat_core_call_failures_total").increment(1);
                    }
                    return Err(status.into());
                }
            }
        }
    }

    /// Runs one unary call at every live core (the edge's interest, which
    /// each core needs for the events it publishes); fails if one fails.
    async fn everywhere<Req, Rep, F, Fut>(&self, req: Req, call: F) -> Result<(), ApiError>
    where
        Req: Clone,
        F: Fn(ChatCoreClient<Channel>, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Rep>, Status>>,
    {
        for node in self.nodes() {
            self.to_node(node, None, req.clone(), &call).await?;
        }
        Ok(())
    }

    /// Runs one unary call at core `node`, retrying while it is unreachable;
    /// with `bearer`, on behalf of its user.
    async fn to_node<Req, Rep, F, Fut>(
        &self,
        node: u64,
        bearer: Option<&Bearer>,
        req: Req,
        call: &F,
    ) -> Result<Rep, ApiError>
    where
        Req: Clone,
        F: Fn(ChatCoreClient<Channel>, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Rep>, Status>>,
    {
        let deadline = Instant::now() + self.link.call_timeout();
        let backoff = Duration::from_millis(self.link.retry_backoff_ms);
        let mut attempt = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let grpc = self
                .node(node)
                .ok_or_else(|| ApiError::new(503, "unavailable", format!("core {node} left")))?;
            let mut request = Request::new(req.clone());
            request.set_timeout(remaining);
            if let Some(bearer) = bearer {
                bearer.attach(&mut request);
            }
            let status = match tokio::time::timeout(remaining, call(grpc, request)).await {
                Ok(Ok(reply)) => return Ok(reply.into_inner()),
                Ok(Err(status)) => status,
                Err(_) => Status::deadline_exceeded("the core did not answer in time"),
            };
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            match retry::unreachable(&status)
                .then(|| retry::backoff(attempt, self.link.retries, backoff, remaining))
                .flatten()
            {
                Some(pause) => tokio::time::sleep(pause).await,
                None => return Err(status.into()),
            }
        }
    }
}

/// `status` as an error whose message goes on with the causes of a
/// transport failure (a certificate the TLS handshake refused, a refused
/// connection), which the status's own message ("transport error") leaves
/// out. Only for the operator's eyes: the edge's start, not clients.
fn with_causes(status: Status) -> ApiError {
    let mut message = status.message().to_owned();
    let mut source = std::error::Error::source(&status);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Each layer tends to repeat the one below in its own text.
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    let mut error = ApiError::from(status);
    error.message = message;
    error
}
