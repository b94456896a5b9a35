//! Where a campaign is in its life.

use serde::{Deserialize, Serialize};

/// draft → (scheduled →) queued → sending → sent | cancelled | failed. Stored as its
/// lowercase name (the `campaigns.status` column) and sent to the browser the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    /// A draft an editor asked to send, waiting for an owner (stored as a draft with an
    /// approval request: read back as this).
    AwaitingApproval,
    Scheduled,
    Queued,
    Sending,
    Sent,
    Cancelled,
    Failed,
}

impl CampaignStatus {
    pub const ALL: [Self; 8] = [
        Self::Draft,
        Self::AwaitingApproval,
        Self::Scheduled,
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Cancelled,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Still being worked on by the dispatcher.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Queued | Self::Sending)
    }

    /// Not started yet, so its content and time can still change.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::AwaitingApproval | Self::Scheduled)
    }

    /// How often a page showing a campaign in this state should look again: every second
    /// while it is sending, now and then while it waits for its time, never once it is over.
    pub fn refresh_every(self) -> Option<std::time::Duration> {
        match self {
            Self::Queued | Self::Sending => Some(std::time::Duration::from_secs(1)),
            Self::Scheduled | Self::AwaitingApproval => Some(std::time::Duration::from_secs(5)),
            Self::Draft | Self::Sent | Self::Cancelled | Self::Failed => None,
        }
    }
}

impl std::fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// So a status compares with its name, as in tests and templates.
impl PartialEq<&str> for CampaignStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The database's text, read back (the column only ever holds these names).
impl TryFrom<String> for CampaignStatus {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).ok_or_else(|| format!("unknown campaign status {raw:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{status}\""));
        }
        assert_eq!(CampaignStatus::parse("Sent"), None);
    }
}
