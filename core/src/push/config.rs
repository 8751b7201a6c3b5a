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
