//! Topics visitors choose to hear about ("Releases", "Offers"): what a campaign can be
//! aimed at. The visitor's browser subscription identifies them; there are no accounts.
//! The types are here; the endpoints in `api`.

pub mod api;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

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
    /// The one site it is offered on; `None`: every site.
    pub site: Option<i64>,
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

/// "3,1,3" → [1, 3]: sorted, without repeats; anything else is refused, naming `field`.
pub fn parse_topic_ids(raw: &str, field: &str) -> Result<Vec<TopicId>, AppError> {
    Ok(crate::ids::parse_ids(raw, field, "Topics are chosen by their numbers.")?.into_iter().map(TopicId).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids_are_sorted_without_repeats() {
        assert_eq!(parse_topic_ids(" 3, 1,3 ,", "t").unwrap(), vec![TopicId(1), TopicId(3)]);
        assert_eq!(parse_topic_ids("x", "audience").unwrap_err().field_name(), Some("audience"));
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
