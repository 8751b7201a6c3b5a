//! `GET /webtransport/cert-hash`, and `Alt-Svc` on every response: how
//! clients find the HTTP/3 endpoint and pin a self-signed certificate.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use serde::Serialize;

use super::ApiResult;
use crate::Edge;
use crate::error::ApiError;
use crate::wt::{PATH, hex};

/// Where the WebTransport endpoint is and what certificate it presents.
#[derive(Debug, Serialize)]
pub struct CertHash {
    /// `sha-256`, as `serverCertificateHashes` names it.
    pub algorithm: &'static str,
    /// The certificate's SHA-256, base64 (decode it for the browser's
    /// `value: BufferSource`).
    pub value: String,
    /// The same hash in lower-case hex.
    pub hex: String,
    /// The UDP port of the endpoint, on this host.
    pub port: u16,
    /// The session path (`/wt`).
    pub path: &'static str,
    /// When a self-signed certificate expires (Unix ms); fetch the hash
    /// again after it. Absent for a configured certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
}

/// `GET /webtransport/cert-hash`.
pub async fn cert_hash(State(edge): State<Arc<Edge>>) -> ApiResult<Json<CertHash>> {
    let advert = edge.webtransport.get().ok_or_else(|| {
        ApiError::new(
            404,
            "webtransport_off",
            "this server does not take WebTransport",
        )
    })?;
    Ok(Json(CertHash {
        algorithm: "sha-256",
        value: base64::engine::general_purpose::STANDARD.encode(advert.hash),
        hex: hex(&advert.hash),
        port: advert.addr.port(),
        path: PATH,
        expires_at_ms: advert.expires_at_ms,
    }))
}

/// Adds `Alt-Svc: h3=":port"` once WebTransport listens (if configured).
pub async fn alt_svc(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if edge.config.webtransport.alt_svc
        && let Some(advert) = edge.webtransport.get()
    {
        response
            .headers_mut()
            .insert(header::ALT_SVC, advert.alt_svc.clone());
    }
    response
}
