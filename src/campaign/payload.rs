//! The JSON the service worker receives (`public/sw.js` reads these field names).

use serde::{Deserialize, Serialize};

/// web-push refuses plaintext above this many bytes (what fits one aes128gcm record of
/// 4096 bytes after RFC 8291 headers and padding).
pub const MAX_PAYLOAD_BYTES: usize = 3052;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPayload {
    pub campaign: i64,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub icon: Option<String>,
    /// This delivery's token, which the service worker sends back with clicks and
    /// dismissals (`src/tracking/`). Differs per recipient.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub track: Option<String>,
}

/// The longest delivery token: two 19-digit ids, two dots, a 22-character MAC.
pub const MAX_TRACK_TOKEN_CHARS: usize = 19 + 1 + 19 + 1 + 22;

impl NotificationPayload {
    /// Plaintext bytes of a campaign with these fields, counted for the largest possible ids.
    /// The compose form counts with this as you type; the server enforces the same number.
    pub fn size_for(title: &str, body: &str, url: &str, icon: &str) -> usize {
        let optional = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let payload = Self {
            campaign: i64::MAX,
            title: title.trim().to_owned(),
            body: body.trim().to_owned(),
            url: optional(url),
            icon: optional(icon),
            track: Some("x".repeat(MAX_TRACK_TOKEN_CHARS)),
        };
        payload.to_bytes().len()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of strings serializes")
    }
}
