//! The JSON the service worker receives (`public/sw.js` reads these field names).

use serde::{Deserialize, Serialize};

/// The largest plaintext every major push route accepts. RFC 8291's one 4096-byte record
/// would take 3993 bytes, but Mozilla relays Firefox on Android through FCM and Firefox on
/// iOS through APNs, and there the body, base64url-encoded, may be at most 4096 characters
/// (413 otherwise): 3072 bytes of body. Of those, the aes128gcm header takes 86 (salt 16,
/// record size 4, key-id length 1, the sender's public key 65) and the record 17 beyond
/// the plaintext (a delimiter byte and the 16-byte tag).
pub const MAX_PAYLOAD_BYTES: usize = RELAYED_BODY_CHARS / 4 * 3 - AES128GCM_HEADER_BYTES - RECORD_OVERHEAD_BYTES;
/// What Mozilla's relays accept, in base64url characters of the encrypted body.
pub const RELAYED_BODY_CHARS: usize = 4096;
const AES128GCM_HEADER_BYTES: usize = 16 + 4 + 1 + 65;
const RECORD_OVERHEAD_BYTES: usize = 1 + 16;

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
    /// The subscription was made with a key that is no longer current: the service worker
    /// moves it to the current key after showing the notification (`src/keys/`).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub rekey: bool,
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
        let largest =
            Self { campaign: i64::MAX, track: Some("x".repeat(MAX_TRACK_TOKEN_CHARS)), rekey: true, ..self.clone() };
        largest.to_bytes().len()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of strings serializes")
    }
}
