//! VAPID (RFC 8292): our key pair and the signatures push services check.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_simple::prelude::{Claims, ECDSAP256KeyPairLike, ES256KeyPair, UnixTimeStamp};
use reqwest::header::HeaderValue;
use web_push::VapidSignatureBuilder;

/// A `mailto:` or `https:` URL, as RFC 8292 §2.1 asks, naming a host push services can
/// reach: Apple answers 403 BadJwtToken for `localhost`, `.local` names and IP literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidSubject(String);

impl VapidSubject {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let host: Option<String> = match value.split_once(':') {
            Some(("mailto", address)) if !address.contains(char::is_whitespace) => {
                address.rsplit_once('@').filter(|(user, _)| !user.is_empty()).map(|(_, host)| host.to_owned())
            }
            Some(("https", rest)) if rest.starts_with("//") => {
                url::Url::parse(value).ok().and_then(|url| url.host_str().map(str::to_owned))
            }
            _ => None,
        };
        let Some(host) = host.map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase()) else {
            return Err(format!("TIDINGS_VAPID_SUBJECT must be a mailto: address or an https: URL, got {value:?}"));
        };
        let local = host == "localhost"
            || host.ends_with(".localhost")
            || host.ends_with(".local")
            || host.parse::<IpAddr>().is_ok()
            || !host.contains('.');
        if local {
            return Err(format!(
                "TIDINGS_VAPID_SUBJECT must name a public host (push services such as Apple's refuse \
                 localhost, .local names and IP addresses), got {value:?}"
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a token is valid (RFC 8292 §2 allows at most 24 h).
const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// A cached token is replaced once less than this is left of it, so a long campaign never
/// presents an expired one.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(6 * 3600);

/// A signed `Authorization` value and the wall-clock times it was made for.
struct Token {
    /// Ready to put in a request: a clone shares the bytes, where a string would be copied
    /// and checked again for every push.
    header: HeaderValue,
    signed_at: u64,
    expires_at: u64,
}

impl Token {
    /// Judged by the wall clock (Unix seconds), not a monotonic one: a monotonic clock
    /// stands still while a VM is suspended, and an expired token would look fresh.
    fn usable_at(&self, now: u64) -> bool {
        now >= self.signed_at && now + TOKEN_REFRESH_MARGIN.as_secs() < self.expires_at
    }
}

pub struct VapidKeys {
    key: ES256KeyPair,
    public_key: String,
    subject: VapidSubject,
    /// One `Authorization` value per push-service origin: ECDSA per message would waste
    /// most of the CPU.
    tokens: Mutex<HashMap<String, Token>>,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl VapidKeys {
    pub fn from_private_key(private_key_b64: &str, subject: VapidSubject) -> Result<Self, String> {
        let unusable = |e: &dyn std::fmt::Display| format!("the stored VAPID private key is unusable: {e}");
        // web-push reads the key the way the web-push libraries print it.
        let builder = VapidSignatureBuilder::from_base64_no_sub(private_key_b64).map_err(|e| unusable(&e))?;
        let public_key = URL_SAFE_NO_PAD.encode(builder.get_public_key());
        let raw = URL_SAFE_NO_PAD.decode(private_key_b64.trim()).map_err(|e| unusable(&e))?;
        let key = ES256KeyPair::from_bytes(&raw).map_err(|e| unusable(&e))?;
        Ok(Self { key, public_key, subject, tokens: Mutex::default() })
    }

    /// The uncompressed public key, base64url: the browser's `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for pushes to `origin` (`aud`): `vapid t=<JWT>, k=<key>`
    /// (RFC 8292 §3), cached and re-signed before it expires.
    pub fn authorization_for(&self, origin: &str) -> Result<HeaderValue, String> {
        self.authorization_at(origin, unix_now())
    }

    fn authorization_at(&self, origin: &str, now: u64) -> Result<HeaderValue, String> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(token) = tokens.get(origin).filter(|t| t.usable_at(now)) {
            return Ok(token.header.clone());
        }
        let expires_at = now + TOKEN_LIFETIME.as_secs();
        // Only what RFC 8292 asks for: `aud`, `exp`, `sub`. The `iat` and `nbf` a JWT
        // library adds by default make a push service refuse every token while our clock
        // runs ahead of its own.
        let mut claims = Claims::create(UnixTimeStamp::from_secs(TOKEN_LIFETIME.as_secs()))
            .with_audience(origin)
            .with_subject(self.subject.as_str());
        claims.issued_at = None;
        claims.invalid_before = None;
        claims.expires_at = Some(UnixTimeStamp::from_secs(expires_at));
        let jwt = self.key.sign(claims).map_err(|e| format!("VAPID signing failed: {e}"))?;
        let header = HeaderValue::try_from(format!("vapid t={jwt}, k={}", self.public_key))
            .map_err(|e| format!("VAPID header: {e}"))?;
        tokens.insert(origin.to_owned(), Token { header: header.clone(), signed_at: now, expires_at });
        Ok(header)
    }

    /// Drops the cached token for `origin`: the push service refused it (401/403), so the
    /// next push there is signed afresh.
    pub fn forget(&self, origin: &str) {
        self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(origin);
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

    /// The JWT's claims, decoded.
    fn claims_of(header: &HeaderValue) -> serde_json::Value {
        let jwt = header.to_str().unwrap().strip_prefix("vapid t=").unwrap().split(',').next().unwrap();
        let payload = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn tokens_carry_only_aud_exp_and_sub_and_expire_by_the_wall_clock() {
        let keys = keys();
        let now = 1_800_000_000;
        let header = keys.authorization_at("https://web.push.apple.com", now).unwrap();
        let claims = claims_of(&header);
        let mut names: Vec<&str> = claims.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["aud", "exp", "sub"]);
        assert_eq!(claims["aud"], "https://web.push.apple.com");
        assert_eq!(claims["exp"], now + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:ops@example.org");
        // Reused for hours, replaced once half its life is gone (as after a VM suspend).
        assert_eq!(keys.authorization_at("https://web.push.apple.com", now + 3600).unwrap(), header);
        let later = keys.authorization_at("https://web.push.apple.com", now + 7 * 3600).unwrap();
        assert_ne!(later, header);
        assert_eq!(claims_of(&later)["exp"], now + 19 * 3600);
        // A clock that went back is not trusted with the old token either.
        assert_ne!(keys.authorization_at("https://web.push.apple.com", now).unwrap(), later);
    }

    #[test]
    fn a_refused_token_is_forgotten() {
        let keys = keys();
        let first = keys.authorization_for("https://fcm.googleapis.com").unwrap();
        keys.forget("https://fcm.googleapis.com");
        assert_ne!(keys.authorization_for("https://fcm.googleapis.com").unwrap(), first);
    }

    #[test]
    fn subjects_must_name_a_public_host() {
        for good in ["mailto:ops@example.org", "https://example.org/contact", " mailto:a.b@push.example.co.uk "] {
            assert!(VapidSubject::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "mailto:me@localhost",
            "mailto:me@printer.local",
            "mailto:me@127.0.0.1",
            "mailto:me@[::1]",
            "mailto:@example.org",
            "mailto:me@intranet",
            "https://localhost",
            "https://localhost:8443/contact",
            "https://10.0.0.1/",
            "https://[::1]/",
            "https://box.local/",
            "http://example.org",
            "example.org",
        ] {
            assert!(VapidSubject::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures_are_cached_per_origin() {
        let keys = keys();
        let a = keys.authorization_for("https://fcm.googleapis.com").unwrap();
        assert_eq!(a, keys.authorization_for("https://fcm.googleapis.com").unwrap());
        assert_ne!(a, keys.authorization_for("http://127.0.0.1:8090").unwrap());
        let a = a.to_str().unwrap();
        assert!(a.starts_with("vapid t=ey") && a.ends_with(&format!(", k={}", keys.public_key())));
    }
}
