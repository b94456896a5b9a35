//! The key endpoints, all for admins: list, bring, make, make current, retire.

use leptos::prelude::*;

use super::{KeySummary, LastBackup};
use crate::error::AppError;

#[server(endpoint = "admin/keys")]
pub async fn list_keys() -> Result<Vec<KeySummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_role(crate::admin::role::Role::Owner).await?;
        Ok(state.store.vapid_keys().await?)
    })
    .await
}

/// Stores a key pair brought from another tool (`key`: PEM or raw base64url private key),
/// signing only until it is made current. Returns its id.
#[server(endpoint = "admin/import_key")]
pub async fn import_key(label: String, key: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let label = ssr::label(&label)?;
        let pair = super::import::KeyPair::parse(&key).map_err(|why| AppError::field("key", why))?;
        let id = ssr::store(&state, &label, &pair).await?;
        tracing::info!(key = id, public_key = pair.public_key, admin = %admin.username, "VAPID key imported");
        let after = serde_json::json!({ "label": label.as_str(), "public_key": pair.public_key });
        crate::audit::ssr::by_admin(&state, &admin, "vapid_key.import", &format!("VAPID key {id}"), None, Some(after))
            .await;
        Ok(id)
    })
    .await
}

/// Makes a new key pair, to rotate to. Returns its id.
#[server(endpoint = "admin/generate_key")]
pub async fn generate_key(label: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let label = ssr::label(&label)?;
        let id = ssr::store(&state, &label, &super::import::KeyPair::generate()).await?;
        tracing::info!(key = id, admin = %admin.username, "VAPID key generated");
        let after = serde_json::json!({ "label": label.as_str() });
        crate::audit::ssr::by_admin(
            &state,
            &admin,
            "vapid_key.generate",
            &format!("VAPID key {id}"),
            None,
            Some(after),
        )
        .await;
        Ok(id)
    })
    .await
}

/// New subscriptions use key `id` from now on; the others keep signing for theirs.
#[server(endpoint = "admin/make_key_current")]
pub async fn make_key_current(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.make_key_current(id).await? {
            return Err(AppError::invalid("Only a key that is not retired can be made current."));
        }
        tracing::info!(key = id, admin = %admin.username, "VAPID key made current");
        crate::audit::ssr::by_admin(&state, &admin, "vapid_key.make_current", &format!("VAPID key {id}"), None, None)
            .await;
        Ok(())
    })
    .await
}

/// Retires a key no subscription uses; with `anyway`, also one that some still use, whose
/// subscriptions are then deleted (nothing could reach them any more).
#[server(endpoint = "admin/retire_key")]
pub async fn retire_key(id: i64, #[server(default)] anyway: bool) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        use crate::store::Retired;
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        match state.store.retire_key(id, anyway).await? {
            Retired::Done => {
                tracing::info!(key = id, anyway, admin = %admin.username, "VAPID key retired");
                let after = serde_json::json!({ "anyway": anyway });
                crate::audit::ssr::by_admin(
                    &state,
                    &admin,
                    "vapid_key.retire",
                    &format!("VAPID key {id}"),
                    None,
                    Some(after),
                )
                .await;
                Ok(())
            }
            Retired::InUse(n) => Err(AppError::Conflict(format!(
                "{n} subscriptions still use this key. Wait until they have moved to the current key, or retire it \
                 anyway and lose those {n} subscribers."
            ))),
            Retired::Refused => {
                Err(AppError::invalid("The current key cannot be retired: make another key current first."))
            }
        }
    })
    .await
}

/// When `tidings backup` last copied this database (in the admin's time zone), for the
/// dashboard's warning; `None` for PostgreSQL, which is backed up with its own tools.
#[server(endpoint = "admin/backup_status")]
pub async fn backup_status() -> Result<Option<LastBackup>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        if state.store.dialect() != crate::store::Dialect::Sqlite {
            return Ok(None);
        }
        let last = state.store.last_backup_at().await?;
        let stale = last.is_none_or(|at| crate::clock::now() - at > 7 * 86_400);
        Ok(Some(LastBackup { last_backup: last.map(|at| zone.format(at)), stale }))
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::super::import::KeyPair;
    use super::super::MAX_KEY_LABEL_CHARS;
    use crate::error::AppError;
    use crate::state::AppState;

    /// A key's label: 1 to 60 visible characters.
    pub fn label(raw: &str) -> Result<String, AppError> {
        let label = raw.trim();
        if label.is_empty() || label.chars().count() > MAX_KEY_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(AppError::field("label", format!("A label needs 1 to {MAX_KEY_LABEL_CHARS} characters.")));
        }
        Ok(label.to_owned())
    }

    pub async fn store(state: &AppState, label: &str, pair: &KeyPair) -> Result<i64, AppError> {
        state
            .store
            .insert_vapid_key(label, &pair.private_key, &pair.public_key)
            .await?
            .ok_or_else(|| AppError::Conflict("This key is stored already (see the list of keys).".into()))
    }
}
