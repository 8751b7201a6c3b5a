//! Local servers that speak the FCM HTTP v1 and APNs APIs, for the tests:
//! they check each request as the real services do (FCM: an OAuth2 token
//! from the service account's signed JWT at the token endpoint, then a
//! Bearer send of a v1 `message`; APNs: HTTP/2 only, a provider token
//! signed ES256 with the team's key and key id, the topic and push type
//! headers) and answer with each API's real error bodies from a script per
//! device token, then success.
//!
//! `tests/fixtures/fcm_test_key.pem` is an RSA key made for these tests
//! only (it signs nothing else).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair, ES256PublicKey, RS256PublicKey,
    RSAPublicKeyLike,
};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::jwt_simple::token::Token;

use super::STEP;

/// One send a fake answered.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The device token it was for.
    pub device: String,
    /// What was answered.
    pub status: u16,
    /// The request's JSON body.
    pub body: Value,
    /// Its headers of interest (APNs: `apns-*`).
    pub headers: HashMap<String, String>,
}

/// A scripted answer: the status and the API's error code (FCM
/// `errorCode`, APNs `reason`), with a `Retry-After` in seconds.
pub type Answer = (u16, &'static str, Option<u64>);

#[derive(Default)]
struct Log {
    scripts: HashMap<String, VecDeque<Answer>>,
    sent: Vec<Sent>,
    refused: Vec<String>,
    tokens_issued: Vec<String>,
}

/// What both fakes share: the script, the log, and a wake-up per request.
#[derive(Clone, Default)]
pub struct Recorder {
    log: Arc<Mutex<Log>>,
    arrived: Arc<Notify>,
}

impl Recorder {
    /// The first answers for `device`, before success.
    pub fn script(&self, device: &str, answers: &[Answer]) {
        let mut log = self.log.lock().expect("lock");
        log.scripts
            .insert(device.to_owned(), answers.iter().copied().collect());
    }

    /// Every send answered, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.log.lock().expect("lock").sent.clone()
    }

    /// The sends to `device`.
    pub fn sent_to(&self, device: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.device == device)
            .collect()
    }

    /// Requests refused by the fake's checks, and why.
    pub fn refused(&self) -> Vec<String> {
        self.log.lock().expect("lock").refused.clone()
    }

    /// How many OAuth2 access tokens were handed out (FCM).
    pub fn tokens_issued(&self) -> usize {
        self.log.lock().expect("lock").tokens_issued.len()
    }

    /// Waits until `done` holds of the sends, or fails after `within`
    /// (at least `STEP`).
    pub async fn wait_until(&self, within: Duration, what: &str, done: impl Fn(&[Sent]) -> bool) {
        let deadline = tokio::time::Instant::now() + within.max(STEP);
        loop {
            let arrived = self.arrived.notified();
            if done(&self.sent()) {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "waited for {what}; sent: {:#?}; refused: {:?}",
                    self.sent(),
                    self.refused()
                );
            }
        }
    }

    fn refuse(&self, status: StatusCode, why: String) -> Response {
        self.log.lock().expect("lock").refused.push(why.clone());
        self.arrived.notify_waiters();
        (status, why).into_response()
    }

    /// Logs the send and returns the scripted answer (success when done).
    fn answer(
        &self,
        device: &str,
        body: Value,
        headers: HashMap<String, String>,
    ) -> Option<Answer> {
        let mut log = self.log.lock().expect("lock");
        let answer = log.scripts.get_mut(device).and_then(VecDeque::pop_front);
        log.sent.push(Sent {
            device: device.to_owned(),
            status: answer.map_or(200, |a| a.0),
            body,
            headers,
        });
        drop(log);
        self.arrived.notify_waiters();
        answer
    }
}

async fn serve(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

fn with_retry_after(mut response: Response, retry_after: Option<u64>) -> Response {
    if let Some(seconds) = retry_after
        && let Ok(value) = seconds.to_string().parse()
    {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// The FCM project the fake serves.
pub const FCM_PROJECT: &str = "chat-test-project";
const FCM_EMAIL: &str = "push@chat-test-project.iam.gserviceaccount.com";
const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// A local FCM: OAuth2 token endpoint and v1 send.
pub struct FcmApi {
    /// Its base URL (`core.push.fcm.url`).
    pub url: String,
    /// What it was sent.
    pub recorder: Recorder,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FcmApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct FcmState {
    recorder: Recorder,
    token_uri: Arc<Mutex<String>>,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize, serde::Serialize)]
struct Scope {
    scope: String,
}

impl FcmApi {
    /// Serves on a loopback port.
    pub async fn start() -> Self {
        let state = FcmState {
            recorder: Recorder::default(),
            token_uri: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/token", axum::routing::post(fcm_token))
            .route(
                "/v1/projects/{project}/messages:send",
                axum::routing::post(fcm_send),
            )
            .with_state(state.clone());
        let (url, task) = serve(app).await;
        *state.token_uri.lock().expect("lock") = format!("{url}/token");
        Self {
            url,
            recorder: state.recorder,
            task,
        }
    }

    /// Writes the service account's JSON key file into `dir` and returns
    /// its path (`core.push.fcm.service_account_file`).
    pub fn service_account_file(&self, dir: &std::path::Path) -> String {
        let key = include_str!("../fixtures/fcm_test_key.pem");
        let account = json!({
            "type": "service_account",
            "project_id": FCM_PROJECT,
            "private_key_id": "0123456789abcdef",
            "private_key": key,
            "client_email": FCM_EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{}/token", self.url),
        });
        let path = dir.join("fcm-service-account.json");
        std::fs::write(&path, account.to_string()).expect("write the key file");
        path.display().to_string()
    }
}

async fn fcm_token(State(state): State<FcmState>, Form(form): Form<TokenForm>) -> Response {
    let recorder = &state.recorder;
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return recorder.refuse(
            StatusCode::BAD_REQUEST,
            format!("grant_type {}", form.grant_type),
        );
    }
    let public = RS256PublicKey::from_pem(include_str!("../fixtures/fcm_test_key.pub"))
        .expect("the test key");
    let token_uri = state.token_uri.lock().expect("lock").clone();
    let options = VerificationOptions {
        allowed_audiences: Some(HashSet::from([token_uri])),
        allowed_issuers: Some(HashSet::from([FCM_EMAIL.to_owned()])),
        ..Default::default()
    };
    match public.verify_token::<Scope>(&form.assertion, Some(options)) {
        Ok(claims) if claims.custom.scope == FCM_SCOPE => {}
        Ok(claims) => {
            return recorder.refuse(
                StatusCode::BAD_REQUEST,
                format!("scope {}", claims.custom.scope),
            );
        }
        Err(e) => {
            // Google's answer to a bad assertion.
            recorder.refuse(StatusCode::BAD_REQUEST, format!("assertion: {e}"));
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})),
            )
                .into_response();
        }
    }
    let mut log = recorder.log.lock().expect("lock");
    let token = format!("ya29.test-{}", log.tokens_issued.len());
    log.tokens_issued.push(token.clone());
    axum::Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

fn fcm_error(status: u16, code: &str) -> Value {
    let (state, message) = match code {
        "UNREGISTERED" => ("NOT_FOUND", "Requested entity was not found."),
        "INVALID_ARGUMENT" => (
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        ),
        "QUOTA_EXCEEDED" => (
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Messages'",
        ),
        "UNAVAILABLE" => ("UNAVAILABLE", "The service is currently unavailable."),
        _ => ("INTERNAL", "Internal error encountered."),
    };
    json!({"error": {"code": status, "message": message, "status": state,
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": code}]}})
}

async fn fcm_send(
    State(state): State<FcmState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let recorder = &state.recorder;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if !recorder
        .log
        .lock()
        .expect("lock")
        .tokens_issued
        .contains(&bearer)
    {
        recorder.refuse(StatusCode::UNAUTHORIZED, format!("bearer {bearer:?}"));
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"code": 401, "status": "UNAUTHENTICATED",
                "message": "Request had invalid authentication credentials."}})),
        )
            .into_response();
    }
    if project != FCM_PROJECT {
        return recorder.refuse(StatusCode::FORBIDDEN, format!("project {project}"));
    }
    let message = &body["message"];
    let device = message["token"].as_str().unwrap_or_default().to_owned();
    let data_are_strings = message["data"]
        .as_object()
        .is_some_and(|d| d.values().all(Value::is_string));
    if device.is_empty() || !data_are_strings {
        return recorder.refuse(StatusCode::BAD_REQUEST, format!("message {message}"));
    }
    match recorder.answer(&device, body.clone(), HashMap::new()) {
        None => axum::Json(json!({"name": format!("projects/{project}/messages/0:1500415314455276%31bd1c9631bd1c96")}))
            .into_response(),
        Some((status, code, retry_after)) => {
            let status_code = StatusCode::from_u16(status).expect("status");
            let response = (status_code, axum::Json(fcm_error(status, code))).into_response();
            with_retry_after(response, retry_after)
        }
    }
}

/// The APNs team and key id the fake expects.
pub const APNS_TEAM: &str = "TEAM123456";
/// The key id.
pub const APNS_KEY_ID: &str = "KEY1234567";
/// The app's bundle id (the topic).
pub const APNS_TOPIC: &str = "com.example.chat";

/// A local APNs (HTTP/2 without TLS: the server answers HTTP/2 from the
/// first byte, as `http2_prior_knowledge` clients speak).
pub struct ApnsApi {
    /// Its base URL (`core.push.apns.url`).
    pub url: String,
    /// What it was sent.
    pub recorder: Recorder,
    key_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ApnsApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct ApnsState {
    recorder: Recorder,
    public: Arc<ES256PublicKey>,
}

impl ApnsApi {
    /// Serves on a loopback port, with a new signing key for the server.
    pub async fn start() -> Self {
        let pair = ES256KeyPair::generate();
        let state = ApnsState {
            recorder: Recorder::default(),
            public: Arc::new(pair.public_key()),
        };
        let app = axum::Router::new()
            .route("/3/device/{token}", axum::routing::post(apns_send))
            .with_state(state.clone());
        let (url, task) = serve(app).await;
        Self {
            url,
            recorder: state.recorder,
            key_pem: pair.to_pem().expect("pem"),
            task,
        }
    }

    /// Writes the `.p8` key into `dir` and returns its path.
    pub fn key_file(&self, dir: &std::path::Path) -> String {
        let path = dir.join("AuthKey_test.p8");
        std::fs::write(&path, &self.key_pem).expect("write the key");
        path.display().to_string()
    }
}

async fn apns_send(
    State(state): State<ApnsState>,
    Path(device): Path<String>,
    request: Request,
) -> Response {
    let recorder = &state.recorder;
    if request.version() != Version::HTTP_2 {
        return recorder.refuse(StatusCode::HTTP_VERSION_NOT_SUPPORTED, "HTTP/2 only".into());
    }
    let headers = request.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let authorization = header("authorization");
    let jwt = authorization
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.to_owned())
        .unwrap_or_default();
    let kid = Token::decode_metadata(&jwt)
        .ok()
        .and_then(|m| m.key_id().map(str::to_owned));
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([APNS_TEAM.to_owned()])),
        ..Default::default()
    };
    let verified = state
        .public
        .verify_token::<NoCustomClaims>(&jwt, Some(options));
    if kid.as_deref() != Some(APNS_KEY_ID) || verified.is_err() {
        let why = verified.err().map(|e| e.to_string());
        recorder.refuse(
            StatusCode::FORBIDDEN,
            format!("provider token: kid {kid:?}, {why:?}"),
        );
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"reason": "InvalidProviderToken"})),
        )
            .into_response();
    }
    if header("apns-topic") != APNS_TOPIC {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"reason": "DeviceTokenNotForTopic"})),
        )
            .into_response();
    }
    let push_type = header("apns-push-type");
    if !["alert", "background"].contains(&push_type.as_str())
        || header("apns-collapse-id").is_empty()
    {
        return recorder.refuse(StatusCode::BAD_REQUEST, format!("headers {headers:?}"));
    }
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"reason": "BadPayload"})),
        )
            .into_response();
    };
    let kept: HashMap<String, String> = headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("apns-"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    match recorder.answer(&device, body, kept) {
        None => {
            let mut ok = StatusCode::OK.into_response();
            if let Ok(id) = "EFC6E7B9-2E36-4CAB-A4E6-3B1E3A1C2D4F".parse() {
                ok.headers_mut().insert("apns-id", id);
            }
            ok
        }
        Some((status, reason, retry_after)) => {
            let mut body = json!({"reason": reason});
            if status == 410 {
                body["timestamp"] = json!(1_795_431_487_182_u64);
            }
            let status = StatusCode::from_u16(status).expect("status");
            with_retry_after((status, axum::Json(body)).into_response(), retry_after)
        }
    }
}
