//! The REST API for a site's own backend (`/api/v1`): keys made by admins, each with scopes
//! and optionally limited to some sites. The key types are shared with the admin's *API
//! keys* page; the routes, their authentication and their errors are server-only.

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod idempotency;
pub mod keys;
#[cfg(feature = "ssr")]
pub mod limit;
#[cfg(feature = "ssr")]
pub mod problem;
#[cfg(feature = "ssr")]
pub mod routes;

use serde::{Deserialize, Serialize};

/// What a key may do. Each route names the one scope it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Create, send, cancel and duplicate campaigns; send transactional messages.
    Send,
    /// Read campaigns, their counts and the topics.
    Read,
    /// Read and delete subscribers.
    Subscribers,
    /// Create topics.
    Manage,
}

impl Scope {
    pub const ALL: [Self; 4] = [Self::Send, Self::Read, Self::Subscribers, Self::Manage];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Read => "read",
            Self::Subscribers => "subscribers",
            Self::Manage => "manage",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// What the admin page says a scope allows.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Send => "create and send campaigns, send messages",
            Self::Read => "read campaigns, counts and topics",
            Self::Subscribers => "read and delete subscribers",
            Self::Manage => "create topics",
        }
    }
}

/// A key as the admin page lists it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeySummary {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to tell keys apart.
    pub hint: String,
    pub scopes: Vec<Scope>,
    /// Limited to these sites; empty: every site.
    pub sites: Vec<i64>,
    /// Formatted in the admin's time zone.
    pub created_at: String,
    pub created_by: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_from: Option<String>,
}

/// A key just made: the only time its token is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub id: i64,
    pub token: String,
}

/// A route of the REST API, for the admin's reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoute {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// A `curl` command for it, with `$TIDINGS_KEY` for the token.
    pub curl: String,
}
