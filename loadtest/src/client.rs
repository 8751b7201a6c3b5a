//! A client as the server sees one: REST sign-up and channel calls, and a
//! WebSocket or WebTransport session that says `hello` (with cursors) and
//! reads frames.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::target::{Target, Transport};
use crate::wt::{self, WtSink, WtSource};

/// Password of every load-test account.
const PASSWORD: &str = "load-test-password";
/// Read buffer per connection, as the server uses.
const READ_BUFFER: usize = 4096;
/// How long one step (connect, hello, a REST call) may take.
pub const STEP: Duration = Duration::from_secs(30);

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    /// User id.
    pub id: u64,
    /// Bearer token.
    pub token: String,
}

fn id_of(v: &Value) -> anyhow::Result<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("expected a decimal id, got {v}"))
}

/// REST calls.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
}

impl Rest {
    /// A client for `target`.
    pub fn new(target: &Target) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: target.url(""),
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = tokio::time::timeout(STEP, req.send()).await??;
        let status = resp.status();
        let body: Value = resp.json().await?;
        if !status.is_success() {
            bail!("POST {path}: {status}: {body}");
        }
        Ok(body)
    }

    /// Signs up `username`.
    pub async fn signup(&self, username: &str) -> anyhow::Result<Account> {
        let body = json!({"username": username, "password": PASSWORD});
        let reply = self.post("/api/v1/auth/signup", None, body).await?;
        Ok(Account {
            id: id_of(&reply["user"]["id"])?,
            token: reply["token"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// The 1:1 channel of `a` and `b`.
    pub async fn direct(&self, a: &Account, b: &Account) -> anyhow::Result<u64> {
        let body = json!({"user_id": b.id.to_string()});
        let reply = self
            .post("/api/v1/channels/direct", Some(&a.token), body)
            .await?;
        id_of(&reply["id"])
    }

    /// A group owned by `owner` with `members`.
    pub async fn group(&self, owner: &Account, name: &str, members: &[u64]) -> anyhow::Result<u64> {
        let ids: Vec<String> = members.iter().map(u64::to_string).collect();
        let body = json!({"name": name, "member_ids": ids});
        let reply = self
            .post("/api/v1/channels", Some(&owner.token), body)
            .await?;
        id_of(&reply["id"])
    }

    /// Sends `text` to `channel` as `who` with idempotency key `key`; the
    /// stored message's id.
    pub async fn send(
        &self,
        who: &Account,
        channel: u64,
        key: &str,
        text: &str,
    ) -> anyhow::Result<u64> {
        let path = format!("/api/v1/channels/{channel}/messages");
        let body = json!({"text": text, "client_msg_id": key});
        let reply = self.post(&path, Some(&who.token), body).await?;
        id_of(&reply["message"]["id"])
    }

    /// `GET path` as `who`: the JSON body of a success.
    pub async fn get(&self, who: &Account, path: &str) -> anyhow::Result<Value> {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&who.token);
        let resp = tokio::time::timeout(STEP, req.send()).await??;
        let status = resp.status();
        let body: Value = resp.json().await?;
        if status.as_u16() == 429 {
            bail!(
                "GET {path}: {status}: {body}; one reader reads faster than the server's \
                 per-user REST limit: start it with CHAT_EDGE__REST_PER_SEC and \
                 CHAT_EDGE__REST_BURST raised (see docs/benchmarks.md)"
            );
        }
        if !status.is_success() {
            bail!("GET {path}: {status}: {body}");
        }
        Ok(body)
    }

    /// A page of history after `after`; the ids and whether more follow.
    pub async fn history_after(
        &self,
        who: &Account,
        channel: u64,
        after: u64,
        limit: u32,
    ) -> anyhow::Result<(Vec<u64>, bool)> {
        let path = format!("/api/v1/channels/{channel}/messages?after={after}&limit={limit}");
        let body = self.get(who, &path).await?;
        let ids = body["messages"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| id_of(&m["id"]).ok()).collect())
            .unwrap_or_default();
        Ok((ids, body["has_more_after"].as_bool().unwrap_or(false)))
    }
}

/// The writing half of a connection, over either transport.
pub enum Sink {
    /// A WebSocket's.
    Ws(SplitSink<WebSocketStream<TcpStream>, Message>),
    /// A WebTransport chat stream's.
    Wt(WtSink),
}

/// The reading half of a connection, over either transport.
pub enum Source {
    /// A WebSocket's.
    Ws(SplitStream<WebSocketStream<TcpStream>>),
    /// A WebTransport chat stream's.
    Wt(WtSource),
}

impl futures::Sink<Message> for Sink {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), WsError>> {
        match self.get_mut() {
            Sink::Ws(s) => Pin::new(s).poll_ready(cx),
            Sink::Wt(s) => Pin::new(s).poll_ready(cx),
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
        match self.get_mut() {
            Sink::Ws(s) => Pin::new(s).start_send(item),
            Sink::Wt(s) => Pin::new(s).start_send(item),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), WsError>> {
        match self.get_mut() {
            Sink::Ws(s) => Pin::new(s).poll_flush(cx),
            Sink::Wt(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), WsError>> {
        match self.get_mut() {
            Sink::Ws(s) => Pin::new(s).poll_close(cx),
            Sink::Wt(s) => Pin::new(s).poll_close(cx),
        }
    }
}

impl futures::Stream for Source {
    type Item = Result<Message, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut() {
            Source::Ws(s) => Pin::new(s).poll_next(cx),
            Source::Wt(s) => Pin::new(s).poll_next(cx),
        }
    }
}

/// The heartbeat interval before the server's `ready` has named one.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);

/// The next frame from `source`, sending a `ping` on every tick of `beat`
/// while waiting, as a real client's heartbeat timer does. Fails after
/// `limit` without a frame; `None` when the connection ended.
pub async fn next_beating(
    sink: &mut Sink,
    source: &mut Source,
    beat: &mut tokio::time::Interval,
    limit: Duration,
) -> anyhow::Result<Option<Message>> {
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => bail!("no frame within {limit:?}"),
            _ = beat.tick() => sink.send(ping_frame()).await?,
            next = source.next() => return Ok(next.transpose()?),
        }
    }
}

/// A heartbeat timer whose first tick is one `every` from now.
pub fn heartbeat(every: Duration) -> tokio::time::Interval {
    tokio::time::interval_at(tokio::time::Instant::now() + every, every)
}

/// [`connect_via`] the next server, round robin.
pub async fn connect(
    target: &Target,
    token: &str,
    cursors: &[(u64, u64)],
) -> anyhow::Result<(Sink, Source, Duration)> {
    connect_via(target, target.next_via(), token, cursors).await
}

/// Opens a connection to server `via` from the next source address over
/// the target's transport, says `hello` with `cursors`, and waits for
/// `ready`; returns the halves and the heartbeat.
pub async fn connect_via(
    target: &Target,
    via: usize,
    token: &str,
    cursors: &[(u64, u64)],
) -> anyhow::Result<(Sink, Source, Duration)> {
    let (sink, source) = match target.transport {
        Transport::WebSocket => open_ws(target, via).await?,
        Transport::WebTransport => {
            let (sink, source) = wt::open(target.addr(via), target.source()).await?;
            (Sink::Wt(sink), Source::Wt(source))
        }
    };
    hello(sink, source, token, cursors).await
}

/// A WebTransport session to the first server through `udp` (a relay to
/// its endpoint), with `hello` said and `ready` read.
pub async fn connect_wt_through(
    target: &Target,
    udp: SocketAddr,
    token: &str,
) -> anyhow::Result<(Sink, Source, Duration)> {
    let (sink, source) = wt::open_through(target.rest_addr(), udp).await?;
    hello(Sink::Wt(sink), Source::Wt(source), token, &[]).await
}

/// A WebSocket to server `via`, from the next source address.
async fn open_ws(target: &Target, via: usize) -> anyhow::Result<(Sink, Source)> {
    let addr = target.addr(via);
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(source) = target.source() {
        socket.bind((source, 0).into())?;
    }
    let stream = tokio::time::timeout(STEP, socket.connect(addr)).await??;
    stream.set_nodelay(true)?;
    let url = format!("ws://{addr}/ws");
    // tungstenite's default 128 KiB read buffer is zeroed on every read;
    // with thousands of connections that alone would saturate a core.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    let handshake = tokio_tungstenite::client_async_with_config(url, stream, Some(config));
    let (ws, _) = tokio::time::timeout(STEP, handshake).await??;
    let (sink, source) = ws.split();
    Ok((Sink::Ws(sink), Source::Ws(source)))
}

/// Says `hello` with `cursors` and waits for `ready`.
async fn hello(
    mut sink: Sink,
    mut source: Source,
    token: &str,
    cursors: &[(u64, u64)],
) -> anyhow::Result<(Sink, Source, Duration)> {
    let cursors: serde_json::Map<String, Value> = cursors
        .iter()
        .map(|(c, id)| (c.to_string(), Value::String(id.to_string())))
        .collect();
    let hello = json!({"type": "hello", "token": token, "cursors": cursors});
    sink.send(Message::text(hello.to_string())).await?;
    let mut beat = heartbeat(DEFAULT_HEARTBEAT);
    loop {
        let next = next_beating(&mut sink, &mut source, &mut beat, STEP).await?;
        let Some(message) = next else {
            bail!("closed before ready");
        };
        if let Message::Text(text) = message {
            let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
            match frame.kind.as_ref() {
                "ready" => {
                    let ms = frame.heartbeat_interval_ms.unwrap_or(10_000);
                    return Ok((sink, source, Duration::from_millis(ms)));
                }
                "error" => bail!("hello refused: {text}"),
                _ => {}
            }
        }
    }
}

/// [`connect`] on a task of its own, so that thousands of handshakes run on
/// every worker thread rather than inside one caller's task.
pub async fn spawn_connect(
    target: &Arc<Target>,
    token: &str,
    cursors: &[(u64, u64)],
) -> anyhow::Result<(Sink, Source, Duration)> {
    spawn_connect_via(target, target.next_via(), token, cursors).await
}

/// [`connect_via`] on a task of its own.
pub async fn spawn_connect_via(
    target: &Arc<Target>,
    via: usize,
    token: &str,
    cursors: &[(u64, u64)],
) -> anyhow::Result<(Sink, Source, Duration)> {
    let (target, token, cursors) = (target.clone(), token.to_owned(), cursors.to_vec());
    tokio::spawn(async move { connect_via(&target, via, &token, &cursors).await }).await?
}

/// A `send` frame whose text carries the time it was sent.
pub fn send_frame(channel: u64, key: &str) -> Message {
    let text = format!("t{}", since_start().as_micros());
    let frame = json!({"type": "send", "channel_id": channel.to_string(),
        "client_msg_id": key, "text": text});
    Message::text(frame.to_string())
}

/// A `ping` frame.
pub fn ping_frame() -> Message {
    Message::text(r#"{"type":"ping"}"#)
}

/// Time since the load generator started; message texts carry it.
pub fn since_start() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// How long ago a message with `text` was sent, if it carries a time.
pub fn age(text: &str) -> Option<Duration> {
    let sent = Duration::from_micros(text.strip_prefix('t')?.parse().ok()?);
    since_start().checked_sub(sent)
}

fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = Cow::<'de, str>::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// The parts of a server frame the scenarios look at, read in one pass.
#[derive(Debug, Deserialize)]
pub struct Frame<'a> {
    /// Frame type.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The message of `message` and `ack` frames (a string in `error` frames).
    #[serde(default, borrow, rename = "message")]
    body: Option<Body<'a>>,
    /// The key of `ack` and `error` frames.
    #[serde(default, borrow)]
    pub client_msg_id: Option<Cow<'a, str>>,
    /// The error code of `error` frames.
    #[serde(default, borrow)]
    pub code: Option<Cow<'a, str>>,
    /// From `ready`.
    #[serde(default)]
    pub heartbeat_interval_ms: Option<u64>,
}

impl<'a> Frame<'a> {
    /// The message a `message` or `ack` frame carries.
    pub fn message(&self) -> Option<&Msg<'a>> {
        match (self.kind.as_ref(), &self.body) {
            ("message" | "ack", Some(Body::Message(m))) => Some(m),
            _ => None,
        }
    }
}

/// A frame's `message` field: a message object, or the text of an error.
#[derive(Debug)]
enum Body<'a> {
    Message(Msg<'a>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Body<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Body<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a message object or a string")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Body<'a>, A::Error> {
                let d = serde::de::value::MapAccessDeserializer::new(map);
                Msg::deserialize(d).map(Body::Message)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Body<'a>, E> {
                Ok(Body::Other)
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

/// The parts of a message the scenarios check.
#[derive(Debug, Deserialize)]
pub struct Msg<'a> {
    /// Message id.
    #[serde(deserialize_with = "de_id")]
    pub id: u64,
    /// Channel id.
    #[serde(deserialize_with = "de_id")]
    pub channel_id: u64,
    /// Author.
    #[serde(deserialize_with = "de_id")]
    pub sender_id: u64,
    /// Body.
    #[serde(borrow)]
    pub text: Cow<'a, str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_frame_yields_its_message() {
        let text = r#"{"type":"message","message":{"id":"12","channel_id":"7",
            "sender_id":"3","text":"t\"99","client_msg_id":"k","created_at_ms":1},"x":[1]}"#;
        let frame: Frame<'_> = serde_json::from_str(text).expect("frame");
        let m = frame.message().expect("message");
        assert_eq!((m.id, m.channel_id, m.sender_id), (12, 7, 3));
        assert_eq!(m.text, "t\"99");
    }

    #[test]
    fn an_error_frame_has_no_message() {
        let text =
            r#"{"type":"error","code":"rate_limited","message":"slow down","client_msg_id":"k"}"#;
        let frame: Frame<'_> = serde_json::from_str(text).expect("frame");
        assert!(frame.message().is_none());
        assert_eq!(frame.code.as_deref(), Some("rate_limited"));
        assert_eq!(frame.client_msg_id.as_deref(), Some("k"));
    }

    #[test]
    fn a_message_with_a_bad_id_is_refused() {
        let text =
            r#"{"type":"message","message":{"id":"x","channel_id":"7","sender_id":"3","text":""}}"#;
        assert!(serde_json::from_str::<Frame<'_>>(text).is_err());
    }
}
