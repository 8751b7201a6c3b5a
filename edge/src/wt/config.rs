//! The WebTransport listener's settings (`edge.webtransport.*`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How the edge takes WebTransport sessions over HTTP/3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebTransportConfig {
    /// Take WebTransport sessions at all.
    pub enabled: bool,
    /// UDP address to listen on; by default the HTTP listener's address
    /// and port number, on UDP.
    pub listen: Option<SocketAddr>,
    /// PEM certificate chain for production (with `key`). Without both,
    /// the edge makes a self-signed ECDSA P-256 certificate at start,
    /// valid for `self_signed_days`, and serves its SHA-256 hash at
    /// `GET /webtransport/cert-hash` for browsers' `serverCertificateHashes`.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Names and addresses the self-signed certificate is for.
    pub self_signed_names: Vec<String>,
    /// Days a self-signed certificate is valid (browsers accept at most 14
    /// for a hash-pinned one); it is replaced a day before it ends.
    pub self_signed_days: u32,
    /// How often the server sends QUIC keep-alives, in ms; 0 (the default)
    /// leaves it to clients, which ping at the heartbeat interval.
    pub keep_alive_interval_ms: u64,
    /// QUIC idle timeout, in ms: a connection silent this long is gone
    /// (the session's own idle timeout, `edge.idle_timeout_ms`, still applies).
    pub max_idle_timeout_ms: u64,
    /// Let clients move to a new address (a phone from Wi-Fi to mobile
    /// data) without a new handshake: QUIC connection migration.
    pub allow_migration: bool,
    /// Advertise the HTTP/3 endpoint on HTTP responses with `Alt-Svc`.
    pub alt_svc: bool,
}

impl Default for WebTransportConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
            cert: None,
            key: None,
            self_signed_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            self_signed_days: 14,
            keep_alive_interval_ms: 0,
            max_idle_timeout_ms: 30_000,
            allow_migration: true,
            alt_svc: true,
        }
    }
}

impl WebTransportConfig {
    /// Checks the values against their allowed ranges.
    pub fn validate(&self) -> Result<(), String> {
        if self.cert.is_some() != self.key.is_some() {
            return Err("edge.webtransport.cert and edge.webtransport.key go together".into());
        }
        if !(2..=14).contains(&self.self_signed_days) {
            return Err("edge.webtransport.self_signed_days must be 2 to 14".into());
        }
        if self.self_signed_names.is_empty() {
            return Err("edge.webtransport.self_signed_names must name at least one host".into());
        }
        if self.max_idle_timeout_ms == 0 {
            return Err("edge.webtransport.max_idle_timeout_ms must be positive".into());
        }
        if self.keep_alive_interval_ms >= self.max_idle_timeout_ms {
            return Err(
                "edge.webtransport.keep_alive_interval_ms must be below max_idle_timeout_ms".into(),
            );
        }
        Ok(())
    }

    /// The UDP address to bind when HTTP listens on `http`.
    pub fn listen_addr(&self, http: SocketAddr) -> SocketAddr {
        self.listen.unwrap_or(http)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_needs_its_key_and_lifetimes_stay_within_browsers_bounds() {
        assert_eq!(WebTransportConfig::default().validate(), Ok(()));
        let cert_only = WebTransportConfig {
            cert: Some("cert.pem".into()),
            ..Default::default()
        };
        assert!(cert_only.validate().is_err());
        for days in [1, 15] {
            let cfg = WebTransportConfig {
                self_signed_days: days,
                ..Default::default()
            };
            assert!(cfg.validate().is_err(), "{days} days");
        }
        let keep_alive_too_slow = WebTransportConfig {
            keep_alive_interval_ms: 30_000,
            ..Default::default()
        };
        assert!(keep_alive_too_slow.validate().is_err());
    }
}
