//! A campaign as the admin composed it, parsed into values that are safe to send.
//! Shared with the browser so the compose form can count payload bytes as you type.

use serde::{Deserialize, Serialize};

use super::payload::{NotificationPayload, MAX_PAYLOAD_BYTES};
use crate::error::AppError;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 2000;
pub const MAX_URL_CHARS: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [Self::VeryLow, Self::Low, Self::Normal, Self::High];

    /// The RFC 8030 §5.3 header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryLow => "very-low",
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::VeryLow => "Very low — may wait for Wi-Fi and power",
            Self::Low => "Low — may wait for power",
            Self::Normal => "Normal",
            Self::High => "High — wakes the device now",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == raw)
    }
}

/// How long a push service keeps an undelivered message (RFC 8030 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ttl(u32);

impl Ttl {
    /// Four weeks: the longest that push services honour.
    pub const MAX: Ttl = Ttl(28 * 24 * 3600);
    pub const DEFAULT: Ttl = Ttl(24 * 3600);
    pub const PRESETS: [(u32, &'static str); 4] =
        [(3600, "1 hour"), (24 * 3600, "1 day"), (7 * 24 * 3600, "1 week"), (28 * 24 * 3600, "4 weeks")];

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let seconds: u32 = raw
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("TTL must be a whole number of seconds."))?;
        if seconds > Self::MAX.0 {
            return Err(AppError::invalid("TTL can be at most 4 weeks (2419200 seconds)."));
        }
        Ok(Self(seconds))
    }

    pub fn seconds(self) -> u32 {
        self.0
    }
}

/// A link or image address: absolute http(s) or a path on this site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUrl(String);

impl LinkUrl {
    /// `None` for an empty field; an error names the field.
    pub fn parse_optional(field: &str, raw: &str) -> Result<Option<Self>, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let bad = || AppError::invalid(format!("{field} must be an http(s):// address or a path starting with /."));
        if raw.len() > MAX_URL_CHARS {
            return Err(AppError::invalid(format!("{field} is longer than {MAX_URL_CHARS} characters.")));
        }
        if raw.starts_with('/') && !raw.starts_with("//") {
            return Ok(Some(Self(raw.to_owned())));
        }
        let url = url::Url::parse(raw).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad());
        }
        Ok(Some(Self(raw.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignDraft {
    pub title: String,
    pub body: String,
    pub url: Option<LinkUrl>,
    pub icon: Option<LinkUrl>,
    pub ttl: Ttl,
    pub urgency: Urgency,
}

impl CampaignDraft {
    pub fn parse(title: &str, body: &str, url: &str, icon: &str, ttl: &str, urgency: &str) -> Result<Self, AppError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(AppError::invalid("Title is required."));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(AppError::invalid(format!("Title can be at most {MAX_TITLE_CHARS} characters.")));
        }
        let body = body.trim();
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(AppError::invalid(format!("Body can be at most {MAX_BODY_CHARS} characters.")));
        }
        let draft = Self {
            title: title.to_owned(),
            body: body.to_owned(),
            url: LinkUrl::parse_optional("Link URL", url)?,
            icon: LinkUrl::parse_optional("Icon URL", icon)?,
            ttl: Ttl::parse(ttl)?,
            urgency: Urgency::parse(urgency)
                .ok_or_else(|| AppError::invalid("Urgency must be very-low, low, normal or high."))?,
        };
        let bytes = draft.payload_bytes();
        if bytes > MAX_PAYLOAD_BYTES {
            return Err(AppError::invalid(format!(
                "The notification is {bytes} bytes; push services accept at most {MAX_PAYLOAD_BYTES}. Shorten the text or links."
            )));
        }
        Ok(draft)
    }

    /// The size of the encrypted plaintext, counted for the largest possible campaign id.
    pub fn payload_bytes(&self) -> usize {
        let link = |u: &Option<LinkUrl>| u.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default();
        NotificationPayload::size_for(&self.title, &self.body, &link(&self.url), &link(&self.icon))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(title: &str, body: &str, url: &str) -> Result<CampaignDraft, AppError> {
        CampaignDraft::parse(title, body, url, "", "86400", "normal")
    }

    #[test]
    fn a_title_is_required() {
        assert!(parse("  ", "body", "").is_err());
        assert!(parse("Hello", "", "").is_ok());
    }

    #[test]
    fn links_must_be_web_addresses_or_site_paths() {
        assert!(parse("t", "", "https://example.org/a").is_ok());
        assert!(parse("t", "", "/news/1").is_ok());
        for bad in ["javascript:alert(1)", "//evil.example", "ftp://x.org", "example.org"] {
            assert!(parse("t", "", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn payloads_over_the_limit_are_refused_with_their_size() {
        let body = "é".repeat(MAX_BODY_CHARS); // 2 bytes each: 4000 bytes
        let error = parse("t", &body, "").unwrap_err();
        assert!(error.to_string().contains("bytes"), "{error}");
    }

    #[test]
    fn ttl_is_bounded_by_four_weeks() {
        assert!(Ttl::parse("2419200").is_ok());
        assert!(Ttl::parse("2419201").is_err());
        assert!(Ttl::parse("-1").is_err());
    }
}
