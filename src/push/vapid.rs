//! VAPID (RFC 8292): our key pair and the signatures push services check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use web_push::{PartialVapidSignatureBuilder, SubscriptionInfo, VapidSignatureBuilder};

/// A `mailto:` or `https:` URL, as RFC 8292 §2.1 asks. Apple rejects `@localhost` contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidSubject(String);

impl VapidSubject {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let ok = match value.split_once(':') {
            Some(("mailto", address)) => {
                address.contains('@') && !address.ends_with("@localhost") && !address.contains(' ')
            }
            Some(("https", rest)) => rest.starts_with("//") && url::Url::parse(value).is_ok(),
            _ => false,
        };
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!("TIDINGS_VAPID_SUBJECT must be a mailto: address or an https: URL, got {value:?}"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// web-push signs with `exp` = now + 12 h (RFC 8292 §2 allows at most 24 h). Re-signing
/// well before that keeps a long campaign from ever presenting an expired token.
const SIGNATURE_REFRESH_AFTER: Duration = Duration::from_secs(6 * 3600);

pub struct VapidKeys {
    builder: PartialVapidSignatureBuilder,
    public_key: String,
    subject: VapidSubject,
    /// One `Authorization` value per push-service origin: ECDSA per message would waste
    /// most of the CPU.
    signatures: Mutex<HashMap<String, (Arc<str>, Instant)>>,
}

impl VapidKeys {
    pub fn from_private_key(private_key_b64: &str, subject: VapidSubject) -> Result<Self, String> {
        let builder = VapidSignatureBuilder::from_base64_no_sub(private_key_b64)
            .map_err(|e| format!("the stored VAPID private key is unusable: {e}"))?;
        let public_key = URL_SAFE_NO_PAD.encode(builder.get_public_key());
        Ok(Self { builder, public_key, subject, signatures: Mutex::default() })
    }

    /// The uncompressed public key, base64url: the browser's `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for pushes to `origin` (`aud`): `vapid t=<JWT>, k=<key>`
    /// (RFC 8292 §3), cached and re-signed before it expires.
    pub fn authorization_for(&self, origin: &str) -> Result<Arc<str>, web_push::WebPushError> {
        let mut cache = self.signatures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((header, signed_at)) = cache.get(origin) {
            if signed_at.elapsed() < SIGNATURE_REFRESH_AFTER {
                return Ok(header.clone());
            }
        }
        // web-push derives `aud` from the endpoint but drops a non-default port, so we set
        // it ourselves; the endpoint here only has to parse.
        let info = SubscriptionInfo::new(origin, "", "");
        let mut builder = self.builder.clone().add_sub_info(&info);
        builder.add_claim("aud", origin);
        builder.add_claim("sub", self.subject.as_str());
        let signature = builder.build()?;
        let header: Arc<str> =
            format!("vapid t={}, k={}", signature.auth_t, URL_SAFE_NO_PAD.encode(&signature.auth_k)).into();
        cache.insert(origin.to_owned(), (header.clone(), Instant::now()));
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_private_key() -> [u8; 32] {
        loop {
            let candidate: [u8; 32] = rand::random();
            if p256::SecretKey::from_slice(&candidate).is_ok() {
                return candidate;
            }
        }
    }

    fn keys() -> VapidKeys {
        let private = URL_SAFE_NO_PAD.encode(generate_private_key());
        VapidKeys::from_private_key(&private, VapidSubject::parse("mailto:ops@example.org").unwrap()).unwrap()
    }

    #[test]
    fn public_key_is_an_uncompressed_point() {
        let raw = URL_SAFE_NO_PAD.decode(keys().public_key()).unwrap();
        assert_eq!(raw.len(), 65);
        assert_eq!(raw[0], 4);
    }

    #[test]
    fn signatures_are_cached_per_origin() {
        let keys = keys();
        let a = keys.authorization_for("https://fcm.googleapis.com").unwrap();
        assert_eq!(a, keys.authorization_for("https://fcm.googleapis.com").unwrap());
        assert_ne!(a, keys.authorization_for("http://127.0.0.1:8090").unwrap());
        assert!(a.starts_with("vapid t=ey") && a.ends_with(&format!(", k={}", keys.public_key())));
    }
}
