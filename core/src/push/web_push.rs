//! Web Push (RFC 8030 delivery, RFC 8291 message encryption, RFC 8292
//! VAPID): the payload is encrypted for the browser's subscription keys,
//! so the push service carries it without reading it.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use web_push_native::p256::PublicKey;

use super::provider::{self, Outcome, Provider};
use super::{Notification, VapidKey};
use crate::store::{PushKind, PushTargetRecord};

/// How long a VAPID token is valid (RFC 8292 allows up to 24 hours).
const TOKEN_VALID: Duration = Duration::from_secs(12 * 60 * 60);

/// Delivers to browsers' push services.
pub struct WebPush {
    http: reqwest::Client,
    vapid: Arc<VapidKey>,
    subject: String,
}

impl WebPush {
    /// A provider signing with `vapid` on behalf of `subject`.
    pub fn new(http: reqwest::Client, vapid: Arc<VapidKey>, subject: String) -> Self {
        Self {
            http,
            vapid,
            subject,
        }
    }

    async fn send(&self, target: &PushTargetRecord, note: &Notification) -> Outcome {
        let endpoint = match reqwest::Url::parse(&target.address) {
            Ok(url) => url,
            Err(e) => return Outcome::Gone(format!("endpoint is not a URL: {e}")),
        };
        let (Ok(key), Ok(auth)) = (
            PublicKey::from_sec1_bytes(&target.p256dh),
            <[u8; 16]>::try_from(target.auth.as_slice()),
        ) else {
            return Outcome::Gone("subscription keys unusable".to_owned());
        };
        let body = match web_push_native::encrypt(note.json(), &key, &auth.into()) {
            Ok(body) => body,
            Err(e) => return Outcome::Rejected(format!("payload not encrypted: {e}")),
        };
        let origin = endpoint.origin().ascii_serialization();
        let authorization = match self
            .vapid
            .authorization(&origin, &self.subject, TOKEN_VALID)
        {
            Ok(value) => value,
            Err(e) => return Outcome::Rejected(e.to_string()),
        };
        let request = self
            .http
            .post(endpoint)
            .header("TTL", note.ttl.as_secs().to_string())
            .header("Urgency", if note.urgent { "high" } else { "normal" })
            .header("Topic", note.collapse_key())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body);
        match provider::exchange(request).await {
            Ok((status, retry_after, text)) => provider::by_status(status, retry_after, &text),
            Err(outcome) => outcome,
        }
    }
}

impl Provider for WebPush {
    fn kind(&self) -> PushKind {
        PushKind::WebPush
    }

    fn deliver<'a>(
        &'a self,
        target: &'a PushTargetRecord,
        note: &'a Notification,
    ) -> BoxFuture<'a, Outcome> {
        self.send(target, note).boxed()
    }
}
