//! Signatures of outgoing webhook deliveries, as the Standard Webhooks
//! specification (standardwebhooks.com) writes them, so a receiver can use
//! any of its libraries, or this module:
//!
//! - `webhook-id`: the delivery's id (the same on every retry);
//! - `webhook-timestamp`: when it was signed, Unix seconds;
//! - `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed with the
//!   secret's bytes (base64 after `whsec_`), of `{id}.{timestamp}.{body}`;
//!   several, space-separated, may be given.
//!
//! A receiver checks the signature, refuses a timestamp more than
//! [`TOLERANCE_SECS`] away from its clock, and remembers the ids it took
//! for that long ([`ReplayGuard`]): a captured request replayed later is
//! stale, and one replayed at once is a repeat.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the delivery's id.
pub const ID_HEADER: &str = "webhook-id";
/// The header with the signing time, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header with the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The header naming the bot the delivery is for (not signed: the
/// secret that verifies it already names the bot).
pub const BOT_HEADER: &str = "chat-bot-id";
/// How a secret starts.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: u64 = 300;

/// Why a delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The secret is not `whsec_` and base64.
    #[error("the secret is not whsec_ followed by base64")]
    BadSecret,
    /// A header is missing or malformed.
    #[error("malformed {0} header")]
    Malformed(&'static str),
    /// The timestamp is too far from now: a replay, or a clock far off.
    #[error("timestamp {skew_secs} s from now, past the {TOLERANCE_SECS} s tolerance")]
    Stale {
        /// How far off it is.
        skew_secs: u64,
    },
    /// No signature matches.
    #[error("no signature matches")]
    BadSignature,
    /// This id was already taken.
    #[error("delivery {0} was already received")]
    Replayed(String),
}

/// A new secret for `key` (at least 24 random bytes).
pub fn secret_from_key(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

fn mac(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Result<Hmac<Sha256>, Refused> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .filter(|key| !key.is_empty())
        .ok_or(Refused::BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| Refused::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` value of a delivery.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Result<String, Refused> {
    let tag = mac(secret, id, timestamp, body)?.finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Checks a delivery's headers and body at `now_secs`; returns its
/// timestamp. Signatures are compared in constant time.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: u64,
) -> Result<u64, Refused> {
    if id.is_empty() {
        return Err(Refused::Malformed(ID_HEADER));
    }
    let at: u64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Refused::Malformed(TIMESTAMP_HEADER))?;
    let skew_secs = at.abs_diff(now_secs);
    if skew_secs > TOLERANCE_SECS {
        return Err(Refused::Stale { skew_secs });
    }
    let mac = mac(secret, id, at, body)?;
    let matches = signatures
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|tag| mac.clone().verify_slice(&tag).is_ok());
    if matches {
        Ok(at)
    } else {
        Err(Refused::BadSignature)
    }
}

/// The delivery ids a receiver took within the tolerance: a second request
/// with one of them is a replay (a retry of a delivery already handled).
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: HashMap<String, u64>,
}

impl ReplayGuard {
    /// Takes a verified delivery `id` signed at `timestamp`, or refuses it
    /// if it was taken before; forgets ids past the tolerance.
    pub fn take(&mut self, id: &str, timestamp: u64, now_secs: u64) -> Result<(), Refused> {
        let horizon = now_secs.saturating_sub(2 * TOLERANCE_SECS);
        self.seen.retain(|_, at| *at >= horizon);
        if self.seen.contains_key(id) {
            return Err(Refused::Replayed(id.to_owned()));
        }
        self.seen.insert(id.to_owned(), timestamp);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's test vectors.
    #[test]
    fn signs_like_the_specification() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, id, 1_614_265_330, body).expect("sign");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            verify(secret, id, "1614265330", &signature, body, 1_614_265_330),
            Ok(1_614_265_330)
        );
    }

    /// docs/protocol.md's example delivery carries the signature its
    /// example secret gives.
    #[test]
    fn the_documented_example_delivery_verifies() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
        let doc = std::fs::read_to_string(path).expect("docs/protocol.md");
        let example = doc
            .split("POST /chat/events HTTP/1.1\n")
            .nth(1)
            .expect("the example delivery");
        let (head, rest) = example.split_once("\n\n").expect("headers, then the body");
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("{name} in the example"))
        };
        let body = rest.lines().next().expect("the body");
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(
            doc.contains(secret),
            "the example secret is the documented one"
        );
        let id = header(ID_HEADER);
        let timestamp = header(TIMESTAMP_HEADER);
        let now: u64 = timestamp.parse().expect("seconds");
        assert_eq!(
            verify(
                secret,
                id,
                timestamp,
                header(SIGNATURE_HEADER),
                body.as_bytes(),
                now
            ),
            Ok(now)
        );
    }

    #[test]
    fn tampering_staleness_and_repeats_are_refused() {
        let secret = secret_from_key(&[7; 32]);
        let body = br#"{"type":"message"}"#;
        let sig = sign(&secret, "42", 1_000, body).expect("sign");
        let other = format!("v1,AAAA {sig}");
        assert_eq!(
            verify(&secret, "42", "1000", &other, body, 1_000),
            Ok(1_000),
            "any of several"
        );
        assert_eq!(
            verify(&secret, "42", "1000", &sig, b"{}", 1_000),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(&secret, "43", "1000", &sig, body, 1_000),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(&secret, "42", "1001", &sig, body, 1_000),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(&secret_from_key(&[8; 32]), "42", "1000", &sig, body, 1_000),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(
                &secret,
                "42",
                "1000",
                &sig,
                body,
                1_000 + TOLERANCE_SECS + 1
            ),
            Err(Refused::Stale {
                skew_secs: TOLERANCE_SECS + 1
            })
        );
        assert_eq!(
            verify(&secret, "42", "soon", &sig, body, 1_000),
            Err(Refused::Malformed(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify("plain", "42", "1000", &sig, body, 1_000),
            Err(Refused::BadSecret)
        );
        let mut guard = ReplayGuard::default();
        assert_eq!(guard.take("42", 1_000, 1_000), Ok(()));
        assert_eq!(
            guard.take("42", 1_000, 1_010),
            Err(Refused::Replayed("42".to_owned()))
        );
        assert_eq!(guard.take("43", 1_000, 1_010), Ok(()));
    }
}
