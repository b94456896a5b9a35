//! Topics visitors choose to hear about ("Releases", "Offers"): what a campaign can be
//! aimed at. The visitor's browser subscription identifies them; there are no accounts.
//! The types are here; the endpoints in `api`.

pub mod api;

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
        Ok(Self::of(parse_topic_ids(raw, field)?))
    }

    /// Subscribers of any of `topics`; none means everyone.
    pub fn of(topics: Vec<TopicId>) -> Self {
        if topics.is_empty() {
            Self::Everyone
        } else {
            Self::Topics(topics)
        }
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
