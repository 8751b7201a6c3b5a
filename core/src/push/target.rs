//! What makes a push target acceptable, checked before it is stored: a
//! Web Push endpoint at an allowed push service with well-formed keys, or
//! a device token of the shape its service issues.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chat_proto::v1 as pb;
use web_push_native::p256;

use super::config::PushConfig;
use crate::error::CoreError;
use crate::store::PushKind;

/// Longest endpoint URL or device token accepted.
pub const MAX_ADDRESS_CHARS: usize = 2048;
/// Longest app id (FCM project, APNs bundle id).
const MAX_APP_ID_CHARS: usize = 155;
/// Longest platform name.
const MAX_PLATFORM_CHARS: usize = 32;

/// A target that passed the checks, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedTarget {
    /// Its service.
    pub kind: PushKind,
    /// Endpoint or device token.
    pub address: String,
    /// Web Push keys (empty otherwise).
    pub p256dh: Vec<u8>,
    /// Web Push authentication secret (empty otherwise).
    pub auth: Vec<u8>,
    /// FCM project or APNs topic (empty for Web Push).
    pub app_id: String,
    /// The platform, defaulted from the kind.
    pub platform: String,
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::invalid("invalid_push_target", message)
}

/// Base64url as browsers write subscription keys, padded or not.
const KEYS: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The service a request names.
pub fn kind_of(code: i32) -> Result<PushKind, CoreError> {
    match pb::PushKind::try_from(code) {
        Ok(pb::PushKind::WebPush) => Ok(PushKind::WebPush),
        Ok(pb::PushKind::Fcm) => Ok(PushKind::Fcm),
        Ok(pb::PushKind::Apns) => Ok(PushKind::Apns),
        _ => Err(invalid("kind must be web_push, fcm or apns")),
    }
}

/// Checks a registration against `config`.
pub fn check(
    req: &pb::RegisterPushTargetRequest,
    config: &PushConfig,
) -> Result<CheckedTarget, CoreError> {
    let kind = kind_of(req.kind)?;
    if req.address.is_empty() {
        return Err(invalid(match kind {
            PushKind::WebPush => "endpoint is required",
            _ => "token is required",
        }));
    }
    if req.address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(invalid(format!(
            "endpoint or token is longer than {MAX_ADDRESS_CHARS} characters"
        )));
    }
    let platform = platform(kind, &req.platform)?;
    let mut checked = CheckedTarget {
        kind,
        address: req.address.clone(),
        p256dh: Vec::new(),
        auth: Vec::new(),
        app_id: String::new(),
        platform,
    };
    match kind {
        PushKind::WebPush => {
            endpoint(&req.address, config)?;
            checked.p256dh = p256dh(&req.p256dh)?;
            checked.auth = auth(&req.auth)?;
        }
        PushKind::Fcm => {
            // Registration tokens are base64url-ish with a `:` after the
            // instance id.
            let ok = req
                .address
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
            if !ok {
                return Err(invalid("an FCM token has letters, digits and - _ : . only"));
            }
            checked.app_id = app_id(&req.app_id, "an FCM project id")?;
        }
        PushKind::Apns => {
            let hex = req.address.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex || req.address.len() < 64 || !req.address.len().is_multiple_of(2) {
                return Err(invalid("an APNs device token is hex, 64 digits or more"));
            }
            checked.address = req.address.to_ascii_lowercase();
            checked.app_id = app_id(&req.app_id, "the app's bundle id (the APNs topic)")?;
        }
    }
    Ok(checked)
}

fn endpoint(url: &str, config: &PushConfig) -> Result<(), CoreError> {
    let uri: http::Uri = url.parse().map_err(|_| invalid("endpoint is not a URL"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if config.web_push_insecure => {}
        _ => return Err(invalid("endpoint must be an https:// URL")),
    }
    let host = uri.host().ok_or_else(|| invalid("endpoint has no host"))?;
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(invalid("endpoint must not carry credentials"));
    }
    if !config.allows_host(host) {
        return Err(invalid(format!(
            "endpoint host {host} is not a push service this server sends to"
        )));
    }
    Ok(())
}

fn p256dh(key: &str) -> Result<Vec<u8>, CoreError> {
    let bytes = KEYS
        .decode(key)
        .map_err(|_| invalid("keys.p256dh is not base64url"))?;
    if bytes.len() != 65 || p256::PublicKey::from_sec1_bytes(&bytes).is_err() {
        return Err(invalid(
            "keys.p256dh is not an uncompressed P-256 public key (65 bytes)",
        ));
    }
    Ok(bytes)
}

fn auth(secret: &str) -> Result<Vec<u8>, CoreError> {
    let bytes = KEYS
        .decode(secret)
        .map_err(|_| invalid("keys.auth is not base64url"))?;
    if bytes.len() != 16 {
        return Err(invalid("keys.auth is not a 16-byte secret"));
    }
    Ok(bytes)
}

fn app_id(id: &str, what: &str) -> Result<String, CoreError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_APP_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !ok {
        return Err(invalid(format!(
            "app_id must be {what}: letters, digits and - _ . (at most {MAX_APP_ID_CHARS})"
        )));
    }
    Ok(id.to_owned())
}

fn platform(kind: PushKind, given: &str) -> Result<String, CoreError> {
    if given.is_empty() {
        return Ok(match kind {
            PushKind::WebPush => "web",
            PushKind::Fcm => "android",
            PushKind::Apns => "ios",
        }
        .to_owned());
    }
    let ok = given.len() <= MAX_PLATFORM_CHARS
        && given
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_".contains(&b));
    if !ok {
        return Err(invalid(format!(
            "platform is lowercase letters, digits, - and _ (at most {MAX_PLATFORM_CHARS})"
        )));
    }
    Ok(given.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscription's public key (RFC 8291's example user agent key).
    const P256DH: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn web(endpoint: &str) -> pb::RegisterPushTargetRequest {
        pb::RegisterPushTargetRequest {
            actor_id: 1,
            kind: pb::PushKind::WebPush as i32,
            address: endpoint.to_owned(),
            p256dh: P256DH.to_owned(),
            auth: AUTH.to_owned(),
            ..Default::default()
        }
    }

    fn message(r: Result<CheckedTarget, CoreError>) -> String {
        match r {
            Err(CoreError::Invalid { code, message }) => {
                assert_eq!(code, "invalid_push_target");
                message
            }
            other => panic!("expected invalid_push_target, got {other:?}"),
        }
    }

    #[test]
    fn a_browser_subscription_at_a_push_service_is_accepted() {
        let c = PushConfig::default();
        let t = check(&web("https://fcm.googleapis.com/fcm/send/abc:def"), &c).expect("ok");
        assert_eq!((t.kind, t.platform.as_str()), (PushKind::WebPush, "web"));
        assert_eq!((t.p256dh.len(), t.auth.len()), (65, 16));
        let padded = pb::RegisterPushTargetRequest {
            auth: format!("{AUTH}=="),
            ..web("https://updates.push.services.mozilla.com/wpush/v2/x")
        };
        assert!(check(&padded, &c).is_ok(), "padding is allowed");
    }

    #[test]
    fn endpoints_elsewhere_or_in_clear_are_refused() {
        let c = PushConfig::default();
        assert!(message(check(&web("https://evil.example/x"), &c)).contains("not a push service"));
        assert!(message(check(&web("http://fcm.googleapis.com/x"), &c)).contains("https"));
        assert!(
            message(check(&web("https://u:p@fcm.googleapis.com/x"), &c)).contains("credentials")
        );
        assert!(message(check(&web("not a url"), &c)).contains("not a URL"));
        assert!(message(check(&web(""), &c)).contains("required"));
        let local = PushConfig {
            web_push_hosts: vec!["127.0.0.1".to_owned()],
            web_push_insecure: true,
            ..PushConfig::default()
        };
        assert!(check(&web("http://127.0.0.1:8080/push/1"), &local).is_ok());
    }

    #[test]
    fn bad_keys_are_named() {
        let c = PushConfig::default();
        let ep = "https://fcm.googleapis.com/fcm/send/x";
        let short = pb::RegisterPushTargetRequest {
            p256dh: "BCVx".to_owned(),
            ..web(ep)
        };
        assert!(message(check(&short, &c)).contains("p256dh"));
        let mut off_curve = P256DH.to_owned();
        off_curve.replace_range(10..14, "AAAA");
        let off = pb::RegisterPushTargetRequest {
            p256dh: off_curve,
            ..web(ep)
        };
        assert!(message(check(&off, &c)).contains("p256dh"));
        let auth = pb::RegisterPushTargetRequest {
            auth: "!!".to_owned(),
            ..web(ep)
        };
        assert!(message(check(&auth, &c)).contains("keys.auth"));
    }

    #[test]
    fn device_tokens_have_their_services_shape() {
        let c = PushConfig::default();
        let fcm = pb::RegisterPushTargetRequest {
            actor_id: 1,
            kind: pb::PushKind::Fcm as i32,
            address: "fXk2:APA91bH_x-y".to_owned(),
            app_id: "my-project".to_owned(),
            ..Default::default()
        };
        assert_eq!(check(&fcm, &c).expect("fcm").platform, "android");
        let no_app = pb::RegisterPushTargetRequest {
            app_id: String::new(),
            ..fcm.clone()
        };
        assert!(message(check(&no_app, &c)).contains("app_id"));
        let spaced = pb::RegisterPushTargetRequest {
            address: "a b".to_owned(),
            ..fcm
        };
        assert!(message(check(&spaced, &c)).contains("FCM token"));
        let apns = pb::RegisterPushTargetRequest {
            actor_id: 1,
            kind: pb::PushKind::Apns as i32,
            address: "AB".repeat(32),
            app_id: "com.example.chat".to_owned(),
            ..Default::default()
        };
        assert_eq!(check(&apns, &c).expect("apns").address, "ab".repeat(32));
        let short = pb::RegisterPushTargetRequest {
            address: "ab".repeat(8),
            ..apns
        };
        assert!(message(check(&short, &c)).contains("APNs"));
        let none = pb::RegisterPushTargetRequest {
            kind: 0,
            ..Default::default()
        };
        assert!(message(check(&none, &c)).contains("kind"));
    }
}
