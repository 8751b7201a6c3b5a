//! A local Web Push service (RFC 8030) for the tests: it holds real
//! subscriptions (a P-256 key pair and an auth secret each, as a browser
//! makes them), checks every push's VAPID token (RFC 8292: ES256, signed by
//! the key it names, for this origin, not expired, with a contact) and
//! decrypts its body (RFC 8291, aes128gcm) with the subscription's private
//! key, as a browser would. Each subscription answers from a script of
//! statuses first (`503` with `Retry-After`, `410 Gone`...), then `201`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::sync::Notify;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use super::STEP;

/// One push the service received and answered.
#[derive(Debug, Clone)]
pub struct Push {
    /// The subscription it was for.
    pub subscription: usize,
    /// What the service answered.
    pub status: u16,
    /// The decrypted payload (JSON).
    pub payload: Value,
    /// Its `Topic` header.
    pub topic: String,
    /// Its `Urgency` header.
    pub urgency: String,
    /// Its `TTL` header, in seconds.
    pub ttl: u64,
    /// The VAPID public key it was signed with (base64url).
    pub vapid_key: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A subscription, as `PushSubscription.toJSON()` gives it to the app.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Its number at the service.
    pub id: usize,
    /// Where pushes for it go.
    pub endpoint: String,
    /// The body a client registers it with.
    pub json: Value,
}

struct Sub {
    secret: SecretKey,
    auth: [u8; 16],
    script: VecDeque<(u16, Option<u64>)>,
}

#[derive(Default)]
struct Inner {
    subs: Vec<Sub>,
    pushes: Vec<Push>,
    /// Pushes refused before decryption, and why.
    refused: Vec<String>,
}

/// The running service.
#[derive(Clone)]
pub struct PushService {
    origin: String,
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for PushService {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl PushService {
    /// Serves on a loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        let app = axum::Router::new()
            .route("/push/{id}", axum::routing::post(receive))
            .with_state((origin.clone(), inner.clone(), arrived.clone()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            origin,
            inner,
            arrived,
            task: Arc::new(task),
        }
    }

    /// The env a server needs to push here: http allowed, this host listed.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CHAT_CORE__PUSH__WEB_PUSH_INSECURE", "true".to_owned()),
            (
                "CHAT_CORE__PUSH__WEB_PUSH_HOSTS",
                r#"["127.0.0.1"]"#.to_owned(),
            ),
        ]
    }

    /// A new subscription whose first pushes get `script`'s statuses (with
    /// a `Retry-After` in seconds where given), then `201 Created`.
    pub fn subscribe(&self, script: &[(u16, Option<u64>)]) -> Subscription {
        let secret = loop {
            if let Ok(key) = SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        let auth: [u8; 16] = rand::random();
        let public = secret.public_key().to_encoded_point(false);
        let mut inner = self.inner.lock().expect("lock");
        let id = inner.subs.len();
        inner.subs.push(Sub {
            secret,
            auth,
            script: script.iter().copied().collect(),
        });
        let endpoint = format!("{}/push/{id}", self.origin);
        let json = json!({
            "kind": "web_push",
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(auth),
            },
        });
        Subscription { id, endpoint, json }
    }

    /// Every push answered so far, in order.
    pub fn pushes(&self) -> Vec<Push> {
        self.inner.lock().expect("lock").pushes.clone()
    }

    /// The pushes of `subscription` it answered with 201.
    pub fn delivered(&self, subscription: usize) -> Vec<Push> {
        self.pushes()
            .into_iter()
            .filter(|p| p.subscription == subscription && p.status == 201)
            .collect()
    }

    /// Pushes refused before decryption (bad VAPID, bad body), and why.
    pub fn refused(&self) -> Vec<String> {
        self.inner.lock().expect("lock").refused.clone()
    }

    /// Waits until `done` holds of the pushes answered, or fails after
    /// `STEP` (several steps' worth for slow retries: `within`).
    pub async fn wait_until(&self, within: Duration, what: &str, done: impl Fn(&[Push]) -> bool) {
        let deadline = tokio::time::Instant::now() + within.max(STEP);
        loop {
            let arrived = self.arrived.notified();
            if done(&self.pushes()) {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "waited for {what}; pushes: {:#?}; refused: {:?}",
                    self.pushes(),
                    self.refused()
                );
            }
        }
    }
}

type Shared = (String, Arc<Mutex<Inner>>, Arc<Notify>);

async fn receive(
    State((origin, inner, arrived)): State<Shared>,
    Path(id): Path<usize>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let answer = check(&origin, &inner, id, &headers, body.to_vec());
    arrived.notify_waiters();
    answer
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn refuse(inner: &Mutex<Inner>, status: StatusCode, why: String) -> Response {
    inner.lock().expect("lock").refused.push(why.clone());
    (status, why).into_response()
}

fn check(
    origin: &str,
    inner: &Mutex<Inner>,
    id: usize,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Response {
    if header(headers, "content-encoding") != "aes128gcm" {
        return refuse(inner, StatusCode::BAD_REQUEST, "not aes128gcm".into());
    }
    let Ok(ttl) = header(headers, "ttl").parse::<u64>() else {
        return refuse(inner, StatusCode::BAD_REQUEST, "no TTL".into());
    };
    let Some((token, key)) = header(headers, "authorization")
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
    else {
        return refuse(
            inner,
            StatusCode::UNAUTHORIZED,
            "no VAPID authorization".into(),
        );
    };
    let verified = URL_SAFE_NO_PAD
        .decode(key)
        .ok()
        .and_then(|k| ES256PublicKey::from_bytes(&k).ok())
        .ok_or_else(|| "VAPID key is not a P-256 point".to_owned())
        .and_then(|public| {
            let options = VerificationOptions {
                allowed_audiences: Some(HashSet::from([origin.to_owned()])),
                ..Default::default()
            };
            public
                .verify_token::<NoCustomClaims>(token, Some(options))
                .map_err(|e| format!("VAPID token refused: {e}"))
        });
    let claims = match verified {
        Ok(claims) => claims,
        Err(why) => return refuse(inner, StatusCode::FORBIDDEN, why),
    };
    let lifetime = claims
        .expires_at
        .zip(claims.issued_at)
        .map(|(exp, iat)| exp.as_secs().saturating_sub(iat.as_secs()));
    if !lifetime.is_some_and(|s| s > 0 && s <= 24 * 3600) {
        return refuse(
            inner,
            StatusCode::FORBIDDEN,
            format!("VAPID lifetime {lifetime:?}"),
        );
    }
    if !claims
        .subject
        .as_deref()
        .is_some_and(|s| s.starts_with("mailto:") || s.starts_with("https:"))
    {
        return refuse(inner, StatusCode::FORBIDDEN, "VAPID sub missing".into());
    }
    let mut state = inner.lock().expect("lock");
    let Some(sub) = state.subs.get_mut(id) else {
        drop(state);
        return refuse(
            inner,
            StatusCode::NOT_FOUND,
            format!("no subscription {id}"),
        );
    };
    let payload = match web_push_native::decrypt(body, &sub.secret, &sub.auth.into()) {
        Ok(plain) => match serde_json::from_slice::<Value>(&plain) {
            Ok(json) => json,
            Err(e) => {
                drop(state);
                return refuse(
                    inner,
                    StatusCode::BAD_REQUEST,
                    format!("payload not JSON: {e}"),
                );
            }
        },
        Err(e) => {
            drop(state);
            return refuse(
                inner,
                StatusCode::BAD_REQUEST,
                format!("not decrypted: {e}"),
            );
        }
    };
    let (status, retry_after) = sub.script.pop_front().unwrap_or((201, None));
    state.pushes.push(Push {
        subscription: id,
        status,
        payload,
        topic: header(headers, "topic").to_owned(),
        urgency: header(headers, "urgency").to_owned(),
        ttl,
        vapid_key: key.to_owned(),
        at: std::time::Instant::now(),
    });
    let mut reply = HashMap::new();
    if let Some(seconds) = retry_after {
        reply.insert("retry-after", seconds.to_string());
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, "").into_response();
    for (name, value) in reply {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
