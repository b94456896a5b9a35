//! The admin's *API keys* endpoints: list, make (the token is shown once), revoke.

use leptos::prelude::*;

use super::{ApiKeySummary, ApiRoute, NewApiKey};
use crate::error::AppError;

/// The longest key name.
pub const MAX_NAME_CHARS: usize = 80;

#[server(endpoint = "admin/api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeySummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_role(crate::admin::role::Role::Owner).await?.zone();
        let rows = state.store.api_keys().await?;
        Ok(rows
            .into_iter()
            .map(|row| ApiKeySummary {
                id: row.id,
                name: row.name,
                hint: row.token_hint,
                scopes: row.scopes.split(',').filter_map(super::Scope::parse).collect(),
                sites: row
                    .site_ids
                    .as_deref()
                    .map(|ids| crate::ids::parse_ids(ids, "", "").unwrap_or_default())
                    .unwrap_or_default(),
                created_at: zone.format(row.created_at),
                created_by: row.created_by,
                revoked_at: row.revoked_at.map(|at| zone.format(at)),
                last_used_at: row.last_used_at.map(|at| zone.format(at)),
                last_used_from: row.last_used_from,
            })
            .collect())
    })
    .await
}

/// Makes a key with `scopes` (comma-separated names), limited to `sites` (comma-separated
/// ids; empty for every site). The answer holds the token, which is never shown again.
#[server(endpoint = "admin/create_api_key")]
pub async fn create_api_key(
    name: String,
    #[server(default)] scopes: String,
    #[server(default)] sites: String,
) -> Result<NewApiKey, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(AppError::field("name", format!("Give the key a name of 1 to {MAX_NAME_CHARS} characters.")));
        }
        let mut chosen = Vec::new();
        for raw in scopes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope = super::Scope::parse(raw).ok_or_else(|| {
                AppError::field("scopes", format!("{raw:?} is not a scope (send, read, subscribers, manage)."))
            })?;
            chosen.push(scope.as_str());
        }
        chosen.sort_unstable();
        chosen.dedup();
        if chosen.is_empty() {
            return Err(AppError::field("scopes", "Choose at least one scope."));
        }
        let sites = crate::ids::parse_ids(&sites, "sites", "Sites are site numbers, comma-separated.")?;
        let known = state.store.sites().await?;
        if let Some(unknown) = sites.iter().find(|id| !known.iter().any(|s| s.id == **id)) {
            return Err(AppError::field("sites", format!("There is no site {unknown}.")));
        }
        let (hash, token, hint) = super::auth::new_token();
        let site_ids = (!sites.is_empty()).then(|| crate::ids::ids_text(sites.iter().copied()));
        let id =
            state.store.create_api_key(name, &hash, &hint, &chosen.join(","), site_ids.as_deref(), admin.id).await?;
        tracing::info!(key = id, scopes = chosen.join(","), admin = %admin.username, "API key made");
        let after = serde_json::json!({ "name": name, "scopes": chosen, "sites": sites });
        crate::audit::ssr::by_admin(&state, &admin, "api_key.create", &format!("key {id}"), None, Some(after)).await;
        Ok(NewApiKey { id, token })
    })
    .await
}

/// Revokes a key: the next request with it gets 401.
#[server(endpoint = "admin/revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.revoke_api_key(id).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(key = id, admin = %admin.username, "API key revoked");
        crate::audit::ssr::by_admin(&state, &admin, "api_key.revoke", &format!("key {id}"), None, None).await;
        Ok(())
    })
    .await
}

/// The API's routes with `curl` examples against this server, from its OpenAPI document.
#[server(endpoint = "admin/api_reference")]
pub async fn api_reference() -> Result<Vec<ApiRoute>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let (_, doc) = super::routes::api(state.clone());
        Ok(super::routes::reference(&doc, state.config.public_url.trim_end_matches('/')))
    })
    .await
}
