//! Who a campaign goes to: subscribers of chosen sites (none chosen: every active site)
//! who chose any of the chosen topics (none chosen: everyone there).

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::site::SiteId;
use crate::topic::{parse_topic_ids, TopicId};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub topics: Vec<TopicId>,
    pub sites: Vec<SiteId>,
}

impl Audience {
    /// The compose form's two comma-separated id lists; errors name the field.
    pub fn parse(topics: &str, sites: &str) -> Result<Self, AppError> {
        Ok(Self {
            topics: parse_topic_ids(topics, "audience")?,
            sites: crate::ids::parse_ids(sites, "sites", "Sites are chosen by their numbers.")?
                .into_iter()
                .map(SiteId)
                .collect(),
        })
    }

    pub fn is_everyone(&self) -> bool {
        self.topics.is_empty() && self.sites.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_choice_means_everyone_and_bad_ids_name_their_field() {
        assert!(Audience::parse("", "").unwrap().is_everyone());
        let chosen = Audience::parse("3,1", "2").unwrap();
        assert_eq!(chosen.topics, vec![TopicId(1), TopicId(3)]);
        assert_eq!(chosen.sites, vec![SiteId(2)]);
        assert_eq!(Audience::parse("x", "").unwrap_err().field_name(), Some("audience"));
        assert_eq!(Audience::parse("", "0").unwrap_err().field_name(), Some("sites"));
    }
}
