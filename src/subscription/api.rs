//! The subscription endpoints: what browsers call to subscribe, change and leave, and
//! what admins call to look through their subscribers.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::parse;
use super::{AudienceGrowth, HostCount, SubscriberPage};
#[cfg(feature = "ssr")]
use super::{SubscriberRow, GROWTH_DAYS, PAGE_SIZE};
use crate::error::AppError;

/// The VAPID public key (base64url), which browsers need as `applicationServerKey`.
#[server(endpoint = "vapid_public_key")]
pub async fn vapid_public_key() -> Result<String, AppError> {
    Ok(crate::state::AppState::get()?.vapid.public_key().to_owned())
}

/// Stores a browser's PushSubscription. The same endpoint again updates its keys.
/// `topics` (comma-separated ids) are the visitor's choice when they subscribe; absent, as
/// when the page re-sends a known subscription, the choice is left as it was.
#[server(endpoint = "subscribe")]
pub async fn subscribe(
    endpoint: String,
    p256dh: String,
    auth: String,
    #[server(default)] topics: Option<String>,
) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let subscription = parse::NewSubscription::parse(&endpoint, &p256dh, &auth, &state.endpoint_policy())?;
        let topics = match topics {
            Some(raw) => Some(crate::topic::api::active_topics(&state, &raw, "topics").await?),
            None => None,
        };
        let user_agent = user_agent().await;
        state.store.upsert_subscription(&subscription, user_agent.as_deref()).await?;
        if let Some(topics) = topics {
            state.store.set_subscription_topics(subscription.endpoint.as_str(), &topics).await?;
        }
        Ok(())
    })
    .await
}

/// Removes a subscription (the endpoint is the browser's secret capability URL).
#[server(endpoint = "unsubscribe")]
pub async fn unsubscribe(endpoint: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let endpoint = parse::PushEndpoint::parse(&endpoint, &state.endpoint_policy())?;
        state.store.delete_subscription_by_endpoint(endpoint.as_str()).await?;
        Ok(())
    })
    .await
}

/// Called by the service worker on `pushsubscriptionchange`: the browser replaced the old
/// subscription with a new one.
#[server(endpoint = "resubscribe")]
pub async fn resubscribe(old_endpoint: String, endpoint: String, p256dh: String, auth: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let policy = state.endpoint_policy();
        let subscription = parse::NewSubscription::parse(&endpoint, &p256dh, &auth, &policy)?;
        let user_agent = user_agent().await;
        state.store.upsert_subscription(&subscription, user_agent.as_deref()).await?;
        if let Ok(old) = parse::PushEndpoint::parse(&old_endpoint, &policy) {
            if old != subscription.endpoint {
                // The visitor's topic choice moves to the new subscription.
                if let Some(topics) = state.store.subscription_topics(old.as_str()).await? {
                    state.store.set_subscription_topics(subscription.endpoint.as_str(), &topics).await?;
                }
                state.store.delete_subscription_by_endpoint(old.as_str()).await?;
            }
        }
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
async fn user_agent() -> Option<String> {
    let headers: http::HeaderMap = leptos_axum::extract().await.ok()?;
    let agent = headers.get(http::header::USER_AGENT)?.to_str().ok()?;
    Some(agent.chars().take(512).collect())
}

/// `host`: a push-service host; `topic`: a topic id; `joined_from`/`joined_to`: dates
/// (YYYY-MM-DD, both included) in the admin's time zone; `before`: the page cursor.
/// Empty means no filter.
#[server(endpoint = "admin/subscribers")]
pub async fn list_subscribers(
    #[server(default)] host: String,
    #[server(default)] topic: String,
    #[server(default)] joined_from: String,
    #[server(default)] joined_to: String,
    #[server(default)] before: String,
) -> Result<SubscriberPage, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let query = super::list::ssr::parse_query(&zone, &host, &topic, &joined_from, &joined_to, &before)?;
        let (rows, total) = state.store.subscriber_page(&query, PAGE_SIZE).await?;
        let next_before = (rows.len() as i64 == PAGE_SIZE).then(|| rows.last().map(|r| r.id)).flatten();
        let rows = rows
            .into_iter()
            .map(|r| SubscriberRow {
                id: r.id,
                host: r.host,
                endpoint: r.endpoint,
                topics: r.topics.unwrap_or_default(),
                joined: zone.format(r.created_at),
                last_success: r.last_success_at.map(|t| zone.format(t)),
            })
            .collect();
        Ok(SubscriberPage { rows, total, next_before })
    })
    .await
}

/// Push-service hosts with their subscriber counts, for the host filter.
#[server(endpoint = "admin/subscriber_hosts")]
pub async fn subscriber_hosts() -> Result<Vec<HostCount>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let hosts = state.store.subscriber_hosts().await?;
        Ok(hosts.into_iter().map(|(host, subscribers)| HostCount { host, subscribers }).collect())
    })
    .await
}

/// Deletes one subscription; its browser gets nothing more from us.
#[server(endpoint = "admin/delete_subscriber")]
pub async fn delete_subscriber(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_admin().await?;
        if !state.store.delete_subscription(id).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(subscription = id, admin = %admin.username, "subscription deleted by an admin");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/subscriber_growth")]
pub async fn subscriber_growth() -> Result<AudienceGrowth, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let now = crate::store::now();
        let total = state.store.subscription_count().await?;
        // A day more than needed: local days do not start on UTC hours everywhere.
        let since_hour = (now - (GROWTH_DAYS as i64 + 1) * 86_400) / 3600;
        let hours = state.store.subscriber_hours(since_hour).await?;
        Ok(super::growth::ssr::by_day(&zone, now, total, &hours))
    })
    .await
}
