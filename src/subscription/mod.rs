//! Browser push subscriptions: the endpoints visitors call to subscribe and unsubscribe.

mod growth;
mod list;
#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod transfer;

pub use growth::{subscriber_growth, AudienceGrowth, GrowthDay, GROWTH_DAYS};
pub use list::{
    delete_subscriber, list_subscribers, subscriber_hosts, DeleteSubscriber, HostCount, ImportProblem, ImportReport,
    SubscriberPage, SubscriberQuery, SubscriberRow, PAGE_SIZE,
};

use leptos::prelude::*;

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
