//! The audit log: every change by an admin or an API key, and every sign-in attempt, with
//! who, from which address, what and the before/after of what changed. Written where each
//! change is made ([`ssr::by_admin`], [`ssr::by_key`], [`ssr::by_visitor`]); read on the
//! admin's *Audit log* page and exported as CSV. Nothing in the app can change an entry.

pub mod api;

use serde::{Deserialize, Serialize};

/// One entry as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// In the reading admin's time zone.
    pub at: String,
    pub actor: String,
    pub address: Option<String>,
    pub action: String,
    pub target: String,
    /// JSON, as recorded.
    pub before: Option<String>,
    pub after: Option<String>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use serde_json::Value;

    use crate::api::auth::ApiCaller;
    use crate::session::SignedInAdmin;
    use crate::state::AppState;

    /// Appends an entry (`actor` as the page shows it: "admin alice"). A failure to write it is logged, not returned: the change itself
    /// has been made, and saying it failed would invite the caller to make it twice.
    pub async fn append(
        state: &AppState,
        actor: &str,
        address: Option<String>,
        action: &str,
        target: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        let json = |v: Option<Value>| v.map(|v| v.to_string());
        let (before, after) = (json(before), json(after));
        if let Err(error) = state
            .store
            .append_audit(actor, address.as_deref(), action, target, before.as_deref(), after.as_deref())
            .await
        {
            tracing::error!(%error, action, target, "could not write the audit log");
        }
    }

    /// A change made by the signed-in `admin` in a server function.
    pub async fn by_admin(
        state: &AppState,
        admin: &SignedInAdmin,
        action: &str,
        target: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        let address = crate::session::peer_address().await.map(|a| a.to_string());
        append(state, &format!("admin {}", admin.username), address, action, target, before, after).await;
    }

    /// Something done by whoever is asking, signed in or not (a sign-in attempt, set-up).
    pub async fn by_visitor(state: &AppState, actor: &str, action: &str, target: &str) {
        let address = crate::session::peer_address().await.map(|a| a.to_string());
        append(state, actor, address, action, target, None, None).await;
    }

    /// A change made through the API with `caller`'s key.
    pub async fn by_key(
        state: &AppState,
        caller: &ApiCaller,
        action: &str,
        target: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        let actor = format!("key {} ({})", caller.key_id, caller.key_name);
        append(state, &actor, caller.address.clone(), action, target, before, after).await;
    }
}
