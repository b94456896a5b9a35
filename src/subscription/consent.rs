//! The consent receipt: what a site needs to show that a visitor asked for its
//! notifications — when (the row's creation time), on which page, after reading which
//! words, in which browser (from its user agent), and the visitor's language and time
//! zone, which localised and local-time campaigns use. Optionally the site's own id for
//! the visitor, signed by the site's backend so nobody can claim to be someone else.

use serde::{Deserialize, Serialize};

/// The receipt as the widget (or Tidings' own page) sends it, field by field, as typed.
/// Every field may be left out: older pages and other tools send none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsentForm {
    /// The page's URL when the visitor subscribed.
    pub page: String,
    /// The words the visitor read next to the button.
    pub prompt: String,
    /// `navigator.language`.
    pub language: String,
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone`.
    pub time_zone: String,
    /// The site's id for the visitor (`data-user`) and its signature (`data-user-signature`).
    pub user: String,
    pub user_signature: String,
}

pub const MAX_PROMPT_CHARS: usize = 1000;
pub const MAX_USER_ID_CHARS: usize = 200;

/// The browser family from a user agent: Edge, Opera and Samsung Internet say "Chrome"
/// too, so they are looked for first.
pub fn browser_family(user_agent: &str) -> &'static str {
    let has = |needle: &str| user_agent.contains(needle);
    if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("SamsungBrowser/") {
        "Samsung Internet"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        "Other"
    }
}

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use ring::hmac;

    use super::*;
    use crate::error::AppError;
    use crate::site::{Language, SiteOrigin};

    /// A checked receipt. `page` is on the site's own origin; texts are visible
    /// characters; the zone is one the time zone database knows.
    #[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
    pub struct Consent {
        pub page: Option<String>,
        pub prompt: Option<String>,
        pub language: Option<String>,
        pub time_zone: Option<String>,
        pub user_id: Option<String>,
    }

    impl ConsentForm {
        /// `origin`: where the request came from (the site the `Origin` header proved),
        /// `None` for Tidings' own page, whose pages are on this server. `user_secret`: the
        /// site's key for user-id signatures.
        pub fn parse(&self, origin: Option<&SiteOrigin>, user_secret: Option<&str>) -> Result<Consent, AppError> {
            let page = match self.page.trim() {
                "" => None,
                raw => Some(page_url(raw, origin)?),
            };
            let prompt = match self.prompt.trim() {
                "" => None,
                text => Some(visible(text, MAX_PROMPT_CHARS)),
            };
            let language = match self.language.trim() {
                "" => None,
                raw => Some(Language::parse(raw, "language")?.as_str().to_owned()),
            };
            let time_zone = match self.time_zone.trim() {
                "" => None,
                raw => Some(
                    crate::zone::AdminZone::named(raw)
                        .ok_or_else(|| AppError::field("time_zone", "Unknown time zone."))?
                        .name()
                        .to_owned(),
                ),
            };
            let user_id = match self.user.trim() {
                "" => None,
                user => Some(signed_user(user, self.user_signature.trim(), user_secret)?),
            };
            Ok(Consent { page, prompt, language, time_zone, user_id })
        }
    }

    fn page_url(raw: &str, origin: Option<&SiteOrigin>) -> Result<String, AppError> {
        let bad = || AppError::field("page", "The page address is not a web address of this site.");
        if raw.len() > 2048 {
            return Err(bad());
        }
        let url = url::Url::parse(raw).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad());
        }
        if let Some(origin) = origin {
            if url.origin().ascii_serialization() != origin.as_str() {
                return Err(bad());
            }
        }
        Ok(url.to_string())
    }

    /// Control characters (line breaks) dropped, bidi overrides written out (they would
    /// reorder what an admin reads), cut at `max` characters.
    fn visible(text: &str, max: usize) -> String {
        let text: String = text.chars().filter(|c| !c.is_control()).take(max).collect();
        crate::campaign::visible_controls(&text)
    }

    /// The user id, if `signature` is the site's HMAC-SHA256 of it (lower-case hex).
    fn signed_user(user: &str, signature: &str, secret: Option<&str>) -> Result<String, AppError> {
        if user.chars().count() > MAX_USER_ID_CHARS || user.chars().any(char::is_control) {
            return Err(AppError::field("user", format!("A user id has at most {MAX_USER_ID_CHARS} characters.")));
        }
        let Some(secret) = secret else {
            return Err(AppError::Forbidden("This site has no secret for user ids yet; create one in Tidings.".into()));
        };
        let refused = || AppError::Forbidden("The user id's signature does not match.".into());
        let tag = decode_hex(signature).ok_or_else(refused)?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        // ring compares in constant time.
        hmac::verify(&key, user.as_bytes(), &tag).map_err(|_| refused())?;
        Ok(user.to_owned())
    }

    fn decode_hex(text: &str) -> Option<Vec<u8>> {
        if text.len() != 64 {
            return None;
        }
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
    }

    /// The signature a site's backend computes (tests and the admin page's example use it).
    pub fn sign_user(secret: &str, user: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        hmac::sign(&key, user.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn origin() -> SiteOrigin {
            SiteOrigin::parse("https://www.example.org").unwrap()
        }

        #[test]
        fn a_receipt_keeps_what_the_visitor_saw_on_the_sites_own_pages() {
            let form = ConsentForm {
                page: "https://www.example.org/blog/post?x=1".into(),
                prompt: "Hear from us first\u{202e} — news".into(),
                language: "de-AT".into(),
                time_zone: "Europe/Vienna".into(),
                ..Default::default()
            };
            let consent = form.parse(Some(&origin()), None).unwrap();
            assert_eq!(consent.page.as_deref(), Some("https://www.example.org/blog/post?x=1"));
            assert_eq!(consent.prompt.as_deref(), Some("Hear from us first[U+202E] — news"));
            assert_eq!(consent.language.as_deref(), Some("de-AT"));
            assert_eq!(consent.time_zone.as_deref(), Some("Europe/Vienna"));
            let elsewhere = ConsentForm { page: "https://evil.example/".into(), ..Default::default() };
            assert!(elsewhere.parse(Some(&origin()), None).is_err());
            let zone = ConsentForm { time_zone: "Mars/Olympus".into(), ..Default::default() };
            assert!(zone.parse(Some(&origin()), None).is_err());
            assert_eq!(ConsentForm::default().parse(None, None).unwrap(), Consent::default());
        }

        #[test]
        fn a_user_id_needs_the_sites_signature() {
            let secret = "s3cret-of-the-site";
            let signed = ConsentForm {
                user: "user-42".into(),
                user_signature: sign_user(secret, "user-42"),
                ..Default::default()
            };
            assert_eq!(signed.parse(None, Some(secret)).unwrap().user_id.as_deref(), Some("user-42"));
            assert!(matches!(signed.parse(None, Some("another secret")), Err(AppError::Forbidden(_))));
            assert!(matches!(signed.parse(None, None), Err(AppError::Forbidden(_))));
            let someone_else = ConsentForm { user: "user-43".into(), ..signed.clone() };
            assert!(someone_else.parse(None, Some(secret)).is_err());
            let garbage = ConsentForm { user_signature: "zz".repeat(32), ..signed };
            assert!(garbage.parse(None, Some(secret)).is_err());
        }

        #[test]
        fn browser_families_are_told_apart() {
            let chrome =
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
            let edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/130.0 Safari/537.36 Edg/130.0";
            let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1";
            let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
            assert_eq!(browser_family(chrome), "Chrome");
            assert_eq!(browser_family(edge), "Edge");
            assert_eq!(browser_family(safari), "Safari");
            assert_eq!(browser_family(firefox), "Firefox");
            assert_eq!(browser_family("curl/8"), "Other");
        }
    }
}
