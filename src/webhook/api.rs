//! The webhooks page's endpoints, for owners: list endpoints with their recent log, add
//! one (its secret is shown once), turn one back on, delete one, post an event again.

use leptos::prelude::*;

use super::WebhookSummary;
use crate::error::AppError;

/// Entries of each endpoint's log the page shows.
#[cfg(feature = "ssr")]
const LOG_ENTRIES: i64 = 20;

/// A new endpoint's id and signing secret (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewWebhook {
    pub id: i64,
    pub secret: String,
}

#[server(endpoint = "admin/webhooks")]
pub async fn list_webhooks() -> Result<Vec<WebhookSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_role(crate::admin::role::Role::Owner).await?.zone();
        let sites = state.store.sites().await?;
        let mut list = Vec::new();
        for row in state.store.webhooks().await? {
            let deliveries = state
                .store
                .webhook_deliveries(row.id, LOG_ENTRIES)
                .await?
                .into_iter()
                .map(|d| super::WebhookDeliverySummary {
                    id: d.id,
                    message_id: d.message_id,
                    event: d.event,
                    status: d.status,
                    attempts: d.attempts,
                    last_status: d.last_status,
                    last_error: d.last_error,
                    created: zone.format(d.created_at),
                })
                .collect();
            list.push(WebhookSummary {
                id: row.id,
                url: row.url,
                events: row.events.split(',').map(str::to_owned).collect(),
                site: row.site_id.map(|id| {
                    sites.iter().find(|s| s.id == id).map_or_else(|| format!("site {id}"), |s| s.name.clone())
                }),
                created: zone.format(row.created_at),
                failing_since: row.failing_since.map(|at| zone.format(at)),
                disabled: row
                    .disabled_at
                    .map(|at| format!("{} (turned off {})", row.disabled_reason.unwrap_or_default(), zone.format(at))),
                deliveries,
            });
        }
        Ok(list)
    })
    .await
}

/// Adds an endpoint for `events` (comma-separated names), limited to `site` (a site id;
/// empty: every site).
#[server(endpoint = "admin/create_webhook")]
pub async fn create_webhook(
    url: String,
    #[server(default)] events: String,
    #[server(default)] site: String,
) -> Result<NewWebhook, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let url = url.trim();
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|_| url.len() <= 2048)
            .ok_or_else(|| AppError::field("url", "Give the endpoint's full address, https://…"))?;
        super::sender::check_url(&parsed, state.config.endpoint_policy.allow_loopback)
            .map_err(|why| AppError::field("url", format!("Tidings cannot post there: {why}.")))?;
        let mut chosen = Vec::new();
        for raw in events.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let event = super::WebhookEvent::parse(raw)
                .ok_or_else(|| AppError::field("events", format!("{raw:?} is not an event Tidings sends.")))?;
            if !chosen.contains(&event) {
                chosen.push(event);
            }
        }
        if chosen.is_empty() {
            return Err(AppError::field("events", "Choose at least one event."));
        }
        let site = match site.trim() {
            "" => None,
            raw => {
                let id: i64 = raw.parse().map_err(|_| AppError::field("site", "Choose a site from the list."))?;
                if !state.store.sites().await?.iter().any(|s| s.id == id) {
                    return Err(AppError::field("site", format!("There is no site {id}.")));
                }
                Some(id)
            }
        };
        let secret = super::sender::new_secret();
        let id = state.store.create_webhook(parsed.as_str(), &chosen, site, &secret, admin.id).await?;
        tracing::info!(webhook = id, admin = %admin.username, "webhook endpoint added");
        let names: Vec<&str> = chosen.iter().map(|e| e.as_str()).collect();
        let after = serde_json::json!({ "url": parsed.as_str(), "events": names, "site": site });
        crate::audit::ssr::by_admin(&state, &admin, "webhook.create", &format!("webhook {id}"), None, Some(after))
            .await;
        Ok(NewWebhook { id, secret })
    })
    .await
}

#[server(endpoint = "admin/delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.delete_webhook(id).await? {
            return Err(AppError::NotFound);
        }
        crate::audit::ssr::by_admin(&state, &admin, "webhook.delete", &format!("webhook {id}"), None, None).await;
        Ok(())
    })
    .await
}

/// Turns an endpoint that was turned off (it kept failing) back on.
#[server(endpoint = "admin/enable_webhook")]
pub async fn enable_webhook(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.enable_webhook(id).await? {
            return Err(AppError::NotFound);
        }
        state.webhook_wake.notify_one();
        crate::audit::ssr::by_admin(&state, &admin, "webhook.enable", &format!("webhook {id}"), None, None).await;
        Ok(())
    })
    .await
}

/// Posts a logged event again, with the same `webhook-id`.
#[server(endpoint = "admin/resend_webhook")]
pub async fn resend_webhook(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.resend_webhook_delivery(id).await? {
            return Err(AppError::Conflict("It is already waiting to be posted.".into()));
        }
        state.webhook_wake.notify_one();
        crate::audit::ssr::by_admin(&state, &admin, "webhook.resend", &format!("webhook delivery {id}"), None, None)
            .await;
        Ok(())
    })
    .await
}
