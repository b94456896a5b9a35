//! Templates: a campaign's content saved under a name, to start new campaigns from.
//! The types are here; the endpoints in `api`.

pub mod api;

use serde::{Deserialize, Serialize};

use crate::campaign::ComposeForm;
use crate::error::AppError;

pub const MAX_TEMPLATE_NAME_CHARS: usize = 60;

/// A template as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub body: String,
    /// When it last changed, in the admin's time zone.
    pub updated: String,
}

/// 1 to 60 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > MAX_TEMPLATE_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(AppError::field(
                "template_name",
                format!("A template name needs 1 to {MAX_TEMPLATE_NAME_CHARS} characters."),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a template keeps of the compose form: its content and delivery options, not who
/// it was aimed at (a template is used for other audiences).
pub fn template_content(form: &ComposeForm) -> ComposeForm {
    ComposeForm { audience: String::new(), sites: String::new(), ..form.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TemplateName::parse("  Weekly digest ").unwrap().as_str(), "Weekly digest");
        assert_eq!(TemplateName::parse(&"é".repeat(60)).unwrap().as_str().chars().count(), 60);
        for bad in ["", "   ", &"x".repeat(61), "two\nlines"] {
            assert_eq!(TemplateName::parse(bad).unwrap_err().field_name(), Some("template_name"), "{bad:?}");
        }
    }

    #[test]
    fn a_template_keeps_the_content_but_not_the_audience() {
        let form = ComposeForm {
            title: "Sale".into(),
            audience: "1,2".into(),
            sites: "3".into(),
            urgency: "high".into(),
            ..ComposeForm::default()
        };
        let kept = template_content(&form);
        assert_eq!((kept.title.as_str(), kept.urgency.as_str()), ("Sale", "high"));
        assert_eq!((kept.audience.as_str(), kept.sites.as_str()), ("", ""));
    }
}
