//! The one trait every push service is reached through, and what a try
//! comes to.

use std::time::Duration;

use futures::future::BoxFuture;

use super::Notification;
use crate::store::{PushKind, PushTargetRecord};

/// What one delivery try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push service took it.
    Delivered,
    /// The target no longer exists (unsubscribed, token invalid): it is
    /// removed with its notifications.
    Gone(String),
    /// Try again later: the service was unreachable, overloaded or rate
    /// limiting, at the earliest after `after` if it said so.
    Retry {
        /// The service's `Retry-After`.
        after: Option<Duration>,
        /// What it said.
        reason: String,
    },
    /// The service refused it for good (bad request, credentials): kept
    /// as a dead letter.
    Rejected(String),
}

/// A push service (Web Push, FCM, APNs).
pub trait Provider: Send + Sync + 'static {
    /// The kind of targets it reaches.
    fn kind(&self) -> PushKind;

    /// Delivers `note` to `target` once.
    fn deliver<'a>(
        &'a self,
        target: &'a PushTargetRecord,
        note: &'a Notification,
    ) -> BoxFuture<'a, Outcome>;
}

/// How an HTTP answer of a push service maps to an [`Outcome`], for the
/// statuses every one of them shares: 2xx delivered, 404/410 gone,
/// 429 and 5xx retried, the rest rejected.
pub fn by_status(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    body: &str,
) -> Outcome {
    let reason = format!("{status}: {}", body.chars().take(300).collect::<String>());
    match status.as_u16() {
        200..=299 => Outcome::Delivered,
        404 | 410 => Outcome::Gone(reason),
        408 | 429 | 500..=599 => Outcome::Retry {
            after: retry_after,
            reason,
        },
        _ => Outcome::Rejected(reason),
    }
}

/// Sends `request` to a push service and reads its answer: its status, its
/// `Retry-After` and its body; no answer at all is a [`Outcome::Retry`].
pub async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, Option<Duration>, String), Outcome> {
    let response = request.send().await.map_err(|e| unreachable(&e))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::retry::parse_retry_after(v, std::time::SystemTime::now()));
    let text = response.text().await.unwrap_or_default();
    Ok((status, retry_after, text))
}

/// What a request that got no answer comes to: tried again.
pub fn unreachable(e: &reqwest::Error) -> Outcome {
    Outcome::Retry {
        after: None,
        reason: format!("no answer: {e}"),
    }
}
