//! Delivery tokens: `<campaign>.<subscription>.<MAC>`, sent inside each push message so
//! the service worker can report on that delivery, and nobody can report on another's.

use std::net::IpAddr;
use std::num::NonZeroU32;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use governor::{DefaultKeyedRateLimiter, Quota};
use ring::hmac;

use crate::error::AppError;

/// The `settings` row holding the key (base64url), created on first start.
pub const KEY_SETTING: &str = "tracking_key";
/// 128 bits of HMAC-SHA256 are plenty against guessing, and keep the payload small.
const MAC_BYTES: usize = 16;
use crate::campaign::MAX_TRACK_TOKEN_CHARS as MAX_TOKEN_CHARS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryId {
    pub campaign: i64,
    pub subscription: i64,
}

pub struct TrackingKey(hmac::Key);

impl TrackingKey {
    /// A new secret, base64url, for a first start (stored under [`KEY_SETTING`]).
    pub fn generate_stored() -> String {
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    }

    /// The key from its stored form.
    pub fn from_stored(stored: &str) -> Result<Self, String> {
        let secret =
            URL_SAFE_NO_PAD.decode(stored).map_err(|_| "the stored tracking key is not base64url".to_owned())?;
        Ok(Self::from_secret(&secret))
    }

    pub fn from_secret(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub fn sign(&self, delivery: DeliveryId) -> String {
        let ids = format!("{}.{}", delivery.campaign, delivery.subscription);
        let tag = hmac::sign(&self.0, ids.as_bytes());
        format!("{ids}.{}", URL_SAFE_NO_PAD.encode(&tag.as_ref()[..MAC_BYTES]))
    }

    pub fn verify(&self, token: &str) -> Result<DeliveryId, AppError> {
        let invalid = || AppError::invalid("This notification's tracking token is not valid.");
        if token.len() > MAX_TOKEN_CHARS {
            return Err(invalid());
        }
        let (ids, mac) = token.rsplit_once('.').ok_or_else(invalid)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| invalid())?;
        let expected = hmac::sign(&self.0, ids.as_bytes());
        // Constant-time comparison of the truncated tag.
        if mac.len() != MAC_BYTES || !constant_time_eq(&mac, &expected.as_ref()[..MAC_BYTES]) {
            return Err(invalid());
        }
        let (campaign, subscription) = ids.split_once('.').ok_or_else(invalid)?;
        Ok(DeliveryId {
            campaign: campaign.parse().map_err(|_| invalid())?,
            subscription: subscription.parse().map_err(|_| invalid())?,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bounds how many reports one address can make: tokens cannot be forged, but a flood
/// of replays would still cost database writes. Generous, since a reverse proxy makes
/// many recipients one address.
pub struct TrackLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl Default for TrackLimiter {
    fn default() -> Self {
        let per_second = NonZeroU32::new(20).expect("non-zero");
        let burst = NonZeroU32::new(200).expect("non-zero");
        Self(DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)))
    }
}

impl TrackLimiter {
    pub fn check(&self, address: IpAddr) -> Result<(), AppError> {
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&address).map_err(|_| AppError::TooManyRequests("Too many reports; slow down.".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_cannot_be_altered() {
        let key = TrackingKey::from_secret(b"a test secret of some length....");
        let delivery = DeliveryId { campaign: 12, subscription: 3456 };
        let token = key.sign(delivery);
        assert_eq!(key.verify(&token).unwrap(), delivery);
        assert!(token.len() <= MAX_TOKEN_CHARS);
        let max = key.sign(DeliveryId { campaign: i64::MAX, subscription: i64::MAX });
        assert_eq!(max.len(), MAX_TOKEN_CHARS);

        let (_, mac) = token.rsplit_once('.').unwrap();
        assert!(key.verify(&format!("12.3457.{mac}")).is_err(), "another delivery with the same MAC");
        assert!(key.verify("12.3456").is_err());
        assert!(key.verify("").is_err());
        assert!(key.verify(&format!("{token}x")).is_err());
        let other = TrackingKey::from_secret(b"another secret..................");
        assert!(other.verify(&token).is_err(), "a token from another installation");
    }
}
