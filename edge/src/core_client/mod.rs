//! The edge's client of the core: the one place that turns the edge's
//! needs into gRPC calls. It owns each call's deadline, retries the calls
//! that are safe to repeat when the core could not be reached, and maps
//! failures to [`ApiError`]. The same client runs over TCP (cluster) and
//! over the in-memory link (single node), so both exercise the codec,
//! deadlines and transport errors.

mod bearer;
mod calls;
pub mod config;
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
use retry::Idempotence;

use crate::error::ApiError;

/// The core's calls on behalf of one user, who holds the bearer token.
#[derive(Clone, Copy)]
pub struct AsUser<'a> {
    core: &'a CoreClient,
    bearer: &'a Bearer,
}

/// A handle to the core; cheap to clone, all clones share one connection.
#[derive(Clone)]
pub struct CoreClient {
    grpc: ChatCoreClient<Channel>,
    link: Arc<CoreLinkConfig>,
}

impl CoreClient {
    /// A client over `channel` (see [`chat_proto::link::memory::link`]).
    pub fn over(channel: Channel, link: CoreLinkConfig) -> Self {
        let grpc = ChatCoreClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Self {
            grpc,
            link: Arc::new(link),
        }
    }

    /// A client of the core at `link.url`. Connects lazily and reconnects
    /// by itself; HTTP/2 keepalive notices a dead core.
    pub fn connect(link: CoreLinkConfig) -> Result<Self, ApiError> {
        let invalid = |e: &dyn std::fmt::Display| {
            ApiError::new(500, "invalid_config", format!("edge.core: {e}"))
        };
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
        Ok(Self::over(endpoint.connect_lazy(), link))
    }

    /// The calls made on behalf of the holder of `bearer`.
    pub fn as_user<'a>(&'a self, bearer: &'a Bearer) -> AsUser<'a> {
        AsUser { core: self, bearer }
    }

    /// Opens the edge's event stream, sending it `commands` (`hello`
    /// first); no deadline: it lives as long as the link.
    pub async fn subscribe(
        &self,
        commands: tokio::sync::mpsc::UnboundedReceiver<EdgeCommand>,
    ) -> Result<EventStream, ApiError> {
        let mut grpc = self.grpc.clone();
        let commands = tokio_stream::wrappers::UnboundedReceiverStream::new(commands);
        let stream = grpc
            .subscribe(Request::new(commands))
            .await
            .map_err(with_causes)?
            .into_inner();
        Ok(Box::pin(stream) as EventStream)
    }

    /// Runs one unary call within the call budget, retrying it while the
    /// core is unreachable if `idempotence` allows; with `bearer`, on
    /// behalf of its user.
    async fn unary<Req, Rep, F, Fut>(
        &self,
        idempotence: Idempotence,
        bearer: Option<&Bearer>,
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
        let mut attempt = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut request = Request::new(req.clone());
            // Sent as `grpc-timeout`, so the core gives up when we do.
            request.set_timeout(remaining);
            if let Some(bearer) = bearer {
                bearer.attach(&mut request);
            }
            let status =
                match tokio::time::timeout(remaining, call(self.grpc.clone(), request)).await {
                    Ok(Ok(reply)) => return Ok(reply.into_inner()),
                    Ok(Err(status)) => status,
                    Err(_) => Status::deadline_exceeded("the core did not answer in time"),
                };
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
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
