//! HTTP/2 settings of the edge–core link. Fan-out is one stream carrying
//! every event for an edge, so flow-control windows are wide; calls from
//! thousands of sessions share one connection, so streams are many.

use std::time::Duration;

use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};

/// Flow-control window of one HTTP/2 stream, in bytes.
const STREAM_WINDOW: u32 = 8 << 20;
/// Flow-control window of a whole connection, in bytes.
const CONNECTION_WINDOW: u32 = 32 << 20;
/// Concurrent calls one connection carries.
const MAX_STREAMS: u32 = 100_000;

/// Keepalive of a server's connections: how often it pings an idle peer
/// and how long it waits for the answer.
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    /// Ping interval.
    pub interval: Duration,
    /// Wait for the pong.
    pub timeout: Duration,
}

/// A server builder with the link's settings.
pub fn server(builder: Server) -> Server {
    builder
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_concurrent_streams(MAX_STREAMS)
        .tcp_nodelay(true)
}

/// The connections a server accepts on `listener`, with Nagle's algorithm
/// off. [`Server::tcp_nodelay`] applies only where tonic binds the port
/// itself, not to a listener handed in: left on, every small reply written
/// while an earlier one was unacknowledged waited for the edge's delayed
/// ACK, which put 20 to 40 ms on each acknowledged send in the cluster.
pub fn incoming(listener: tokio::net::TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// [`server`] that also pings its peers, so a dead edge is noticed.
pub fn server_with_keepalive(builder: Server, keepalive: Keepalive) -> Server {
    server(builder)
        .http2_keepalive_interval(Some(keepalive.interval))
        .http2_keepalive_timeout(Some(keepalive.timeout))
}

/// An endpoint with the link's settings.
pub fn endpoint(endpoint: Endpoint) -> Endpoint {
    endpoint
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true)
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt as _;

    #[tokio::test]
    async fn accepted_connections_send_without_delay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut incoming = super::incoming(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let accepted = incoming
            .next()
            .await
            .expect("a connection")
            .expect("accepted");
        assert!(accepted.nodelay().expect("nodelay"), "Nagle left on");
    }
}
