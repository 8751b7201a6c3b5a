//! A client that speaks the JSON frame protocol over WebSocket or
//! WebTransport: the same test bodies run over either.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::wt::WtConn;
use super::{STEP, Server};

/// Which transport a client uses. `TEST_CHAT_TRANSPORT=webtransport` runs
/// the tests that do not name one over WebTransport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket at `/ws`.
    WebSocket,
    /// WebTransport at `/wt` over HTTP/3.
    WebTransport,
}

impl Transport {
    /// The transport of this test run.
    pub fn current() -> Self {
        match std::env::var("TEST_CHAT_TRANSPORT").as_deref() {
            Ok("webtransport") => Self::WebTransport,
            _ => Self::WebSocket,
        }
    }
}

/// The connection under a [`Ws`].
enum Conn {
    Ws(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
    Wt(Box<WtConn>),
}

/// Per channel, the largest message id a device holds.
pub type Cursors = std::collections::BTreeMap<u64, u64>;

/// How the server closed the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// Close code.
    pub code: u16,
    /// Close reason text.
    pub reason: String,
}

/// One client connection (named for the transport it began with).
pub struct Ws {
    conn: Conn,
    pending: VecDeque<Value>,
}

impl Ws {
    /// Connects without saying hello, over this run's transport.
    pub async fn open(server: &Server) -> Self {
        Self::open_on(server, Transport::current()).await
    }

    /// Connects over `transport` without saying hello.
    pub async fn open_on(server: &Server, transport: Transport) -> Self {
        match transport {
            Transport::WebSocket => Self::open_url(&server.ws_url()).await,
            Transport::WebTransport => Self {
                conn: Conn::Wt(Box::new(WtConn::open(server).await)),
                pending: VecDeque::new(),
            },
        }
    }

    /// Connects over `transport` and authenticates with `cursors`.
    pub async fn resume_on(
        server: &Server,
        transport: Transport,
        token: &str,
        cursors: &Cursors,
    ) -> (Self, Value) {
        let ws = Self::open_on(server, transport).await;
        ws.hello(token, cursors).await
    }

    /// Connects over `transport` and authenticates.
    pub async fn connect_on(server: &Server, transport: Transport, token: &str) -> (Self, Value) {
        Self::resume_on(server, transport, token, &Cursors::new()).await
    }

    /// The transport this connection runs on.
    pub fn transport(&self) -> Transport {
        match self.conn {
            Conn::Ws(_) => Transport::WebSocket,
            Conn::Wt(_) => Transport::WebTransport,
        }
    }

    /// Connects to the WebSocket URL `url` without saying hello.
    pub async fn open_url(url: &str) -> Self {
        let (stream, _) = tokio::time::timeout(STEP, connect_async(url))
            .await
            .expect("connect in time")
            .expect("WebSocket handshake");
        Self {
            conn: Conn::Ws(Box::new(stream)),
            pending: VecDeque::new(),
        }
    }

    /// Connects and authenticates; returns the `ready` frame too.
    pub async fn connect(server: &Server, token: &str) -> (Self, Value) {
        Self::resume(server, token, &Cursors::new()).await
    }

    /// Connects with per-channel cursors; catch-up frames follow `ready`.
    pub async fn resume(server: &Server, token: &str, cursors: &Cursors) -> (Self, Value) {
        Self::resume_on(server, Transport::current(), token, cursors).await
    }

    /// [`Ws::resume`] at the WebSocket URL `url` (as discovery and the
    /// `reconnect` frame name edges).
    pub async fn resume_url(url: &str, token: &str, cursors: &Cursors) -> (Self, Value) {
        Self::open_url(url).await.hello(token, cursors).await
    }

    /// Says `hello` with `cursors` and waits for `ready`.
    async fn hello(self, token: &str, cursors: &Cursors) -> (Self, Value) {
        let mut ws = self;
        let cursors: serde_json::Map<String, Value> = cursors
            .iter()
            .map(|(channel, id)| (channel.to_string(), Value::String(id.to_string())))
            .collect();
        ws.send_json(json!({"type": "hello", "token": token, "cursors": cursors}))
            .await;
        let ready = ws.next().await;
        assert_eq!(ready["type"], "ready", "expected ready, got {ready}");
        (ws, ready)
    }

    /// Sends a JSON frame.
    pub async fn send_json(&mut self, frame: Value) {
        self.send_str(&frame.to_string()).await;
    }

    /// Sends one text frame as is (it need not be JSON).
    pub async fn send_str(&mut self, text: &str) {
        self.try_send_texts(&[text.to_owned()])
            .await
            .expect("send frame");
    }

    /// Sends one text frame; false when the connection refused or lost it.
    pub async fn try_send_str(&mut self, text: &str) -> bool {
        self.try_send_texts(&[text.to_owned()]).await.is_ok()
    }

    /// Sends JSON frames in one write, so they arrive together.
    pub async fn send_all(&mut self, frames: impl IntoIterator<Item = Value>) {
        let texts: Vec<String> = frames.into_iter().map(|f| f.to_string()).collect();
        self.try_send_texts(&texts).await.expect("send frames");
    }

    /// Sends text frames in one write; the error says why it failed.
    async fn try_send_texts(&mut self, texts: &[String]) -> Result<(), String> {
        match &mut self.conn {
            Conn::Ws(stream) => {
                let write = async move {
                    for text in texts {
                        stream.feed(Message::text(text.as_str())).await?;
                    }
                    stream.flush().await
                };
                tokio::time::timeout(STEP, write)
                    .await
                    .map_err(|_| "send timed out".to_owned())?
                    .map_err(|e| e.to_string())
            }
            Conn::Wt(wt) => wt.send_texts(texts).await,
        }
    }

    /// Sends any WebSocket message as is (WebSocket only).
    pub async fn send_raw(&mut self, message: Message) {
        let Conn::Ws(stream) = &mut self.conn else {
            panic!("send_raw sends WebSocket messages; this client is on WebTransport");
        };
        tokio::time::timeout(STEP, stream.send(message))
            .await
            .expect("send in time")
            .expect("send frame");
    }

    /// Sends one text frame of exactly these bytes, UTF-8 or not.
    pub async fn send_text_bytes(&mut self, bytes: &[u8]) {
        match &mut self.conn {
            Conn::Ws(_) => {
                use tokio_tungstenite::tungstenite::protocol::frame::Frame;
                use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
                let frame = Frame::message(bytes.to_vec(), OpCode::Data(Data::Text), true);
                self.send_raw(Message::Frame(frame)).await;
            }
            Conn::Wt(wt) => {
                let framed = super::wt::frame(bytes);
                wt.send_bytes(&framed).await.expect("send bytes");
            }
        }
    }

    /// Ends the WebTransport chat stream (FIN), mid-frame or not.
    pub async fn finish_stream(&mut self) {
        let Conn::Wt(wt) = &mut self.conn else {
            panic!("finish_stream ends a WebTransport stream; this client is on WebSocket");
        };
        wt.finish().await;
    }

    /// Writes raw bytes to the chat stream (WebTransport only).
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        let Conn::Wt(wt) = &mut self.conn else {
            panic!("send_bytes writes a WebTransport stream; this client is on WebSocket");
        };
        wt.send_bytes(bytes).await.expect("send bytes");
    }

    /// Sends a JSON frame; false when the connection is gone.
    pub async fn try_send_json(&mut self, frame: Value) -> bool {
        self.try_send_texts(&[frame.to_string()]).await.is_ok()
    }

    /// The next frame, or how the connection ended.
    pub async fn recv(&mut self) -> Result<Value, Closed> {
        match self.pending.pop_front() {
            Some(frame) => Ok(frame),
            None => self.read().await,
        }
    }

    /// Sends a `send` frame.
    pub async fn send_text(&mut self, channel: &str, client_msg_id: &str, text: &str) {
        self.send_json(json!({"type": "send", "channel_id": channel, "client_msg_id": client_msg_id, "text": text}))
            .await;
    }

    /// Sends and waits for the `ack` (or `error`) naming `client_msg_id`.
    pub async fn send_message(&mut self, channel: &str, client_msg_id: &str, text: &str) -> Value {
        self.send_text(channel, client_msg_id, text).await;
        self.reply_to(client_msg_id).await
    }

    /// Waits for the `ack` or `error` frame naming `client_msg_id`.
    pub async fn reply_to(&mut self, client_msg_id: &str) -> Value {
        self.wait_for(|f| {
            (f["type"] == "ack" || f["type"] == "error") && f["client_msg_id"] == client_msg_id
        })
        .await
    }

    /// The next frame, whatever it is. Panics if the connection closes.
    pub async fn next(&mut self) -> Value {
        if let Some(frame) = self.pending.pop_front() {
            return frame;
        }
        match self.read().await {
            Ok(frame) => frame,
            Err(closed) => panic!("connection closed while waiting for a frame: {closed:?}"),
        }
    }

    /// The next frame that matches, keeping the others for later.
    pub async fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i).expect("index is in range");
        }
        loop {
            match self.read().await {
                Ok(frame) if matches(&frame) => return frame,
                Ok(frame) => self.pending.push_back(frame),
                Err(closed) => panic!(
                    "connection closed while waiting: {closed:?}; kept {:?}",
                    self.pending
                ),
            }
        }
    }

    /// Frames read but not yet taken, oldest first.
    pub fn pending(&self) -> Vec<Value> {
        self.pending.iter().cloned().collect()
    }

    /// Frames of `kind` read but not yet taken, oldest first. After
    /// [`Ws::wait_message`] for a later message, these are every such frame
    /// that came before it: events reach a session in the order they happened.
    pub fn pending_of(&self, kind: &str) -> Vec<Value> {
        self.pending
            .iter()
            .filter(|f| f["type"] == kind)
            .cloned()
            .collect()
    }

    /// Waits for the `message` frame carrying `message`, keeping the others.
    pub async fn wait_message(&mut self, message: &Value) -> Value {
        self.wait_for(|f| f["type"] == "message" && f["message"] == *message)
            .await
    }

    /// The next frame of `kind`, keeping others.
    pub async fn wait_type(&mut self, kind: &str) -> Value {
        self.wait_for(|f| f["type"] == kind).await
    }

    /// The next `n` `message` frames, in arrival order.
    pub async fn messages(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            out.push(self.wait_type("message").await["message"].clone());
        }
        out
    }

    /// Reads until the server closes; returns the close code and reason and
    /// every frame that came before it.
    pub async fn closed(&mut self) -> (Closed, Vec<Value>) {
        let mut frames: Vec<Value> = self.pending.drain(..).collect();
        loop {
            match self.read().await {
                Ok(frame) => frames.push(frame),
                Err(closed) => return (closed, frames),
            }
        }
    }

    /// Closes from the client side.
    pub async fn close(self) {
        match self.conn {
            Conn::Ws(mut stream) => {
                let _ = WebSocketStream::close(&mut stream, None).await;
            }
            Conn::Wt(wt) => wt.close().await,
        }
    }

    /// Leaves as a browser closing its tab does (WebTransport: stream
    /// reset, then the connection's close `gap` later; WebSocket: a close).
    pub async fn leave_like_a_tab(self, gap: Duration) {
        match self.conn {
            Conn::Ws(_) => self.close().await,
            Conn::Wt(wt) => wt.reset_then_close(gap).await,
        }
    }

    /// WebTransport only: the client's packets come from a new address
    /// from now on (QUIC connection migration keeps the session).
    pub async fn move_network(&self) {
        if let Conn::Wt(wt) = &self.conn {
            wt.move_network().await;
        }
    }

    /// WebTransport only: resets the chat stream, keeping the connection.
    pub fn reset_stream(&mut self) {
        if let Conn::Wt(wt) = &mut self.conn {
            wt.reset_stream();
        }
    }

    /// Drops the connection without a close handshake.
    pub fn abort(self) {
        if let Conn::Wt(wt) = self.conn {
            wt.abort();
        }
    }

    async fn read(&mut self) -> Result<Value, Closed> {
        let stream = match &mut self.conn {
            Conn::Ws(stream) => stream,
            Conn::Wt(wt) => {
                let text = tokio::time::timeout(STEP, wt.read())
                    .await
                    .unwrap_or_else(|_| {
                        panic!("no frame within {STEP:?}; kept {:?}", self.pending)
                    })?;
                return Ok(serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("server sent bad JSON {text:?}: {e}")));
            }
        };
        loop {
            let item = tokio::time::timeout(STEP, stream.next())
                .await
                .unwrap_or_else(|_| panic!("no frame within {STEP:?}; kept {:?}", self.pending));
            match item {
                Some(Ok(Message::Text(text))) => {
                    return Ok(serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("server sent bad JSON {text:?}: {e}")));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map_or(
                        Closed {
                            code: 1005,
                            reason: String::new(),
                        },
                        |f| Closed {
                            code: u16::from(f.code),
                            reason: f.reason.to_string(),
                        },
                    ));
                }
                Some(Ok(Message::Binary(_))) => panic!("server sent a binary frame"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(Closed {
                        code: 1006,
                        reason: e.to_string(),
                    });
                }
                None => {
                    return Err(Closed {
                        code: 1006,
                        reason: "stream ended".into(),
                    });
                }
            }
        }
    }
}
