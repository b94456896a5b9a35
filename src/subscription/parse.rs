//! Parse, don't validate: a browser's PushSubscription becomes types that cannot hold a
//! value a push service or our encryption would choke on. The endpoint's rules are in
//! `push::endpoint`, beside the client that connects to it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::AppError;
pub use crate::push::endpoint::{EndpointPolicy, HostPattern, PushEndpoint, DEFAULT_PUSH_HOSTS, MAX_ENDPOINT_LEN};

fn decode_base64url(raw: &str) -> Option<Vec<u8>> {
    // Browsers send unpadded base64url; tolerate padding from other tools.
    URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).ok()
}

/// The browser's ECDH public key: an uncompressed P-256 point (65 bytes) on the curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P256dhKey(String);

impl P256dhKey {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bytes = decode_base64url(raw).ok_or_else(|| AppError::invalid("The p256dh key is not base64url."))?;
        if bytes.len() != 65 || bytes[0] != 0x04 {
            return Err(AppError::invalid("The p256dh key must be an uncompressed P-256 point (65 bytes)."));
        }
        p256::PublicKey::from_sec1_bytes(&bytes)
            .map_err(|_| AppError::invalid("The p256dh key is not a point on the P-256 curve."))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The browser's 16-byte authentication secret (RFC 8291 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSecret(String);

impl AuthSecret {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match decode_base64url(raw) {
            Some(bytes) if bytes.len() == 16 => Ok(Self(URL_SAFE_NO_PAD.encode(bytes))),
            Some(_) => Err(AppError::invalid("The auth secret must be 16 bytes.")),
            None => Err(AppError::invalid("The auth secret is not base64url.")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub endpoint: PushEndpoint,
    pub p256dh: P256dhKey,
    pub auth: AuthSecret,
}

impl NewSubscription {
    pub fn parse(endpoint: &str, p256dh: &str, auth: &str, policy: &EndpointPolicy) -> Result<Self, AppError> {
        Ok(Self {
            endpoint: PushEndpoint::parse(endpoint, policy)?,
            p256dh: P256dhKey::parse(p256dh)?,
            auth: AuthSecret::parse(auth)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real browser key (the RFC 8291 §5 example receiver key).
    const P256DH: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";

    #[test]
    fn p256dh_must_be_on_the_curve() {
        assert!(P256dhKey::parse(P256DH).is_ok());
        let mut off_curve = URL_SAFE_NO_PAD.decode(P256DH).unwrap();
        off_curve[64] ^= 1;
        assert!(P256dhKey::parse(&URL_SAFE_NO_PAD.encode(off_curve)).is_err());
    }

    #[test]
    fn auth_must_be_sixteen_bytes() {
        assert!(AuthSecret::parse("BTBZMqHH6r4Tts7J_aSIgg").is_ok());
        assert!(AuthSecret::parse("BTBZMqHH6r4Tts7J_aSI").is_err());
        assert!(AuthSecret::parse("not base64!").is_err());
    }
}
