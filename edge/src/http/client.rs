//! Who is calling, as far as the edge can tell: the client's network
//! address (for login limits) and a name for its device (for the session
//! list).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;

use crate::Edge;
use crate::error::ApiError;

/// Characters of a User-Agent kept as a device name.
const DEVICE_MAX: usize = 64;

/// The calling client: its address and its User-Agent as a device name.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The client's IP address; empty when unknown.
    pub addr: String,
    /// The User-Agent, without control characters, cut to 64 characters.
    pub user_agent: String,
}

fn forwarded_for(parts: &Parts) -> Option<String> {
    let value = parts.headers.get("x-forwarded-for")?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    last.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

impl FromRequestParts<Arc<Edge>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, edge: &Arc<Edge>) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let forwarded = edge
            .config
            .trust_forwarded_for
            .then(|| forwarded_for(parts))
            .flatten();
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(DEVICE_MAX)
            .collect::<String>()
            .trim()
            .to_owned();
        Ok(Caller {
            addr: forwarded.or(peer).unwrap_or_default(),
            user_agent,
        })
    }
}
