//! Bots' outgoing webhooks: which URLs a webhook may have, the HTTP client
//! that posts to them (which never reaches a non-public address unless the
//! operator allows it), and the worker that delivers the outbox.

pub mod address;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::error::CoreError;
use crate::push::PushConfig;

/// The longest webhook URL.
pub const URL_MAX_BYTES: usize = 2_048;

/// Checks a webhook URL: `http` or `https`, with a host, at most
/// [`URL_MAX_BYTES`], and not at a literal non-public address unless
/// `allow_private` (host names are checked when they are resolved).
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, CoreError> {
    let invalid = |why: &str| CoreError::invalid("invalid_webhook_url", format!("url: {why}"));
    if url.len() > URL_MAX_BYTES {
        return Err(invalid(&format!("at most {URL_MAX_BYTES} bytes")));
    }
    let parsed = Url::parse(url).map_err(|e| invalid(&format!("not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must be http or https"));
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(invalid("has no host"));
    };
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .ok();
    if let Some(ip) = literal
        && !allow_private
        && !address::is_public(ip)
    {
        return Err(CoreError::invalid(
            "webhook_url_not_public",
            format!(
                "url: {ip} is not a public address (core.webhook_allow_private_addresses is off)"
            ),
        ));
    }
    Ok(parsed)
}

/// The client webhooks are posted with: the push deadlines, no redirects
/// (a receiver cannot send the core elsewhere), and unless
/// `allow_private` a resolver that keeps only public addresses.
pub fn client(config: &PushConfig, allow_private: bool) -> Result<reqwest::Client, CoreError> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_millis(config.request_timeout_ms))
        .connect_timeout(Duration::from_millis(config.request_timeout_ms.min(5_000)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "chat-core/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ));
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(address::PublicOnly));
    }
    builder.build().map_err(|e| {
        CoreError::invalid(
            "webhook_client",
            format!("no HTTP client for webhooks: {e}"),
        )
    })
}
