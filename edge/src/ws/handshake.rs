//! `GET /ws`: checks the upgrade request, answers 101 and hands the raw
//! connection to a session driver. The upgrade is done here rather than by
//! axum's extractor so the driver owns the raw stream: after refusing a
//! frame it can drain the rest and close cleanly instead of resetting.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use futures::future::Either;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};

use super::WsLink;
use crate::error::ApiError;
use crate::link::Driver;
use crate::{Edge, EdgeConfig};

/// `GET /ws`: upgrades to a WebSocket session.
pub async fn upgrade(State(edge): State<Arc<Edge>>, mut req: Request) -> Response {
    let key = match check_request(req.method(), req.headers()) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    if edge.is_draining() {
        return ApiError::new(503, "shutting_down", "server is shutting down")
            .alternatives(edge.alternatives())
            .into_response();
    }
    let Ok(permit) = edge.connections.clone().try_acquire_owned() else {
        metrics::counter!("chat_ws_refused_full_total").increment(1);
        return ApiError::new(
            503,
            "too_many_connections",
            "connection limit reached: connect to one of the alternatives, or retry later",
        )
        .alternatives(edge.alternatives())
        .into_response();
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let config = socket_config(&edge.config);
    let upgrade = async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                Some(WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await)
            }
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket upgrade failed");
                None
            }
        }
    };
    // Chained rather than awaited in one async block, whose captures would
    // stay in every connection's task for its whole life; the upgrade's
    // state and the session's share the same room.
    let tracker = edge.tracker.clone();
    tracker.spawn(upgrade.then(move |socket| match socket {
        Some(socket) => Either::Left(Driver::run(edge, WsLink(socket), permit)),
        None => Either::Right(std::future::ready(())),
    }));
    let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    resp
}

/// Small buffers: most connections are idle most of the time.
fn socket_config(cfg: &EdgeConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(cfg.ws_read_buffer)
        .write_buffer_size(cfg.ws_write_buffer)
        .max_message_size(Some(cfg.max_frame_bytes))
        .max_frame_size(Some(cfg.max_frame_bytes))
}

/// The `Sec-WebSocket-Key` of a valid upgrade request (RFC 6455 §4.2.1).
fn check_request(method: &Method, headers: &HeaderMap) -> Result<String, ApiError> {
    let refuse = |message: &str| ApiError::new(426, "websocket_upgrade_required", message);
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if method != Method::GET {
        return Err(refuse("a WebSocket upgrade must be a GET request"));
    }
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return Err(refuse(
            "send `Connection: upgrade` and `Upgrade: websocket`",
        ));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(refuse("only WebSocket version 13 is supported"));
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| refuse("missing Sec-WebSocket-Key"))
}
