//! Topics visitors choose to hear about ("Releases", "Offers"): what a campaign can be
//! aimed at. The visitor's browser subscription identifies them; there are no accounts.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The most topics one subscription or campaign can name.
pub const MAX_TOPICS: usize = 50;
pub const MAX_TOPIC_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicId(pub i64);

/// A topic as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    pub subscribers: i64,
}

/// A topic as the public page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicChoice {
    pub id: i64,
    pub name: String,
}

/// 1 to 40 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicName(String);

impl TopicName {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > MAX_TOPIC_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(AppError::field("name", format!("A topic name needs 1 to {MAX_TOPIC_NAME_CHARS} characters.")));
        }
        // "|" separates topics in a CSV export's one column.
        if name.contains('|') {
            return Err(AppError::field("name", "A topic name cannot contain “|”."));
        }
        // A spreadsheet opening the export would run "=HYPERLINK(…)" as a formula.
        if name.starts_with(['=', '+', '-', '@']) {
            return Err(AppError::field("name", "A topic name cannot start with =, +, - or @."));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a campaign goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    Everyone,
    /// Subscribers of any of these topics (never empty).
    Topics(Vec<TopicId>),
}

impl Audience {
    /// A form's comma-separated topic ids; none means everyone.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let topics = parse_topic_ids(raw, field)?;
        Ok(if topics.is_empty() { Self::Everyone } else { Self::Topics(topics) })
    }

    pub fn topics(&self) -> &[TopicId] {
        match self {
            Self::Everyone => &[],
            Self::Topics(topics) => topics,
        }
    }

    /// The form value: comma-separated ids, empty for everyone.
    pub fn to_form(&self) -> String {
        topic_ids_text(self.topics().iter().map(|t| t.0))
    }
}

/// Topic ids as forms and server functions carry them: "1,3".
pub fn topic_ids_text(ids: impl IntoIterator<Item = i64>) -> String {
    ids.into_iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
}

/// `text` (as [`topic_ids_text`] writes it) with `id` added or removed.
pub fn toggle_topic_id(text: &str, id: i64, on: bool) -> String {
    let mut ids: Vec<i64> =
        parse_topic_ids(text, "").unwrap_or_default().into_iter().map(|t| t.0).filter(|t| *t != id).collect();
    if on {
        ids.push(id);
    }
    ids.sort();
    topic_ids_text(ids)
}

/// "3,1,3" → [1, 3]: sorted, without repeats; anything else is refused, naming `field`.
pub fn parse_topic_ids(raw: &str, field: &str) -> Result<Vec<TopicId>, AppError> {
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| AppError::field(field, "Topics are chosen by their numbers."))?;
        ids.push(TopicId(id));
    }
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_TOPICS {
        return Err(AppError::field(field, format!("At most {MAX_TOPICS} topics.")));
    }
    Ok(ids)
}

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
        let topics = ssr::active_topics(&state, &topics, "topics").await?;
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
        crate::admin::auth::ssr::require_admin().await?;
        Ok(state.store.topics().await?)
    })
    .await
}

#[server(endpoint = "admin/create_topic")]
pub async fn create_topic(name: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
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
        crate::admin::auth::ssr::require_admin().await?;
        let name = TopicName::parse(&name)?;
        match state.store.rename_topic(TopicId(id), &name).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AppError::NotFound),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(taken(&name)),
            Err(e) => Err(e.into()),
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
        crate::admin::auth::ssr::require_admin().await?;
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

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{parse_topic_ids, TopicId};
    use crate::error::AppError;
    use crate::state::AppState;

    /// Parses comma-separated ids and checks each is an active topic; errors name `field`.
    pub async fn active_topics(state: &AppState, raw: &str, field: &str) -> Result<Vec<TopicId>, AppError> {
        let topics = parse_topic_ids(raw, field)?;
        if !state.store.inactive_topics(&topics).await?.is_empty() {
            return Err(AppError::field(
                field,
                "One of the chosen topics no longer exists; reload the page and choose again.",
            ));
        }
        Ok(topics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids_are_sorted_without_repeats_and_nothing_else_is_taken() {
        assert_eq!(parse_topic_ids(" 3, 1,3 ,", "t").unwrap(), vec![TopicId(1), TopicId(3)]);
        assert_eq!(Audience::parse("", "audience").unwrap(), Audience::Everyone);
        assert_eq!(Audience::parse("2", "audience").unwrap().to_form(), "2");
        for bad in ["x", "1;2", "-4", "0", "1.5"] {
            assert_eq!(parse_topic_ids(bad, "audience").unwrap_err().field_name(), Some("audience"), "{bad}");
        }
        let many = topic_ids_text(1..=51);
        assert!(parse_topic_ids(&many, "t").is_err());
    }

    #[test]
    fn ticking_and_unticking_keeps_the_list_sorted_and_unique() {
        assert_eq!(toggle_topic_id("", 3, true), "3");
        assert_eq!(toggle_topic_id("3", 1, true), "1,3");
        assert_eq!(toggle_topic_id("1,3", 3, true), "1,3");
        assert_eq!(toggle_topic_id("1,3", 1, false), "3");
    }

    #[test]
    fn topic_names_are_short_and_visible() {
        assert_eq!(TopicName::parse("  Releases ").unwrap().as_str(), "Releases");
        assert!(TopicName::parse("   ").is_err());
        assert!(TopicName::parse(&"x".repeat(41)).is_err());
        assert!(TopicName::parse("a\nb").is_err());
        assert!(TopicName::parse("a|b").is_err());
        for formula in ["=HYPERLINK(\"x\")", "+1+cmd", "-2", "@SUM(1)"] {
            assert!(TopicName::parse(formula).is_err(), "{formula}");
        }
        assert!(TopicName::parse("C++ news").is_ok());
    }
}
