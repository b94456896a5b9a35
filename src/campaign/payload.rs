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
    /// Switches passed to `showNotification` as they are.
    #[serde(flatten)]
    pub options: NotificationOptions,
    /// The admin's collapse topic: a newer campaign with the same topic replaces this one
    /// at the push service and on screen.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub topic: Option<String>,
    /// This delivery's token, which the service worker sends back with clicks and
    /// dismissals (`src/tracking/`). Differs per recipient.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub track: Option<String>,
}

/// On/off switches of a notification, passed from the compose form to the service worker
/// unchanged and stored together (the `campaigns.options` JSON column). A new switch is
/// a field here, a checkbox in `admin/compose.rs` and a line in `public/sw.js`; the form,
/// the database and the payload carry it without further changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationOptions {
    /// No sound or vibration (`showNotification`'s `silent`), for news that can wait.
    #[serde(deserialize_with = "checkbox", skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

/// An HTML checkbox: "on" (or "true") when ticked, absent or "false" otherwise. Form
/// fields arrive as text, also inside a flattened struct, so a plain `bool` would not do;
/// JSON gives a real boolean.
pub(crate) fn checkbox<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ticked {
        Bool(bool),
        Text(String),
    }
    Ok(match Ticked::deserialize(deserializer)? {
        Ticked::Bool(ticked) => ticked,
        Ticked::Text(text) => matches!(text.as_str(), "on" | "true"),
    })
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
