//! A WebSocket client that speaks the JSON frame protocol.

use std::collections::VecDeque;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::{STEP, Server};

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

/// One WebSocket connection.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pending: VecDeque<Value>,
}

impl Ws {
    /// Connects without saying hello.
    pub async fn open(server: &Server) -> Self {
        Self::open_url(&server.ws_url()).await
    }

    /// Connects to the WebSocket URL `url` without saying hello.
    pub async fn open_url(url: &str) -> Self {
        let (stream, _) = tokio::time::timeout(STEP, connect_async(url))
            .await
            .expect("connect in time")
            .expect("WebSocket handshake");
        Self {
            stream,
            pending: VecDeque::new(),
        }
    }

    /// Connects and authenticates; returns the `ready` frame too.
    pub async fn connect(server: &Server, token: &str) -> (Self, Value) {
        Self::resume(server, token, &Cursors::new()).await
    }

    /// Connects with per-channel cursors; catch-up frames follow `ready`.
    pub async fn resume(server: &Server, token: &str, cursors: &Cursors) -> (Self, Value) {
        Self::resume_url(&server.ws_url(), token, cursors).await
    }

    /// [`Ws::resume`] at the WebSocket URL `url` (as discovery and the
    /// `reconnect` frame name edges).
    pub async fn resume_url(url: &str, token: &str, cursors: &Cursors) -> (Self, Value) {
        let mut ws = Self::open_url(url).await;
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
        self.send_raw(Message::text(frame.to_string())).await;
    }

    /// Sends JSON frames in one write, so they arrive together.
    pub async fn send_all(&mut self, frames: impl IntoIterator<Item = Value>) {
        let stream = &mut self.stream;
        let write = async move {
            for frame in frames {
                stream.feed(Message::text(frame.to_string())).await?;
            }
            stream.flush().await
        };
        tokio::time::timeout(STEP, write)
            .await
            .expect("send in time")
            .expect("send frames");
    }

    /// Sends any WebSocket message as is.
    pub async fn send_raw(&mut self, message: Message) {
        tokio::time::timeout(STEP, self.stream.send(message))
            .await
            .expect("send in time")
            .expect("send frame");
    }

    /// Sends a JSON frame; false when the connection is gone.
    pub async fn try_send_json(&mut self, frame: Value) -> bool {
        matches!(
            tokio::time::timeout(STEP, self.stream.send(Message::text(frame.to_string()))).await,
            Ok(Ok(()))
        )
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
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// Drops the connection without a close handshake.
    pub fn abort(self) {
        drop(self);
    }

    async fn read(&mut self) -> Result<Value, Closed> {
        loop {
            let item = tokio::time::timeout(STEP, self.stream.next())
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
