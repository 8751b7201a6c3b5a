//! Firebase Cloud Messaging, HTTP v1 API: each send carries an OAuth2
//! access token the core gets for its service account (a JWT signed with
//! the account's RSA key, exchanged at the account's token endpoint, kept
//! until shortly before it expires). Not the legacy API Google shut down.

use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use web_push_native::jwt_simple::algorithms::{RS256KeyPair, RSAKeyPairLike};
use web_push_native::jwt_simple::claims::Claims;

use super::Notification;
use super::config::FcmConfig;
use super::provider::{self, Outcome, Provider};
use crate::error::CoreError;
use crate::store::{PushKind, PushTargetRecord};

/// The OAuth2 scope of FCM sends.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// What the token endpoint is asked for.
const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The fields of a service account's JSON key file that are used.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
    token_uri: String,
}

#[derive(Serialize, Deserialize)]
struct Scope {
    scope: String,
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: String,
    expires_in: u64,
}

/// Delivers to Android (and other FCM) apps.
pub struct Fcm {
    http: reqwest::Client,
    key: RS256KeyPair,
    email: String,
    token_uri: String,
    send_url: String,
    token: Mutex<Option<(String, Instant)>>,
}

impl Fcm {
    /// The provider for the service account in `config`'s key file.
    pub fn load(config: &FcmConfig, http: reqwest::Client) -> Result<Self, CoreError> {
        let unusable = |why: String| {
            CoreError::invalid(
                "invalid_fcm_account",
                format!("core.push.fcm.service_account_file: {why}"),
            )
        };
        let text = std::fs::read_to_string(&config.service_account_file)
            .map_err(|e| unusable(format!("{}: {e}", config.service_account_file)))?;
        let account: ServiceAccount =
            serde_json::from_str(&text).map_err(|e| unusable(e.to_string()))?;
        let key = RS256KeyPair::from_pem(&account.private_key)
            .map_err(|e| unusable(format!("private_key: {e}")))?;
        Ok(Self {
            http,
            key,
            email: account.client_email,
            token_uri: account.token_uri,
            send_url: format!(
                "{}/v1/projects/{}/messages:send",
                config.url.trim_end_matches('/'),
                account.project_id
            ),
            token: Mutex::new(None),
        })
    }

    /// A valid access token: the kept one, or a new one.
    async fn access_token(&self) -> Result<String, Outcome> {
        let mut kept = self.token.lock().await;
        if let Some((token, until)) = &*kept
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let claims = Claims::with_custom_claims(
            Scope {
                scope: SCOPE.to_owned(),
            },
            Duration::from_secs(3600).into(),
        )
        .with_issuer(&self.email)
        .with_audience(&self.token_uri);
        let assertion = self
            .key
            .sign(claims)
            .map_err(|e| Outcome::Rejected(format!("FCM assertion not signed: {e}")))?;
        let answer = self
            .http
            .post(&self.token_uri)
            .form(&[("grant_type", GRANT), ("assertion", assertion.as_str())])
            .send()
            .await
            .map_err(|e| provider::unreachable(&e))?;
        let status = answer.status();
        if !status.is_success() {
            let body = answer.text().await.unwrap_or_default();
            // A refused account is the deployment's to fix; retried meanwhile.
            return Err(Outcome::Retry {
                after: None,
                reason: format!("OAuth2 token refused: {status}: {body}"),
            });
        }
        let token: AccessToken = answer.json().await.map_err(|e| Outcome::Retry {
            after: None,
            reason: format!("OAuth2 token unreadable: {e}"),
        })?;
        let life = Duration::from_secs(token.expires_in.saturating_sub(60));
        *kept = Some((token.access_token.clone(), Instant::now() + life));
        Ok(token.access_token)
    }

    async fn send(&self, target: &PushTargetRecord, note: &Notification) -> Outcome {
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let request = self
            .http
            .post(&self.send_url)
            .bearer_auth(token)
            .json(&message(target, note));
        let (status, retry_after, text) = match provider::exchange(request).await {
            Ok(answer) => answer,
            Err(outcome) => return outcome,
        };
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The access token expired early or was revoked: a new one.
            *self.token.lock().await = None;
        }
        outcome(status, retry_after, &text)
    }
}

/// The `message` of an FCM v1 send: `data` carries the notification's JSON
/// fields as strings (FCM allows only strings there); a notification (not
/// a clear) also carries what Android shows, tagged by channel so a newer
/// one replaces it.
fn message(target: &PushTargetRecord, note: &Notification) -> Value {
    let Value::Object(fields) = note.body() else {
        return Value::Null;
    };
    let data: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, Value::String(text))
        })
        .collect();
    let key = note.collapse_key();
    let mut android = json!({
        "collapse_key": key,
        "priority": if note.urgent { "HIGH" } else { "NORMAL" },
        "ttl": format!("{}s", note.ttl.as_secs()),
    });
    let mut message = json!({"token": target.address, "data": data});
    if !note.is_clear() {
        message["notification"] = json!({"title": note.title(), "body": note.text()});
        android["notification"] = json!({"tag": key});
    }
    message["android"] = android;
    json!({ "message": message })
}

/// An FCM answer as an [`Outcome`]: the token is gone when FCM says
/// `UNREGISTERED` (404), `SENDER_ID_MISMATCH` (403), or that the
/// registration token is invalid (400 `INVALID_ARGUMENT`).
fn outcome(status: reqwest::StatusCode, retry_after: Option<Duration>, body: &str) -> Outcome {
    let error: Value = serde_json::from_str(body).unwrap_or_default();
    let code = error["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["errorCode"].as_str())
        .unwrap_or_default();
    let message = error["error"]["message"].as_str().unwrap_or_default();
    match (status.as_u16(), code) {
        (_, "UNREGISTERED" | "SENDER_ID_MISMATCH") => Outcome::Gone(format!("{status}: {code}")),
        (400, "INVALID_ARGUMENT") if message.contains("registration token") => {
            Outcome::Gone(format!("{status}: {message}"))
        }
        (401, _) => Outcome::Retry {
            after: None,
            reason: format!("{status}: access token refused"),
        },
        _ => provider::by_status(status, retry_after, body),
    }
}

impl Provider for Fcm {
    fn kind(&self) -> PushKind {
        PushKind::Fcm
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

    fn error(status: u16, code: &str, message: &str) -> Outcome {
        let body = json!({"error": {"code": status, "message": message, "status": "X",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": code}]}});
        outcome(
            reqwest::StatusCode::from_u16(status).expect("status"),
            None,
            &body.to_string(),
        )
    }

    #[test]
    fn fcm_errors_say_whether_the_token_is_gone() {
        assert!(matches!(
            error(404, "UNREGISTERED", "Requested entity was not found."),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            error(403, "SENDER_ID_MISMATCH", "SenderId mismatch"),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token"
            ),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            error(400, "INVALID_ARGUMENT", "Invalid value at 'message.data'"),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            error(429, "QUOTA_EXCEEDED", "quota"),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            error(503, "UNAVAILABLE", "unavailable"),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            error(401, "THIRD_PARTY_AUTH_ERROR", "auth"),
            Outcome::Retry { .. }
        ));
    }
}
