//! A bot's webhook endpoint on loopback: it checks every delivery the way
//! docs/protocol.md tells receivers to (the Standard Webhooks signature
//! over id, timestamp and body; the timestamp within tolerance; each id
//! taken once), records what it took and what it refused, and can be told
//! to fail the next deliveries with a status.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chat_edge::protocol::webhook::{self, ReplayGuard};
use serde_json::Value;
use tokio::sync::Notify;

use super::STEP;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// `chat-bot-id`.
    pub bot_id: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body as JSON.
    pub json: Value,
}

#[derive(Default)]
struct Inner {
    secret: String,
    guard: ReplayGuard,
    /// Deliveries taken (answered 200).
    taken: Vec<Delivery>,
    /// Every request, with how it was answered.
    answered: Vec<(Delivery, u16, String)>,
    /// Statuses to answer the next requests with, before checking them.
    failures: Vec<(u16, Option<u64>)>,
}

/// The receiver.
#[derive(Clone)]
pub struct BotReceiver {
    /// Its base URL.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

impl BotReceiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/events", listener.local_addr().expect("addr"));
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        let app = axum::Router::new()
            .route("/events", axum::routing::post(receive))
            .with_state((inner.clone(), arrived.clone()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            inner,
            arrived,
            _task: Arc::new(task),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("receiver lock")
    }

    /// The secret the server gave when the webhook was set.
    pub fn set_secret(&self, secret: &str) {
        self.lock().secret = secret.to_owned();
    }

    /// Answers the next `n` requests with `status` (and `Retry-After`).
    pub fn fail_next(&self, n: usize, status: u16, retry_after: Option<u64>) {
        self.lock()
            .failures
            .extend(std::iter::repeat_n((status, retry_after), n));
    }

    /// The deliveries taken, in arrival order.
    pub fn taken(&self) -> Vec<Delivery> {
        self.lock().taken.clone()
    }

    /// Every request with its status and why.
    pub fn answered(&self) -> Vec<(Delivery, u16, String)> {
        self.lock().answered.clone()
    }

    /// Waits until `done` holds of the deliveries taken.
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let arrived = self.arrived.notified();
            let taken = self.taken();
            if done(&taken) {
                return taken;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("waited for {what}; answered: {:#?}", self.answered());
            }
        }
    }

    /// Sends `d` again, as someone who captured it would; the status.
    pub async fn replay(&self, d: &Delivery) -> u16 {
        reqwest::Client::new()
            .post(&self.url)
            .header(webhook::ID_HEADER, &d.id)
            .header(webhook::TIMESTAMP_HEADER, &d.timestamp)
            .header(webhook::SIGNATURE_HEADER, &d.signature)
            .header("content-type", "application/json")
            .body(d.body.clone())
            .send()
            .await
            .expect("replay")
            .status()
            .as_u16()
    }
}

type Shared = (Arc<Mutex<Inner>>, Arc<Notify>);

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn receive(
    State((inner, arrived)): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let delivery = Delivery {
        id: header(&headers, webhook::ID_HEADER),
        timestamp: header(&headers, webhook::TIMESTAMP_HEADER),
        signature: header(&headers, webhook::SIGNATURE_HEADER),
        bot_id: header(&headers, webhook::BOT_HEADER),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
    };
    let (status, why, retry_after) = {
        let mut inner = inner.lock().expect("receiver lock");
        let now = now_secs();
        let (status, why, retry_after) = if !inner.failures.is_empty() {
            let (status, after) = inner.failures.remove(0);
            (status, "told to fail".to_owned(), after)
        } else {
            let d = &delivery;
            let checked = webhook::verify(
                &inner.secret,
                &d.id,
                &d.timestamp,
                &d.signature,
                &d.body,
                now,
            )
            .and_then(|at| inner.guard.take(&d.id, at, now));
            match checked {
                Ok(()) => {
                    inner.taken.push(delivery.clone());
                    (200, "taken".to_owned(), None)
                }
                Err(e) => (401, e.to_string(), None),
            }
        };
        inner.answered.push((delivery, status, why.clone()));
        (status, why, retry_after)
    };
    arrived.notify_waiters();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, why).into_response();
    if let Some(after) = retry_after
        && let Ok(value) = after.to_string().parse()
    {
        response.headers_mut().insert("retry-after", value);
    }
    response
}
