//! The topic endpoints: what visitors choose from and choose, and what admins manage.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{parse_topic_ids, TopicId, TopicName};
use super::{Topic, TopicChoice};
use crate::error::AppError;

/// The topics a visitor can choose from.
#[server(endpoint = "topics")]
pub async fn list_topics() -> Result<Vec<TopicChoice>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let topics = state.store.topics().await?;
        Ok(topics.into_iter().filter(|t| !t.archived).map(|t| TopicChoice { id: t.id, name: t.name }).collect())
    })
    .await
}

/// The topics this browser's subscription chose (the endpoint is its secret capability URL).
#[server(endpoint = "my_topics")]
pub async fn my_topics(endpoint: String) -> Result<Vec<i64>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let topics = state.store.subscription_topics(endpoint.trim()).await?.ok_or(AppError::NotFound)?;
        Ok(topics.into_iter().map(|t| t.0).collect())
    })
    .await
}

/// Replaces this browser's topics with `topics` (comma-separated ids of active topics).
#[server(endpoint = "choose_topics")]
pub async fn choose_topics(endpoint: String, topics: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let topics = active_topics(&state, &topics, "topics").await?;
        if !state.store.set_subscription_topics(endpoint.trim(), &topics).await? {
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

#[server(endpoint = "admin/create_topic")]
pub async fn create_topic(name: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_admin().await?;
        let name = TopicName::parse(&name)?;
        let id = state.store.create_topic(&name).await?.ok_or_else(|| taken(&name))?;
        tracing::info!(topic = id, name = name.as_str(), admin = %admin.username, "topic created");
        Ok(id)
    })
    .await
}

#[server(endpoint = "admin/rename_topic")]
pub async fn rename_topic(id: i64, name: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let name = TopicName::parse(&name)?;
        match state.store.rename_topic(TopicId(id), &name).await {
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
        crate::session::require_admin().await?;
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
    let topics = parse_topic_ids(raw, field)?;
    if !state.store.inactive_topics(&topics).await?.is_empty() {
        return Err(AppError::field(
            field,
            "One of the chosen topics no longer exists; reload the page and choose again.",
        ));
    }
    Ok(topics)
}
