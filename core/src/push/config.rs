//! Push notification settings.

use serde::{Deserialize, Serialize};

/// Push notification settings of the core.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Push targets one user may have (one per device and app).
    pub max_targets_per_user: usize,
    /// Hosts a Web Push endpoint may be at: a name matches itself, a name
    /// with a leading dot any name under it. The default lists the browser
    /// vendors' push services; anything else would let a client make the
    /// server post to any address.
    pub web_push_hosts: Vec<String>,
    /// Accept `http://` Web Push endpoints (a local push server in tests;
    /// never in production, where push services use HTTPS).
    pub web_push_insecure: bool,
    /// The VAPID private key: base64url of the 32-byte P-256 scalar, from
    /// the deployment's secrets. Empty: a key is generated once and kept in
    /// storage, so every core and every restart signs with the same one
    /// (browsers' subscriptions are bound to it).
    pub vapid_private_key: String,
    /// Whom push services may contact about this server (`mailto:` or
    /// `https:`), named in every VAPID token.
    pub vapid_subject: String,
    /// How long the first message of a burst waits for more before its
    /// notification goes, in ms: a burst becomes one notification.
    pub coalesce_ms: u64,
    /// Least time between two notifications of one channel to one device,
    /// in ms; messages meanwhile update the next one's count.
    pub min_interval_ms: u64,
    /// The first retry's delay after a failed delivery, in ms; it doubles
    /// with each try, with jitter, up to `retry_max_ms`, and a push
    /// service's `Retry-After` is honoured.
    pub retry_base_ms: u64,
    /// The longest delay between two tries, in ms.
    pub retry_max_ms: u64,
    /// A notification not delivered this long after it was queued is given
    /// up and kept as a dead letter, in ms.
    pub max_age_ms: u64,
    /// How long one try may take before another worker may take the
    /// notification again (after a crash), in ms.
    pub claim_ms: u64,
    /// Deadline of one request to a push service, in ms.
    pub request_timeout_ms: u64,
    /// Deliveries one core makes at once.
    pub concurrency: usize,
    /// How often the worker looks for notifications due that it was not
    /// told of (channels this core gained from another), in ms.
    pub poll_ms: u64,
    /// Firebase Cloud Messaging (`core.push.fcm.*`).
    pub fcm: FcmConfig,
    /// Apple Push Notification service (`core.push.apns.*`).
    pub apns: ApnsConfig,
}

/// How to reach FCM (HTTP v1 API, OAuth2 with a service account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FcmConfig {
    /// The service account's JSON key file (from the deployment's secrets:
    /// it names the project, the account, its private key and the token
    /// endpoint). Empty: FCM targets are not notified (dead letters).
    pub service_account_file: String,
    /// The FCM API's base URL.
    pub url: String,
}

impl Default for FcmConfig {
    fn default() -> Self {
        Self {
            service_account_file: String::new(),
            url: "https://fcm.googleapis.com".to_owned(),
        }
    }
}

/// How to reach APNs (HTTP/2, token-based authentication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApnsConfig {
    /// The `.p8` signing key from Apple (a PEM file, from the deployment's
    /// secrets). Empty: APNs targets are not notified (dead letters).
    pub key_file: String,
    /// The key's id (10 characters, from the developer account).
    pub key_id: String,
    /// The team id the key belongs to.
    pub team_id: String,
    /// The APNs base URL: production, or `https://api.sandbox.push.apple.com`
    /// for development builds of the app. An `http://` URL speaks HTTP/2
    /// without TLS (a local server in tests).
    pub url: String,
}

impl Default for ApnsConfig {
    fn default() -> Self {
        Self {
            key_file: String::new(),
            key_id: String::new(),
            team_id: String::new(),
            url: "https://api.push.apple.com".to_owned(),
        }
    }
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            max_targets_per_user: 20,
            web_push_hosts: [
                "fcm.googleapis.com",
                "updates.push.services.mozilla.com",
                "web.push.apple.com",
                ".notify.windows.com",
            ]
            .map(str::to_owned)
            .to_vec(),
            web_push_insecure: false,
            vapid_private_key: String::new(),
            vapid_subject: "mailto:admin@localhost".to_owned(),
            coalesce_ms: 1_000,
            min_interval_ms: 30_000,
            retry_base_ms: 1_000,
            retry_max_ms: 300_000,
            max_age_ms: 86_400_000,
            claim_ms: 60_000,
            request_timeout_ms: 10_000,
            concurrency: 32,
            poll_ms: 1_000,
            fcm: FcmConfig::default(),
            apns: ApnsConfig::default(),
        }
    }
}

impl std::fmt::Debug for PushConfig {
    /// Everything but the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConfig")
            .field("max_targets_per_user", &self.max_targets_per_user)
            .field("web_push_hosts", &self.web_push_hosts)
            .field("web_push_insecure", &self.web_push_insecure)
            .field(
                "vapid_private_key",
                &if self.vapid_private_key.is_empty() {
                    "(from storage)"
                } else {
                    "(set)"
                },
            )
            .field("vapid_subject", &self.vapid_subject)
            .field("coalesce_ms", &self.coalesce_ms)
            .field("min_interval_ms", &self.min_interval_ms)
            .field("retry_base_ms", &self.retry_base_ms)
            .field("retry_max_ms", &self.retry_max_ms)
            .field("max_age_ms", &self.max_age_ms)
            .field("claim_ms", &self.claim_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("concurrency", &self.concurrency)
            .field("poll_ms", &self.poll_ms)
            .field("fcm", &self.fcm)
            .field("apns", &self.apns)
            .finish()
    }
}

impl PushConfig {
    /// Whether a Web Push endpoint may be at `host`.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.web_push_hosts.iter().any(|allowed| {
            let allowed = allowed.to_ascii_lowercase();
            match allowed.strip_prefix('.') {
                Some(domain) => host
                    .strip_suffix(domain)
                    .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => host == allowed,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_under_a_leading_dot() {
        let c = PushConfig::default();
        assert!(c.allows_host("fcm.googleapis.com"));
        assert!(c.allows_host("FCM.googleapis.com"));
        assert!(c.allows_host("wns2-db5p.notify.windows.com"));
        assert!(!c.allows_host("notify.windows.com"), "only names under it");
        assert!(!c.allows_host("evilnotify.windows.com"));
        assert!(!c.allows_host("fcm.googleapis.com.evil.example"));
        assert!(!c.allows_host("127.0.0.1"));
    }

    #[test]
    fn the_private_key_is_never_printed() {
        let c = PushConfig {
            vapid_private_key: "c2VjcmV0".to_owned(),
            ..PushConfig::default()
        };
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
    }
}
