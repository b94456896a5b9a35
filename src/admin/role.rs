//! What an admin may do. Ordered: each role may do everything the ones below it may.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Reads every page except keys, API keys and the audit log.
    Viewer,
    /// Writes, tests and sends campaigns and manages topics; where a site requires it,
    /// a campaign they send waits for an owner's approval.
    Editor,
    /// Everything: admins, sites, keys, API keys, subscribers' data, the audit log, approvals.
    Owner,
}

impl Role {
    pub const ALL: [Self; 3] = [Self::Owner, Self::Editor, Self::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Editor => "Editor",
            Self::Owner => "Owner",
        }
    }

    /// One line for the admins page.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Viewer => "reads campaigns, subscribers and the dashboard",
            Self::Editor => "writes and sends campaigns, manages topics",
            Self::Owner => "everything, including admins, sites, keys and approvals",
        }
    }

    /// The name with an article, for messages ("This needs an owner").
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Viewer => "a viewer",
            Self::Editor => "an editor",
            Self::Owner => "an owner",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Owner > Role::Editor && Role::Editor > Role::Viewer);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
