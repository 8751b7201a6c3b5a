//! The single-node link: the core's gRPC service served over in-memory
//! pipes, so the edge speaks to it through the same client, codec and
//! HTTP/2 as over TCP.

use std::convert::Infallible;

use crate::v1::chat_core_server::{ChatCore, ChatCoreServer};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::codegen::http::{Request, Response};
use tonic::transport::{Channel, Endpoint, Server, Uri};
use tower::Service;

use super::{MAX_MESSAGE_BYTES, tuning};

/// Bytes each direction of an in-memory connection buffers.
const PIPE_BYTES: usize = 1 << 20;

/// Serves `service` in memory until `stop` and returns a channel to it;
/// the returned future is the server, to be spawned and awaited.
pub fn link<S>(
    service: ChatCoreServer<S>,
    stop: CancellationToken,
) -> (Channel, impl Future<Output = ()> + Send + 'static)
where
    S: ChatCore,
    ChatCoreServer<S>: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    <ChatCoreServer<S> as Service<Request<Body>>>::Future: Send + 'static,
{
    let (pipes, incoming) = mpsc::channel::<tokio::io::DuplexStream>(4);
    let service = service
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let server = async move {
        let incoming = ReceiverStream::new(incoming).map(Ok::<_, std::io::Error>);
        let result = tuning::server(Server::builder())
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "in-memory core link failed");
        }
    };
    // Any URI will do: the connector below ignores it.
    let endpoint = tuning::endpoint(Endpoint::from_static("http://core.in-memory"));
    let channel = endpoint.connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
        let pipes = pipes.clone();
        async move {
            let (client, server) = tokio::io::duplex(PIPE_BYTES);
            pipes
                .send(server)
                .await
                .map_err(|_| std::io::Error::other("the in-memory core has stopped"))?;
            Ok::<_, std::io::Error>(TokioIo::new(client))
        }
    }));
    (channel, server)
}
