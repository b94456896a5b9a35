//! The topic endpoints: what visitors choose from and choose, and what admins manage.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{parse_topic_ids, TopicId, TopicName};
use super::{Topic, TopicChoice};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::site::{cors::RequestSite, SiteId};

/// The topics a visitor of the request's site can choose from.
#[server(endpoint = "topics")]
pub async fn list_topics() -> Result<Vec<TopicChoice>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        Ok(state.store.offered_topics(site.id).await?)
    })
    .await
}

/// The topics this browser's subscription chose (the endpoint is its secret capability URL).
#[server(endpoint = "my_topics")]
pub async fn my_topics(endpoint: String) -> Result<Vec<i64>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        let topics = state.store.subscription_topics(endpoint.trim(), site.id).await?.ok_or(AppError::NotFound)?;
        Ok(topics.into_iter().map(|t| t.0).collect())
    })
    .await
}

/// Replaces this browser's topics with `topics` (comma-separated ids of topics its site offers).
#[server(endpoint = "choose_topics")]
pub async fn choose_topics(endpoint: String, topics: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        let topics = offered_topics(&state, &topics, "topics", site.id).await?;
        if !state.store.set_subscription_topics(endpoint.trim(), site.id, &topics).await? {
            return Err(AppError::NotFound);
        }
        Ok(())
    })
    .await
}

/// Every topic with its subscriber count, for admins.
#[server(endpoint = "admin/topics")]
pub async fn admin_topics() -> Result<Vec<Topic>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        Ok(state.store.topics().await?)
    })
    .await
}

/// `site`: the one site offering it (its id), empty for every site.
#[server(endpoint = "admin/create_topic")]
pub async fn create_topic(name: String, #[server(default)] site: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let name = TopicName::parse(&name)?;
        let site = offering_site(&state, &site).await?;
        let id = state.store.create_topic(&name, site).await?.ok_or_else(|| taken(&name))?;
        tracing::info!(topic = id, name = name.as_str(), admin = %admin.username, "topic created");
        let after = serde_json::json!({ "name": name.as_str(), "site": site });
        crate::audit::ssr::by_admin(&state, &admin, "topic.create", &format!("topic {id}"), None, Some(after)).await;
        Ok(id)
    })
    .await
}

/// Renames a topic and sets where it is offered (`site` as in [`create_topic`]).
#[server(endpoint = "admin/rename_topic")]
pub async fn rename_topic(id: i64, name: String, #[server(default)] site: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let name = TopicName::parse(&name)?;
        let site = offering_site(&state, &site).await?;
        match state.store.update_topic(TopicId(id), &name, site).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AppError::NotFound),
            Err(e) => Err(crate::error::ssr::unique_or_internal(e, || taken(&name))),
        }
    })
    .await
}

/// Archives a topic (`archived` = true) or brings it back. Archived topics are no longer
/// offered to visitors or to campaigns; who chose them is kept.
#[server(endpoint = "admin/archive_topic")]
pub async fn archive_topic(id: i64, archived: bool) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_role(crate::admin::role::Role::Editor).await?;
        if !state.store.set_topic_archived(TopicId(id), archived).await? {
            return Err(AppError::NotFound);
        }
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
fn taken(name: &TopicName) -> AppError {
    AppError::Conflict(format!("There is already a topic called “{}”.", name.as_str()))
}

/// Parses comma-separated ids and checks each is an active topic; errors name `field`.
#[cfg(feature = "ssr")]
pub async fn active_topics(state: &crate::state::AppState, raw: &str, field: &str) -> Result<Vec<TopicId>, AppError> {
    available(state, parse_topic_ids(raw, field)?, field, None).await
}

/// Like [`active_topics`], and each must be offered on `site`.
#[cfg(feature = "ssr")]
pub async fn offered_topics(
    state: &crate::state::AppState,
    raw: &str,
    field: &str,
    site: SiteId,
) -> Result<Vec<TopicId>, AppError> {
    available(state, parse_topic_ids(raw, field)?, field, Some(site)).await
}

#[cfg(feature = "ssr")]
async fn available(
    state: &crate::state::AppState,
    topics: Vec<TopicId>,
    field: &str,
    site: Option<SiteId>,
) -> Result<Vec<TopicId>, AppError> {
    if !state.store.unavailable_topics(&topics, site).await?.is_empty() {
        return Err(AppError::field(
            field,
            "One of the chosen topics no longer exists; reload the page and choose again.",
        ));
    }
    Ok(topics)
}

/// A topic's site as the topic form sends it: empty for every site, else an active site's id.
#[cfg(feature = "ssr")]
async fn offering_site(state: &crate::state::AppState, raw: &str) -> Result<Option<SiteId>, AppError> {
    let bad = || AppError::field("site", "Choose one of the active sites, or every site.");
    match raw.trim() {
        "" => Ok(None),
        id => {
            let site = SiteId(id.parse().map_err(|_| bad())?);
            if !state.store.inactive_sites(&[site]).await?.is_empty() {
                return Err(bad());
            }
            Ok(Some(site))
        }
    }
}
