//! The certificate the WebTransport listener presents: a configured one
//! for production, or a short-lived self-signed one for development whose
//! hash browsers pin with `serverCertificateHashes`.

use std::time::{Duration, SystemTime};

use wtransport::Identity;

use super::WtError;
use super::config::WebTransportConfig;

/// A day, in the units certificate lifetimes are counted in.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A certificate and key, with what clients need to know about them.
pub struct Certified {
    /// The chain and key.
    pub identity: Identity,
    /// SHA-256 of the leaf certificate's DER.
    pub hash: [u8; 32],
    /// When a self-signed certificate stops being valid; `None` for a
    /// configured one (its owner renews it).
    pub expires: Option<SystemTime>,
}

impl Certified {
    /// The configured certificate, or a fresh self-signed one.
    pub async fn load(cfg: &WebTransportConfig) -> Result<Self, WtError> {
        let (Some(cert), Some(key)) = (&cfg.cert, &cfg.key) else {
            return Self::self_signed(cfg);
        };
        let identity = Identity::load_pemfiles(cert, key).await.map_err(|e| {
            WtError::Certificate(format!(
                "loading {} and {}: {e}",
                cert.display(),
                key.display()
            ))
        })?;
        Ok(Self::new(identity, None))
    }

    /// A self-signed ECDSA P-256 certificate for the configured names,
    /// valid from now for `self_signed_days`.
    pub fn self_signed(cfg: &WebTransportConfig) -> Result<Self, WtError> {
        let days = cfg.self_signed_days;
        let identity = Identity::self_signed_builder()
            .subject_alt_names(&cfg.self_signed_names)
            .from_now_utc()
            .validity_days(days)
            .build()
            .map_err(|e| WtError::Certificate(format!("self-signed certificate: {e}")))?;
        let expires = SystemTime::now() + DAY * days;
        Ok(Self::new(identity, Some(expires)))
    }

    fn new(identity: Identity, expires: Option<SystemTime>) -> Self {
        let hash = identity
            .certificate_chain()
            .as_slice()
            .first()
            .map(|leaf| *leaf.hash().as_ref())
            .unwrap_or_default();
        Self {
            identity,
            hash,
            expires,
        }
    }

    /// How long until a self-signed certificate should be replaced: a day
    /// before it expires, so clients that fetched its hash late still
    /// connect. `None` for a configured certificate.
    pub fn renew_in(&self) -> Option<Duration> {
        let expires = self.expires?;
        let left = expires
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        Some(left.saturating_sub(DAY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_p256_for_at_most_the_days_set() {
        let cfg = WebTransportConfig::default();
        let certified = Certified::self_signed(&cfg).expect("self-signed");
        let leaf = &certified.identity.certificate_chain().as_slice()[0];
        // id-ecPublicKey with the prime256v1 curve, in the DER.
        let p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        assert!(leaf.der().windows(p256.len()).any(|w| w == p256));
        assert_eq!(certified.hash, *leaf.hash().as_ref());
        let renew = certified.renew_in().expect("self-signed renews");
        assert!(renew <= DAY * 13 && renew > DAY * 12, "{renew:?}");
    }
}
