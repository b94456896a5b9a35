//! The JSON the service worker receives (`public/sw.js` reads these field names).

use serde::{Deserialize, Serialize};

/// web-push refuses plaintext above this many bytes (what fits one aes128gcm record of
/// 4096 bytes after RFC 8291 headers and padding).
pub const MAX_PAYLOAD_BYTES: usize = 3052;

/// The longest delivery token: two 19-digit ids, two dots, a 22-character MAC.
pub const MAX_TRACK_TOKEN_CHARS: usize = 19 + 1 + 19 + 1 + 22;

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
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub badge: Option<String>,
    /// Buttons under the notification; the service worker opens the clicked one's URL.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub actions: Vec<PayloadAction>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub require_interaction: bool,
    /// The admin's collapse topic: a newer campaign with the same topic replaces this one
    /// at the push service and on screen.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub topic: Option<String>,
    /// This delivery's token, which the service worker sends back with clicks and
    /// dismissals (`src/tracking/`). Differs per recipient.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub track: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadAction {
    pub title: String,
    pub url: String,
}

impl NotificationPayload {
    /// Plaintext bytes of this notification once sent: counted for the largest possible
    /// campaign id and delivery token. The compose form counts with this as you type; the
    /// server enforces the same number.
    pub fn sent_size(&self) -> usize {
        let largest = Self { campaign: i64::MAX, track: Some("x".repeat(MAX_TRACK_TOKEN_CHARS)), ..self.clone() };
        largest.to_bytes().len()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of strings serializes")
    }
}
