//! Apple Push Notification service over HTTP/2 with token-based
//! authentication: every request carries a JWT (ES256, the team's `.p8`
//! key, its key id in the header) renewed every 50 minutes, as Apple asks
//! (at most hourly, at least every 20 minutes apart).

use std::time::{Duration, Instant, SystemTime};

use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ES256KeyPair};
use web_push_native::jwt_simple::claims::Claims;

use super::Notification;
use super::config::ApnsConfig;
use super::provider::{self, Outcome, Provider};
use crate::error::CoreError;
use crate::store::{PushKind, PushTargetRecord};

/// How long one provider token is used.
const TOKEN_LIFE: Duration = Duration::from_secs(50 * 60);

/// Delivers to iOS and macOS apps.
pub struct Apns {
    http: reqwest::Client,
    key: ES256KeyPair,
    team_id: String,
    url: String,
    token: Mutex<Option<(String, Instant)>>,
}

impl Apns {
    /// The provider for `config`'s key; `http` must speak HTTP/2.
    pub fn load(config: &ApnsConfig, http: reqwest::Client) -> Result<Self, CoreError> {
        let unusable =
            |why: String| CoreError::invalid("invalid_apns_key", format!("core.push.apns: {why}"));
        if config.key_id.is_empty() || config.team_id.is_empty() {
            return Err(unusable(
                "key_id and team_id are needed with key_file".into(),
            ));
        }
        let pem = std::fs::read_to_string(&config.key_file)
            .map_err(|e| unusable(format!("{}: {e}", config.key_file)))?;
        let key = ES256KeyPair::from_pem(&pem)
            .map_err(|e| unusable(format!("key_file is no P-256 key: {e}")))?
            .with_key_id(&config.key_id);
        Ok(Self {
            http,
            key,
            team_id: config.team_id.clone(),
            url: config.url.trim_end_matches('/').to_owned(),
            token: Mutex::new(None),
        })
    }

    async fn provider_token(&self) -> Result<String, Outcome> {
        let mut kept = self.token.lock().await;
        if let Some((token, until)) = &*kept
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let claims = Claims::create(Duration::from_secs(3600).into()).with_issuer(&self.team_id);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| Outcome::Rejected(format!("APNs token not signed: {e}")))?;
        *kept = Some((token.clone(), Instant::now() + TOKEN_LIFE));
        Ok(token)
    }

    async fn send(&self, target: &PushTargetRecord, note: &Notification) -> Outcome {
        let token = match self.provider_token().await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let expires = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            + note.ttl;
        // A clear cannot remove a notification by itself: it wakes the app
        // in the background (priority 5, as Apple requires), which does.
        let (push_type, priority) = match (note.is_clear(), note.urgent) {
            (true, _) => ("background", "5"),
            (false, true) => ("alert", "10"),
            (false, false) => ("alert", "5"),
        };
        let request = self
            .http
            .post(format!("{}/3/device/{}", self.url, target.address))
            // As Apple writes it (schemes are case-insensitive anyway).
            .header("authorization", format!("bearer {token}"))
            .header("apns-topic", &target.app_id)
            .header("apns-push-type", push_type)
            .header("apns-priority", priority)
            .header("apns-expiration", expires.as_secs().to_string())
            .header("apns-collapse-id", note.collapse_key())
            .json(&payload(note));
        let (status, retry_after, text) = match provider::exchange(request).await {
            Ok(answer) => answer,
            Err(outcome) => return outcome,
        };
        let reason = serde_json::from_str::<Value>(&text).unwrap_or_default()["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if reason == "ExpiredProviderToken" || reason == "InvalidProviderToken" {
            *self.token.lock().await = None;
        }
        outcome(status, retry_after, &reason, &text)
    }
}

/// The APNs body: what the device shows (`aps`), and the notification's
/// JSON under `chat` for the app.
fn payload(note: &Notification) -> Value {
    let chat = note.body();
    if note.is_clear() {
        return json!({"aps": {"content-available": 1}, "chat": chat});
    }
    json!({
        "aps": {
            "alert": {"title": note.title(), "body": note.text()},
            "sound": "default",
            "thread-id": note.collapse_key(),
        },
        "chat": chat,
    })
}

/// An APNs answer as an [`Outcome`], by its `reason`.
fn outcome(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    reason: &str,
    body: &str,
) -> Outcome {
    match reason {
        "BadDeviceToken" | "Unregistered" | "DeviceTokenNotForTopic" | "ExpiredToken" => {
            Outcome::Gone(format!("{status}: {reason}"))
        }
        "ExpiredProviderToken" | "TooManyProviderTokenUpdates" => Outcome::Retry {
            after: retry_after,
            reason: format!("{status}: {reason}"),
        },
        _ => provider::by_status(status, retry_after, body),
    }
}

impl Provider for Apns {
    fn kind(&self) -> PushKind {
        PushKind::Apns
    }

    fn deliver<'a>(
        &'a self,
        target: &'a PushTargetRecord,
        note: &'a Notification,
    ) -> BoxFuture<'a, Outcome> {
        self.send(target, note).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, reason: &str) -> Outcome {
        let body = json!({"reason": reason}).to_string();
        outcome(
            reqwest::StatusCode::from_u16(status).expect("status"),
            None,
            reason,
            &body,
        )
    }

    #[test]
    fn apns_reasons_say_whether_the_token_is_gone() {
        assert!(matches!(answer(400, "BadDeviceToken"), Outcome::Gone(_)));
        assert!(matches!(answer(410, "Unregistered"), Outcome::Gone(_)));
        assert!(matches!(
            answer(400, "DeviceTokenNotForTopic"),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            answer(403, "ExpiredProviderToken"),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            answer(403, "InvalidProviderToken"),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            answer(429, "TooManyRequests"),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            answer(503, "ServiceUnavailable"),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            answer(400, "PayloadTooLarge"),
            Outcome::Rejected(_)
        ));
    }
}
