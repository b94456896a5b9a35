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

/// A campaign's request for approval and its last review, for its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Still waiting for an owner.
    pub waiting: bool,
    pub requested_by: Option<String>,
    /// When it was asked, in the reading admin's time zone.
    pub requested: Option<String>,
    /// When it is to start once approved (reading admin's zone); `None`: at once.
    pub send_at: Option<String>,
    pub reviewed_by: Option<String>,
    /// Why it was declined, if it was and the owner said.
    pub note: Option<String>,
    /// Whether the reading admin may approve it: an owner, and not the one who asked.
    pub may_review: bool,
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
    /// Set once approval was asked for.
    pub approval: Option<Approval>,
    /// Its A/B test, if it has one.
    pub ab: Option<super::ab::AbReport>,
    /// Sent and clicked per language, the fallback first, if it has translations.
    #[serde(default)]
    pub languages: Option<Vec<super::languages::LanguageResult>>,
    /// Its deliveries by the hour they come due, if it is delivered at a local time and
    /// has taken its audience.
    #[serde(default)]
    pub local_waves: Vec<LocalWave>,
}

/// The deliveries of a local-time campaign that come due in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalWave {
    /// The hour's start, in the reading admin's time zone.
    pub hour: String,
    pub due: i64,
    pub sent: i64,
}

/// A local-time campaign's wall-clock time (`2027-03-28T09:00:00`) as people read it:
/// "09:00 on 28 Mar 2027".
pub fn local_time_words(stored: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(stored, "%Y-%m-%dT%H:%M:%S")
        .map(|at| at.format("%H:%M on %-d %b %Y").to_string())
        .unwrap_or_else(|_| stored.to_owned())
}
