//! One campaign in detail: counts, why deliveries failed, and sends and clicks over time
//! (built by `api::get_campaign_report`).

use serde::{Deserialize, Serialize};

use super::{CampaignSummary, ComposeForm};

/// Failed or expired deliveries that got the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FailureReason {
    /// "failed" or "expired".
    pub outcome: String,
    /// The push service's status code; none when it never answered.
    pub status_code: Option<i64>,
    /// One of the recorded error messages.
    pub example: Option<String>,
    pub count: i64,
}

/// Sends and clicks in one time slice of the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityBucket {
    /// Seconds from the campaign's start to the start of this slice.
    pub offset_secs: i64,
    pub sent: i64,
    pub clicked: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignReport {
    pub summary: CampaignSummary,
    /// What it says, in the compose form's terms (to preview it, or edit a draft).
    pub form: ComposeForm,
    /// The names of the topics it is aimed at; empty for everyone.
    pub audience: Vec<String>,
    /// Names of the sites it is aimed at; empty: every site.
    pub sites: Vec<String>,
    pub failures: Vec<FailureReason>,
    /// Every slice from the start to the last activity, empty ones included.
    pub activity: Vec<ActivityBucket>,
    pub bucket_secs: i64,
}
