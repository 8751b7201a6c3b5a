//! Push notifications for members with no live session: the settings, the
//! checks a device's push target passes before it is stored, the server's
//! VAPID key, the outbox writer the write path feeds, the worker that
//! delivers, and the providers it delivers through.

pub mod apns;
pub mod config;
pub mod fcm;
pub mod notification;
pub mod provider;
pub mod queue;
pub mod retry;
pub mod rounds;
pub mod target;
pub mod vapid;
pub mod web_push;
pub mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use config::PushConfig;
pub use notification::Notification;
pub use provider::{Outcome, Provider};
pub use queue::PushQueue;
pub use vapid::VapidKey;

use crate::error::CoreError;
use crate::store::PushKind;

/// The providers this core delivers through, by the kind of target: Web
/// Push always, FCM and APNs when their credentials are configured.
pub fn providers(
    config: &PushConfig,
    vapid: Arc<VapidKey>,
) -> Result<HashMap<PushKind, Arc<dyn Provider>>, CoreError> {
    let web: Arc<dyn Provider> = Arc::new(web_push::WebPush::new(
        client(config, false)?,
        vapid,
        config.vapid_subject.clone(),
    ));
    let mut all = HashMap::from([(PushKind::WebPush, web)]);
    if !config.fcm.service_account_file.is_empty() {
        let fcm = fcm::Fcm::load(&config.fcm, client(config, false)?)?;
        all.insert(PushKind::Fcm, Arc::new(fcm));
    }
    if !config.apns.key_file.is_empty() {
        // APNs speaks HTTP/2 only: negotiated over TLS, or from the first
        // byte on a plain `http://` URL (a local server).
        let plain = config.apns.url.starts_with("http://");
        let apns = apns::Apns::load(&config.apns, client(config, plain)?)?;
        all.insert(PushKind::Apns, Arc::new(apns));
    }
    Ok(all)
}

/// An HTTP client for push services, with the push deadlines.
fn client(config: &PushConfig, http2_only: bool) -> Result<reqwest::Client, CoreError> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_millis(config.request_timeout_ms))
        .connect_timeout(Duration::from_millis(config.request_timeout_ms.min(5_000)))
        .user_agent(concat!("chat-core/", env!("CARGO_PKG_VERSION")));
    if http2_only {
        builder = builder.http2_prior_knowledge();
    }
    builder
        .build()
        .map_err(|e| CoreError::invalid("push_client", format!("no HTTP client for push: {e}")))
}
