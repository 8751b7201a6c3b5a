//! How the edge reaches its core: address, deadlines, retries, keepalive.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings of the edge's link to the core (`[edge.core]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoreLinkConfig {
    /// The core's gRPC address (`http://host:port`, or `https://` with TLS);
    /// unused by the single-node server, which links in memory.
    pub url: String,
    /// Longest a unary call may take, retries included, in ms.
    pub call_timeout_ms: u64,
    /// Extra attempts of an idempotent call after the core was unreachable.
    pub retries: u32,
    /// The first pause before a retry; it doubles with each, in ms.
    pub retry_backoff_ms: u64,
    /// Longest wait for a TCP (and TLS) connection to the core, in ms.
    pub connect_timeout_ms: u64,
    /// HTTP/2 PING interval on the link, in ms. A dead core is noticed
    /// within `keepalive_interval_ms + keepalive_timeout_ms`.
    pub keepalive_interval_ms: u64,
    /// How long a PING may go unanswered before the link counts as dead, in ms.
    pub keepalive_timeout_ms: u64,
    /// PEM file of the CA that signed the core's certificate; TLS, with an
    /// `https://` URL (both or neither).
    pub tls_ca: Option<String>,
    /// The name the core's certificate must carry (default: the URL's host).
    pub tls_domain: Option<String>,
}

impl Default for CoreLinkConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:7100".into(),
            call_timeout_ms: 10_000,
            retries: 2,
            retry_backoff_ms: 50,
            connect_timeout_ms: 2_000,
            keepalive_interval_ms: 2_000,
            keepalive_timeout_ms: 3_000,
            tls_ca: None,
            tls_domain: None,
        }
    }
}

impl CoreLinkConfig {
    /// Checks the values against their allowed ranges.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("edge.core.call_timeout_ms", self.call_timeout_ms),
            ("edge.core.connect_timeout_ms", self.connect_timeout_ms),
            (
                "edge.core.keepalive_interval_ms",
                self.keepalive_interval_ms,
            ),
            ("edge.core.keepalive_timeout_ms", self.keepalive_timeout_ms),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be positive"));
            }
        }
        Ok(())
    }

    /// Checks that the URL's scheme and `tls_ca` agree: tonic speaks TLS
    /// only to an `https://` URL, so a CA with `http://` would silently send
    /// in plaintext, and `https://` without a CA can trust no certificate.
    pub fn check_tls(&self) -> Result<(), String> {
        let https = self.url.starts_with("https://");
        match (https, &self.tls_ca) {
            (true, None) => Err(format!(
                "edge.core.url {} is https:// but edge.core.tls_ca is not set: TLS needs the CA that signed the core's certificate",
                self.url
            )),
            (false, Some(_)) => Err(format!(
                "edge.core.tls_ca is set but edge.core.url {} is not https://: TLS is used only with an https:// URL",
                self.url
            )),
            _ => Ok(()),
        }
    }

    /// The budget of one unary call.
    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
}
