//! A WebTransport client for the tests: wtransport's client, pinning the
//! server's self-signed certificate by the hash it serves, and the
//! documented framing (a 4-byte big-endian length, then UTF-8 JSON) written
//! out here rather than borrowed from the server's codec.

use std::net::SocketAddr;

use std::time::Duration;

use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Connection, Endpoint, RecvStream, SendStream, VarInt};

use super::udp_relay::UdpRelay;
use super::{Closed, STEP, Server};

/// Silence after which the client counts the server gone, as a real
/// client's heartbeat would (the server may have been SIGKILLed: UDP says
/// nothing then).
const IDLE: Duration = Duration::from_secs(4);
/// QUIC keep-alives, well inside both sides' idle timeouts.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// One WebTransport session with its chat stream open.
pub struct WtConn {
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
    /// The client endpoint, kept for the session's life.
    endpoint: Endpoint<wtransport::endpoint::endpoint_side::Client>,
    /// The relay the session runs through, so it can be cut.
    relay: Option<UdpRelay>,
}

/// Where the server's WebTransport endpoint is and the hash to pin.
pub async fn locate(server: &Server) -> (SocketAddr, Sha256Digest) {
    let body: serde_json::Value = reqwest::get(server.url("/webtransport/cert-hash"))
        .await
        .expect("GET /webtransport/cert-hash")
        .json()
        .await
        .expect("cert-hash JSON");
    assert_eq!(body["algorithm"], "sha-256", "{body}");
    let hex = body["hex"].as_str().expect("hex hash");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect();
    let hash = Sha256Digest::new(bytes.try_into().expect("32 bytes"));
    let port = body["port"].as_u64().expect("port") as u16;
    (SocketAddr::new(server.addr.ip(), port), hash)
}

impl WtConn {
    /// Opens a session at `server`'s endpoint and its chat stream,
    /// through a relay of its own that [`WtConn::abort`] cuts.
    pub async fn open(server: &Server) -> Self {
        let (addr, hash) = locate(server).await;
        let relay = UdpRelay::start(addr).await.expect("UDP relay");
        let mut conn = Self::open_at(relay.addr, hash).await;
        conn.relay = Some(relay);
        conn
    }

    /// Opens a session at `addr` (a proxy, say) pinning `hash`.
    pub async fn open_at(addr: SocketAddr, hash: Sha256Digest) -> Self {
        let config = ClientConfig::builder()
            .with_bind_default()
            .with_server_certificate_hashes([hash])
            .max_idle_timeout(Some(IDLE))
            .expect("idle timeout")
            .keep_alive_interval(Some(KEEP_ALIVE))
            .build();
        let endpoint = Endpoint::client(config).expect("client endpoint");
        let url = format!("https://{addr}/wt");
        let connection = tokio::time::timeout(STEP, endpoint.connect(&url))
            .await
            .expect("WebTransport connect in time")
            .expect("WebTransport session");
        let opening = tokio::time::timeout(STEP, connection.open_bi())
            .await
            .expect("open the chat stream in time")
            .expect("open the chat stream");
        let (send, recv) = opening.await.expect("chat stream");
        Self {
            connection,
            send,
            recv,
            endpoint,
            relay: None,
        }
    }

    /// Writes `frames` as framed text, in one write.
    pub async fn send_texts(&mut self, frames: &[String]) -> Result<(), String> {
        let out: Vec<u8> = frames.iter().flat_map(|t| frame(t.as_bytes())).collect();
        self.send_bytes(&out).await
    }

    /// Writes raw bytes to the chat stream.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), String> {
        tokio::time::timeout(STEP, self.send.write_all(bytes))
            .await
            .map_err(|_| "write timed out".to_owned())?
            .map_err(|e| e.to_string())
    }

    /// Ends the chat stream (FIN), as a client saying goodbye may.
    pub async fn finish(&mut self) {
        let _ = tokio::time::timeout(STEP, self.send.finish()).await;
    }

    /// The next frame's text, or how the session ended: the server's
    /// `close` frame, or 1006 when the stream ended without one.
    pub async fn read(&mut self) -> Result<String, Closed> {
        let mut head = [0u8; 4];
        if let Err(e) = self.recv.read_exact(&mut head).await {
            return Err(Closed {
                code: 1006,
                reason: e.to_string(),
            });
        }
        let mut body = vec![0u8; u32::from_be_bytes(head) as usize];
        if let Err(e) = self.recv.read_exact(&mut body).await {
            return Err(Closed {
                code: 1006,
                reason: format!("stream ended inside a frame: {e}"),
            });
        }
        let text = String::from_utf8(body).expect("the server sends UTF-8");
        if let Ok(frame) = serde_json::from_str::<serde_json::Value>(&text)
            && frame["type"] == "close"
        {
            return Err(Closed {
                code: frame["code"].as_u64().expect("close code") as u16,
                reason: frame["reason"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(text)
    }

    /// Closes the session cleanly (code 0), waiting until the close has
    /// gone out.
    pub async fn close(self) {
        self.connection.close(VarInt::from_u32(0), b"bye");
        let _ = tokio::time::timeout(Duration::from_secs(1), self.endpoint.wait_idle()).await;
    }

    /// Leaves as a browser closing its tab does: the chat stream reset
    /// first, the connection's close `gap` later, in another packet.
    pub async fn reset_then_close(mut self, gap: Duration) {
        let _ = self.send.reset(VarInt::from_u32(0));
        tokio::time::sleep(gap).await;
        self.close().await;
    }

    /// Resets the chat stream and keeps the connection.
    pub fn reset_stream(&mut self) {
        let _ = self.send.reset(VarInt::from_u32(0));
    }

    /// Moves to another network: from now on its packets reach the server
    /// from a new address, on the same connection.
    pub async fn move_network(&self) {
        if let Some(relay) = &self.relay {
            relay.move_network().await.expect("relay moves");
        }
    }

    /// Vanishes as a dropped network does: the relay is cut first, so not
    /// even the connection's close reaches the server.
    pub fn abort(self) {
        if let Some(relay) = &self.relay {
            relay.cut();
        }
    }
}

/// `body` as one frame on the chat stream: its length (4 bytes,
/// big-endian), then its bytes. Written here apart from the server's codec,
/// so a mistake in one is not hidden by the same mistake in the other.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = (body.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(body);
    framed
}
