//! The template endpoints: list, open, save (new or over one) and delete.

use leptos::prelude::*;

use super::TemplateSummary;
#[cfg(feature = "ssr")]
use super::{template_content, TemplateName};
use crate::campaign::ComposeForm;
use crate::error::AppError;

#[server(endpoint = "admin/templates")]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let rows = state.store.templates().await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let form = stored_form(&row.content);
                TemplateSummary {
                    id: row.id,
                    name: row.name,
                    title: form.title,
                    body: form.body,
                    updated: zone.format(row.updated_at),
                }
            })
            .collect())
    })
    .await
}

/// A template's name and content, to start a campaign from (or to change the template).
#[server(endpoint = "admin/template")]
pub async fn open_template(id: i64) -> Result<(String, ComposeForm), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let row = state.store.template(id).await?.ok_or(AppError::NotFound)?;
        Ok((row.name, stored_form(&row.content)))
    })
    .await
}

/// Saves the compose form's content (not its audience) as template `template_name`: a new
/// one, or over template `template_id` when given. The content must make a valid campaign,
/// so a template always sends. Returns the template's id.
#[server(endpoint = "admin/save_template")]
pub async fn save_template(
    template_name: String,
    #[server(flatten)] form: ComposeForm,
    #[server(default)] template_id: String,
) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let name = TemplateName::parse(&template_name)?;
        let existing = match template_id.trim() {
            "" => None,
            id => Some(id.parse::<i64>().map_err(|_| AppError::field("template_id", "Not a template number."))?),
        };
        crate::campaign::CampaignDraft::parse(&form)?;
        let content = template_content(&form);
        let json = serde_json::to_string(&content).map_err(crate::error::ssr::internal)?;
        let taken = || AppError::Conflict(format!("There is already a template called “{}”.", name.as_str()));
        let (id, action, before) = match existing {
            None => {
                let id = state
                    .store
                    .create_template(&name, &json, admin.id)
                    .await
                    .map_err(|e| crate::error::ssr::unique_or_internal(e, taken))?;
                (id, "template.create", None)
            }
            Some(id) => {
                let before = state.store.template(id).await?.ok_or(AppError::NotFound)?;
                let updated = state
                    .store
                    .update_template(id, &name, &json)
                    .await
                    .map_err(|e| crate::error::ssr::unique_or_internal(e, taken))?;
                if !updated {
                    return Err(AppError::NotFound);
                }
                let before = serde_json::json!({ "name": before.name, "content": stored_form(&before.content) });
                (id, "template.update", Some(before))
            }
        };
        tracing::info!(template = id, admin = %admin.username, action, "template saved");
        let after = serde_json::json!({ "name": name.as_str(), "content": content });
        crate::audit::ssr::by_admin(&state, &admin, action, &format!("template {id}"), before, Some(after)).await;
        Ok(id)
    })
    .await
}

#[server(endpoint = "admin/delete_template")]
pub async fn delete_template(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let before = state.store.template(id).await?.ok_or(AppError::NotFound)?;
        state.store.delete_template(id).await?;
        tracing::info!(template = id, admin = %admin.username, "template deleted");
        let before = serde_json::json!({ "name": before.name, "content": stored_form(&before.content) });
        crate::audit::ssr::by_admin(&state, &admin, "template.delete", &format!("template {id}"), Some(before), None)
            .await;
        Ok(())
    })
    .await
}

/// The stored JSON back as a form. Only this code writes it, from a checked form; a row
/// that does not read (edited by hand) opens as an empty form rather than failing the page.
#[cfg(feature = "ssr")]
fn stored_form(json: &str) -> ComposeForm {
    serde_json::from_str(json).unwrap_or_else(|error| {
        tracing::warn!(%error, "a stored template does not read as a compose form");
        ComposeForm::default()
    })
}
