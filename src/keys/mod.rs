//! VAPID key pairs. Every browser subscription is bound to the public key it was made
//! with, so Tidings keeps several: the *current* one new subscriptions use, older ones
//! still *signing* for their subscriptions (brought from another tool, or rotated away
//! from), and *retired* ones. The types are here; the endpoints in `api`; the keys in
//! memory (`ring`) and reading keys people bring (`import`) on the server.

pub mod api;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod ring;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Current,
    Signing,
    Retired,
}

impl KeyState {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "current" => Some(Self::Current),
            "signing" => Some(Self::Signing),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Signing => "signing",
            Self::Retired => "retired",
        }
    }
}

/// A key pair as the Keys page shows it (never its private half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySummary {
    pub id: i64,
    pub label: String,
    /// Uncompressed P-256 point, base64url: what browsers call `applicationServerKey`.
    pub public_key: String,
    pub state: KeyState,
    pub created_at: i64,
    pub subscribers: i64,
}

pub const MAX_KEY_LABEL_CHARS: usize = 60;

/// The last backup `tidings backup` wrote of this (SQLite) database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBackup {
    /// When, in the admin's time zone; `None`: never.
    pub last_backup: Option<String>,
    /// Never, or more than a week ago.
    pub stale: bool,
}
