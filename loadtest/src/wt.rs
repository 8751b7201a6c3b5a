//! WebTransport for the load generator: wtransport's client, pinning the
//! certificate hash the server serves at `/webtransport/cert-hash`, and the
//! chat stream's frames (a 4-byte big-endian length, then the JSON, as
//! docs/protocol.md says) seen as tungstenite `Message`s. Every scenario
//! runs unchanged over either transport: [`WtSink`] is a `Sink<Message>`
//! and [`WtSource`] a `Stream` of `Message`s, with the server's in-band
//! `close` frame turned into a `Message::Close` carrying its code.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures::{Sink, Stream};
use tokio::sync::OnceCell;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use wtransport::endpoint::endpoint_side::Client;
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Connection, Endpoint, RecvStream, SendStream, VarInt};

use crate::client::STEP;

/// Client endpoints (UDP sockets) per source address, used in turn: one
/// endpoint's driver task carries every packet of its connections.
const ENDPOINTS: usize = 8;
/// QUIC keep-alives, well inside the server's idle timeout.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// The largest frame read, as the server's `edge.max_frame_bytes` allows.
const MAX_FRAME: usize = 1 << 20;

/// Where a server's WebTransport endpoint is, and the hash to pin.
#[derive(Clone)]
struct Located {
    addr: SocketAddr,
    hash: Sha256Digest,
}

/// Client endpoints shared by the connections to one server from one source.
type Pool = Vec<Arc<Endpoint<Client>>>;

/// What the process keeps between connections: located servers (each
/// asked once, however many connect at the same time) and client
/// endpoints, per (certificate, source).
#[derive(Default)]
struct Shared {
    located: HashMap<SocketAddr, Arc<OnceCell<Located>>>,
    endpoints: HashMap<(SocketAddr, Option<IpAddr>), Pool>,
}

static SHARED: Mutex<Option<Shared>> = Mutex::new(None);
static NEXT: AtomicUsize = AtomicUsize::new(0);

fn with_shared<T>(f: impl FnOnce(&mut Shared) -> T) -> T {
    let mut guard = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Shared::default))
}

/// Asks `http` (the server's TCP address) where its WebTransport endpoint
/// is and which certificate it presents.
async fn locate(http: SocketAddr) -> anyhow::Result<Located> {
    let cell = with_shared(|s| s.located.entry(http).or_default().clone());
    cell.get_or_try_init(|| ask(http)).await.cloned()
}

/// `GET /webtransport/cert-hash` of the server at `http`.
async fn ask(http: SocketAddr) -> anyhow::Result<Located> {
    let url = format!("http://{http}/webtransport/cert-hash");
    let resp = tokio::time::timeout(STEP, reqwest::get(&url)).await??;
    if !resp.status().is_success() {
        bail!(
            "GET {url}: {} (is WebTransport enabled on the server?)",
            resp.status()
        );
    }
    let body: serde_json::Value = resp.json().await?;
    let hex = body["hex"].as_str().context("cert-hash: no hex")?;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .context("cert-hash: hex")?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("cert-hash: not 32 bytes"))?;
    let port = body["port"].as_u64().context("cert-hash: no port")?;
    Ok(Located {
        addr: SocketAddr::new(http.ip(), u16::try_from(port)?),
        hash: Sha256Digest::new(bytes),
    })
}

/// The next client endpoint for `at` from `source`, made on first use.
fn endpoint(at: &Located, source: Option<IpAddr>) -> anyhow::Result<Arc<Endpoint<Client>>> {
    with_shared(|s| {
        let pool = s.endpoints.entry((at.addr, source)).or_default();
        if pool.len() < ENDPOINTS {
            let bind = SocketAddr::new(
                source.unwrap_or(if at.addr.is_ipv4() {
                    IpAddr::from([0, 0, 0, 0])
                } else {
                    IpAddr::from([0u16; 8])
                }),
                0,
            );
            let config = ClientConfig::builder()
                .with_bind_address(bind)
                .with_server_certificate_hashes([at.hash.clone()])
                .keep_alive_interval(Some(KEEP_ALIVE))
                .build();
            pool.push(Arc::new(Endpoint::client(config)?));
        }
        let i = NEXT.fetch_add(1, Ordering::Relaxed) % pool.len();
        Ok(pool[i].clone())
    })
}

/// Where the server whose HTTP listener is `http` takes WebTransport.
pub async fn udp_addr(http: SocketAddr) -> anyhow::Result<SocketAddr> {
    Ok(locate(http).await?.addr)
}

/// Opens a WebTransport session to the server whose HTTP listener is
/// `http`, from `source`, and its chat stream.
pub async fn open(http: SocketAddr, source: Option<IpAddr>) -> anyhow::Result<(WtSink, WtSource)> {
    let at = locate(http).await?;
    let udp = at.addr;
    open_via(at, source, udp).await
}

/// The same through `udp` (a relay to the server's endpoint, say).
pub async fn open_through(http: SocketAddr, udp: SocketAddr) -> anyhow::Result<(WtSink, WtSource)> {
    let at = locate(http).await?;
    open_via(at, None, udp).await
}

async fn open_via(
    at: Located,
    source: Option<IpAddr>,
    udp: SocketAddr,
) -> anyhow::Result<(WtSink, WtSource)> {
    let at = Located { addr: udp, ..at };
    let endpoint = endpoint(&at, source)?;
    let url = format!("https://{}/wt", at.addr);
    let connection = tokio::time::timeout(STEP, endpoint.connect(&url))
        .await
        .context("WebTransport connect in time")??;
    let opening = tokio::time::timeout(STEP, connection.open_bi())
        .await
        .context("chat stream in time")??;
    let (send, recv) = opening.await?;
    let codec = || {
        LengthDelimitedCodec::builder()
            .length_field_length(4)
            .big_endian()
            .max_frame_length(MAX_FRAME)
            .new_codec()
    };
    let sink = WtSink {
        inner: FramedWrite::new(send, codec()),
        connection: connection.clone(),
        closed: false,
    };
    let source = WtSource {
        inner: FramedRead::new(recv, codec()),
        _connection: connection,
        ended: false,
    };
    Ok((sink, source))
}

fn io(e: std::io::Error) -> WsError {
    WsError::Io(e)
}

/// The writing half: each text `Message` goes out as one frame.
pub struct WtSink {
    inner: FramedWrite<SendStream, LengthDelimitedCodec>,
    connection: Connection,
    closed: bool,
}

impl Sink<Message> for WtSink {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Sink::<Bytes>::poll_ready(Pin::new(&mut self.inner), cx).map_err(io)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
        let body = match item {
            Message::Text(text) => Bytes::from(text),
            Message::Binary(bytes) => bytes,
            // No control frames on a stream: QUIC has its own.
            _ => return Ok(()),
        };
        Sink::<Bytes>::start_send(Pin::new(&mut self.inner), body).map_err(io)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Sink::<Bytes>::poll_flush(Pin::new(&mut self.inner), cx).map_err(io)
    }

    /// Ends the stream, then closes the session (code 0), as a client
    /// saying goodbye does.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let done = ready!(Sink::<Bytes>::poll_close(Pin::new(&mut self.inner), cx));
        if !self.closed {
            self.closed = true;
            self.connection.close(VarInt::from_u32(0), b"bye");
        }
        Poll::Ready(done.map_err(io))
    }
}

/// The reading half: frames as text `Message`s; the server's `close`
/// frame as `Message::Close`, after which the stream ends.
pub struct WtSource {
    inner: FramedRead<RecvStream, LengthDelimitedCodec>,
    /// Held so the session lives as long as its reader.
    _connection: Connection,
    ended: bool,
}

/// A `close` frame's code and reason, if `text` is one.
fn close_frame(text: &str) -> Option<CloseFrame> {
    if !text.starts_with(r#"{"type":"close""#) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let code = u16::try_from(v["code"].as_u64()?).ok()?;
    let reason = v["reason"].as_str().unwrap_or_default().to_owned();
    Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    })
}

impl Stream for WtSource {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let Some(next) = ready!(Pin::new(&mut self.inner).poll_next(cx)) else {
            self.ended = true;
            return Poll::Ready(None);
        };
        let bytes = match next {
            Ok(bytes) => bytes,
            Err(e) => {
                self.ended = true;
                return Poll::Ready(Some(Err(io(e))));
            }
        };
        // Checked in place: the frame's bytes become the message's.
        let Ok(text) = Utf8Bytes::try_from(bytes) else {
            return Poll::Ready(Some(Err(WsError::Utf8(String::new()))));
        };
        if let Some(frame) = close_frame(&text) {
            self.ended = true;
            return Poll::Ready(Some(Ok(Message::Close(Some(frame)))));
        }
        Poll::Ready(Some(Ok(Message::Text(text))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_frame_is_read_with_its_code() {
        let frame = close_frame(r#"{"type":"close","code":4001,"reason":"bad token"}"#)
            .expect("a close frame");
        assert_eq!(u16::from(frame.code), 4001);
        assert_eq!(frame.reason.as_str(), "bad token");
        assert!(close_frame(r#"{"type":"message","code":4001}"#).is_none());
    }
}
