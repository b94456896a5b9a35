//! The subscription endpoints: what browsers call to subscribe, change and leave, and
//! what admins call to look through their subscribers.

use leptos::prelude::*;

use super::consent::ConsentForm;
use super::history::SubscriptionHistory;
#[cfg(feature = "ssr")]
use super::parse;
use super::{AudienceGrowth, HostCount, SubscriberPage, SubscriberSearch};
#[cfg(feature = "ssr")]
use super::{SubscriberRow, GROWTH_DAYS, PAGE_SIZE};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::site::cors::RequestSite;
#[cfg(feature = "ssr")]
use crate::store::SubscriptionKey;

/// The VAPID public key (base64url), which browsers need as `applicationServerKey`.
#[server(endpoint = "vapid_public_key")]
pub async fn vapid_public_key() -> Result<String, AppError> {
    let state = crate::state::AppState::get()?;
    let current = state.keys.current(&state.store).await.map_err(crate::error::ssr::internal)?;
    Ok(current.keys.public_key().to_owned())
}

/// Stores a browser's PushSubscription for the site the request comes from (its `Origin`,
/// see `site::cors`), with the consent receipt. The same endpoint again updates its keys.
/// `topics` (comma-separated ids) are the visitor's choice when they subscribe; absent, as
/// when the page re-sends a known subscription, the choice is left as it was. `key`: the
/// `applicationServerKey` (base64url) the browser subscribed with.
#[server(endpoint = "subscribe")]
pub async fn subscribe(
    endpoint: String,
    p256dh: String,
    auth: String,
    #[server(default)] topics: Option<String>,
    #[server(default)] key: String,
    #[server(flatten)] consent: ConsentForm,
) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        let subscription = parse::NewSubscription::parse(&endpoint, &p256dh, &auth, &state.endpoint_policy())?;
        let topics = match topics {
            Some(raw) => Some(crate::topic::api::offered_topics(&state, &raw, "topics", site.id).await?),
            None => None,
        };
        let consent = consent.parse(site.origin.as_ref(), site.user_secret.as_deref())?;
        let key = subscription_key(&state, &key).await?;
        let user_agent = user_agent().await;
        let known = state.store.subscription_by_endpoint(subscription.endpoint.as_str()).await?.is_some();
        let stored =
            state.store.upsert_subscription(&subscription, site.id, key, &consent, user_agent.as_deref()).await?;
        let Some(id) = stored else { return Err(another_site()) };
        if !known {
            let data = serde_json::json!({ "subscription_id": id, "site_id": site.id.0, "user_id": consent.user_id });
            state.store.emit_webhook(crate::webhook::WebhookEvent::SubscriptionCreated, Some(site.id.0), data).await;
            state.webhook_wake.notify_one();
        }
        if let Some(topics) = topics {
            state.store.set_subscription_topics(subscription.endpoint.as_str(), site.id, &topics).await?;
        }
        tracing::debug!(
            site = site.id.0,
            endpoint = %crate::push::endpoint::LoggedEndpoint(subscription.endpoint.as_str()),
            "subscribed"
        );
        Ok(())
    })
    .await
}

/// Removes a subscription of the request's site (the endpoint is the browser's secret
/// capability URL).
#[server(endpoint = "unsubscribe")]
pub async fn unsubscribe(endpoint: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        let endpoint = parse::PushEndpoint::parse(&endpoint, &state.endpoint_policy())?;
        state.store.delete_site_subscription(endpoint.as_str(), site.id).await?;
        Ok(())
    })
    .await
}

/// Called by the service worker on `pushsubscriptionchange`: the browser replaced the old
/// subscription with a new one. Both belong to the site the request comes from.
#[server(endpoint = "resubscribe")]
pub async fn resubscribe(
    old_endpoint: String,
    endpoint: String,
    p256dh: String,
    auth: String,
    #[server(default)] key: String,
) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        let policy = state.endpoint_policy();
        let subscription = parse::NewSubscription::parse(&endpoint, &p256dh, &auth, &policy)?;
        let user_agent = user_agent().await;
        let old = parse::PushEndpoint::parse(&old_endpoint, &policy).ok().filter(|old| *old != subscription.endpoint);
        // The receipt (and the visitor's topic choice) move to the new subscription.
        let consent = match &old {
            Some(old) => state.store.consent_of(old.as_str(), site.id).await?.unwrap_or_default(),
            None => Default::default(),
        };
        let key = subscription_key(&state, &key).await?;
        if state
            .store
            .upsert_subscription(&subscription, site.id, key, &consent, user_agent.as_deref())
            .await?
            .is_none()
        {
            return Err(another_site());
        }
        if let Some(old) = old {
            if let Some(topics) = state.store.subscription_topics(old.as_str(), site.id).await? {
                state.store.set_subscription_topics(subscription.endpoint.as_str(), site.id, &topics).await?;
            }
            state.store.delete_site_subscription(old.as_str(), site.id).await?;
        }
        Ok(())
    })
    .await
}

/// The stored key a browser says it subscribed with (its public half, base64url); the
/// current key when it says nothing.
#[cfg(feature = "ssr")]
async fn subscription_key(state: &crate::state::AppState, reported: &str) -> Result<SubscriptionKey, AppError> {
    let reported = reported.trim().trim_end_matches('=');
    if reported.is_empty() {
        let current = state.keys.current(&state.store).await.map_err(crate::error::ssr::internal)?;
        return Ok(SubscriptionKey::Assumed(current.id));
    }
    match state.store.signing_key_by_public(reported).await? {
        Some(key) => Ok(SubscriptionKey::Reported(key.id)),
        None => Err(AppError::field(
            "key",
            "This browser subscribed with a key this server does not sign with; reload the page to subscribe again.",
        )),
    }
}

#[cfg(feature = "ssr")]
fn another_site() -> AppError {
    AppError::Conflict("This subscription belongs to another site.".into())
}

#[cfg(feature = "ssr")]
async fn user_agent() -> Option<String> {
    let headers: http::HeaderMap = leptos_axum::extract().await.ok()?;
    let agent = headers.get(http::header::USER_AGENT)?.to_str().ok()?;
    Some(agent.chars().take(512).collect())
}

/// A page of the subscriber list, searched as [`SubscriberSearch`] says.
#[server(endpoint = "admin/subscribers")]
pub async fn list_subscribers(#[server(flatten)] search: SubscriberSearch) -> Result<SubscriberPage, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let query = super::list::ssr::parse_query(&zone, &search)?;
        let (rows, total) = state.store.subscriber_page(&query, PAGE_SIZE).await?;
        let next_before = (rows.len() as i64 == PAGE_SIZE).then(|| rows.last().map(|r| r.id)).flatten();
        let rows = rows
            .into_iter()
            .map(|r| SubscriberRow {
                id: r.id,
                host: r.host,
                endpoint: r.endpoint,
                topics: r.topics.unwrap_or_default(),
                receipt: r.receipt.receipt(),
                site: r.receipt.site,
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

/// "Why didn't they get it?": the subscriptions `to` names (a subscription number, an
/// endpoint or a user id) with every delivery to each, newest first. Any admin may look;
/// it changes nothing.
#[server(endpoint = "admin/subscriber_deliveries")]
pub async fn subscriber_deliveries(to: String) -> Result<Vec<SubscriptionHistory>, AppError> {
    crate::error::ssr::respond(async move {
        use super::history::{DeliveryRecord, Lookup, HISTORY_LIMIT};
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let lookup = Lookup::parse(&to)?;
        let mut found = Vec::new();
        for id in state.store.lookup_subscriptions(&lookup).await? {
            let subscription = state.store.history_subscription(id).await?;
            let deliveries = state.store.delivery_history(id, HISTORY_LIMIT).await?;
            if subscription.is_none() && deliveries.is_empty() {
                continue;
            }
            let seconds = |at: Option<i64>| at.map(|at| zone.format(at));
            let millis = |at: Option<i64>| at.filter(|at| *at > 0).map(|at| zone.format(at / 1000));
            found.push(SubscriptionHistory {
                id,
                host: subscription.as_ref().map(|s| s.host.clone()).unwrap_or_default(),
                site: subscription.as_ref().map(|s| s.site.clone()).unwrap_or_default(),
                user_id: subscription.as_ref().and_then(|s| s.user_id.clone()),
                joined: seconds(subscription.as_ref().map(|s| s.created_at)),
                last_success: seconds(subscription.as_ref().and_then(|s| s.last_success_at)),
                gone: subscription.is_none(),
                deliveries: deliveries
                    .into_iter()
                    .map(|d| DeliveryRecord {
                        campaign_id: d.campaign_id,
                        title: d.title,
                        message: d.kind == "message",
                        // Only a pending delivery waits for its next attempt; one held for
                        // an A/B test's winner waits for that instead.
                        next_attempt: millis(Some(d.next_attempt_at))
                            .filter(|_| d.status == "pending" && d.next_attempt_at != crate::store::HELD),
                        status: match d.variant {
                            Some(-1) if d.status == "pending" => "awaiting_winner".to_owned(),
                            _ => d.status,
                        },
                        variant: d.variant.and_then(|v| usize::try_from(v).ok()).map(crate::campaign::ab::letter),
                        attempts: d.attempts,
                        status_code: d.last_status_code,
                        error: d.last_error,
                        started: seconds(d.started_at),
                        sent: seconds(d.sent_at),
                        first_failed: millis(d.first_failed_at),
                        clicked: seconds(d.clicked_at),
                        dismissed: seconds(d.dismissed_at),
                    })
                    .collect(),
            });
        }
        Ok(found)
    })
    .await
}

/// Deletes one subscription; its browser gets nothing more from us.
#[server(endpoint = "admin/delete_subscriber")]
pub async fn delete_subscriber(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.delete_subscription(id).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(subscription = id, admin = %admin.username, "subscription deleted by an admin");
        crate::audit::ssr::by_admin(&state, &admin, "subscriber.delete", &format!("subscription {id}"), None, None)
            .await;
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
