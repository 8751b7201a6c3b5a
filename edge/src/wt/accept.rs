//! The WebTransport endpoint: binds UDP, accepts sessions at [`super::PATH`]
//! under the same connection limit and drain as WebSocket, and replaces a
//! self-signed certificate before it expires.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use tokio::time::Instant;

use wtransport::VarInt as WtVarInt;
use wtransport::endpoint::IncomingSession;
use wtransport::endpoint::endpoint_side::Server;
use wtransport::quinn::{TransportConfig, VarInt};
use wtransport::{Endpoint, ServerConfig};

use super::identity::Certified;
use super::{Advert, PATH, WtError, WtLink, hex};
use crate::Edge;
use crate::link::Driver;

/// Streams a client may open at once: the HTTP/3 CONNECT request and the
/// chat stream, with room to spare. Streams beyond the chat stream are
/// never read, so their number and buffers are kept small.
const BIDI_STREAMS: u32 = 4;
/// Unidirectional streams a client may open (HTTP/3 control and QPACK).
const UNI_STREAMS: u32 = 8;
/// Bytes a client may send on one stream ahead of the server's reading.
const STREAM_WINDOW: u32 = 256 << 10;
/// Bytes a client may send on one connection ahead of the server's reading.
const CONNECTION_WINDOW: u32 = 512 << 10;
/// Bytes the server buffers for a client that reads slowly; beyond it a
/// write waits, and the session's outbound queue decides (4008).
const SEND_WINDOW: u64 = 1 << 20;
/// Datagrams held for reading (none are read yet; small so they cost little).
const DATAGRAM_BUFFER: usize = 16 << 10;
/// How soon a failed certificate renewal is tried again.
const RENEW_RETRY: Duration = Duration::from_secs(3600);

/// Binds the UDP socket for an edge whose HTTP listens on `http`, starts
/// accepting sessions on the edge's tracker, and publishes the advert.
pub async fn start(edge: &Arc<Edge>, http: SocketAddr) -> Result<SocketAddr, WtError> {
    let cfg = &edge.config.webtransport;
    let certified = Certified::load(cfg).await?;
    let socket = bind(
        cfg.listen_addr(http),
        cfg.listen.is_none() && http.port() == 0,
    )?;
    let addr = socket.local_addr().map_err(|source| WtError::Bind {
        addr: cfg.listen_addr(http),
        source,
    })?;
    let endpoint = Endpoint::server(server_config(edge, &certified, Some(socket))?)
        .map_err(|source| WtError::Bind { addr, source })?;
    edge.webtransport.set(advert(addr, &certified));
    tracing::info!(%addr, hash = %hex(&certified.hash), "WebTransport listening");
    edge.tracker
        .spawn(accept_loop(edge.clone(), endpoint, addr, certified));
    Ok(addr)
}

/// Binds `addr`; when the HTTP port was chosen by the system (port 0) and
/// the same number is taken on UDP, any free port will do.
fn bind(addr: SocketAddr, any_port: bool) -> Result<UdpSocket, WtError> {
    match UdpSocket::bind(addr) {
        Err(e) if any_port && e.kind() == std::io::ErrorKind::AddrInUse => {
            UdpSocket::bind(SocketAddr::new(addr.ip(), 0))
        }
        other => other,
    }
    .map_err(|source| WtError::Bind { addr, source })
}

/// The QUIC settings: the edge's configuration and the stream limits above.
fn server_config(
    edge: &Edge,
    certified: &Certified,
    socket: Option<UdpSocket>,
) -> Result<ServerConfig, WtError> {
    let cfg = &edge.config.webtransport;
    let mut transport = TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(BIDI_STREAMS))
        .max_concurrent_uni_streams(VarInt::from_u32(UNI_STREAMS))
        .stream_receive_window(VarInt::from_u32(STREAM_WINDOW))
        .receive_window(VarInt::from_u32(CONNECTION_WINDOW))
        .send_window(SEND_WINDOW)
        .datagram_receive_buffer_size(Some(DATAGRAM_BUFFER));
    let keep_alive =
        (cfg.keep_alive_interval_ms > 0).then(|| Duration::from_millis(cfg.keep_alive_interval_ms));
    let identity = certified.identity.clone_identity();
    // The socket is bound once; a reload (a new certificate) keeps it.
    let builder = match socket {
        Some(socket) => ServerConfig::builder().with_bind_socket(socket),
        None => ServerConfig::builder().with_bind_default(0),
    };
    builder
        .with_custom_transport(identity, transport)
        .max_idle_timeout(Some(Duration::from_millis(cfg.max_idle_timeout_ms)))
        .map_err(|_| WtError::Certificate("QUIC idle timeout out of range".into()))
        .map(|b| {
            b.keep_alive_interval(keep_alive)
                .allow_migration(cfg.allow_migration)
                .build()
        })
}

fn advert(addr: SocketAddr, certified: &Certified) -> Advert {
    let expires_at_ms = certified.expires.map(|at| {
        at.duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    });
    Advert::new(addr, certified.hash, expires_at_ms)
}

/// Accepts until the edge shuts down, renewing a self-signed certificate
/// on time. Sessions live on after it stops: they say goodbye themselves.
async fn accept_loop(
    edge: Arc<Edge>,
    endpoint: Endpoint<Server>,
    addr: SocketAddr,
    certified: Certified,
) {
    let mut renew_at = certified.renew_in().map(|wait| Instant::now() + wait);
    loop {
        let renewal = async {
            match renew_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = edge.shutdown.cancelled() => return,
            incoming = endpoint.accept() => {
                edge.tracker.spawn(session(edge.clone(), incoming));
            }
            _ = renewal => match renewed(&edge, &endpoint) {
                Ok(next) => {
                    edge.webtransport.set(advert(addr, &next));
                    tracing::info!(hash = %hex(&next.hash), "WebTransport certificate renewed");
                    renew_at = next.renew_in().map(|wait| Instant::now() + wait);
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not renew the WebTransport certificate");
                    // The current one is still valid for a day: retry hourly.
                    renew_at = Some(Instant::now() + RENEW_RETRY);
                }
            },
        }
    }
}

/// A fresh self-signed certificate, installed for new connections.
fn renewed(edge: &Edge, endpoint: &Endpoint<Server>) -> Result<Certified, WtError> {
    let next = Certified::self_signed(&edge.config.webtransport)?;
    let config = server_config(edge, &next, None)?;
    endpoint
        .reload_config(config, false)
        .map_err(|e| WtError::Certificate(format!("installing the renewed certificate: {e}")))?;
    Ok(next)
}

/// Takes one incoming session to a running protocol session, or refuses
/// it: a wrong path gets 404, a draining or full edge 429.
async fn session(edge: Arc<Edge>, incoming: IncomingSession) {
    let wait = edge.session_config.hello_timeout;
    let request = match tokio::time::timeout(wait, incoming).await {
        Ok(Ok(request)) => request,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "WebTransport handshake failed");
            return;
        }
        Err(_) => return,
    };
    let path = request.path().split('?').next().unwrap_or_default();
    if path != PATH {
        metrics::counter!("chat_wt_refused_total", "reason" => "not_found").increment(1);
        request.not_found().await;
        return;
    }
    if edge.is_draining() {
        metrics::counter!("chat_wt_refused_total", "reason" => "shutting_down").increment(1);
        request.too_many_requests().await;
        return;
    }
    let Ok(permit) = edge.connections.clone().try_acquire_owned() else {
        metrics::counter!("chat_wt_refused_total", "reason" => "too_many_connections").increment(1);
        request.too_many_requests().await;
        return;
    };
    let connection = match request.accept().await {
        Ok(connection) => connection,
        Err(e) => {
            tracing::debug!(error = %e, "WebTransport session not established");
            return;
        }
    };
    // The client opens the chat stream first; until then there is no session.
    let stream = tokio::select! {
        stream = connection.accept_bi() => stream,
        _ = tokio::time::sleep(wait) => {
            connection.close(WtVarInt::from_u32(4002), b"no chat stream in time");
            return;
        }
    };
    let Ok(stream) = stream else { return };
    let link = WtLink::new(connection, stream, &edge.config);
    Driver::run(edge, link, permit).await;
}
