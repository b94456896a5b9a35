//! Campaigns: what an admin composes and sends, as types; the endpoints are in `api`.

pub mod ab;
pub mod api;
mod audience;
mod content;
mod draft;
pub mod languages;
#[cfg(feature = "ssr")]
pub mod local_time;
mod payload;
mod report;
mod schedule;
mod status;

pub use audience::Audience;
pub use content::{DraftAction, LinkUrl, MAX_ACTION_LABEL_CHARS, MAX_BODY_CHARS, MAX_TITLE_CHARS};
pub use draft::{visible_controls, CampaignDraft, CollapseTopic, ComposeForm, SendRate, Ttl, Urgency};
pub use payload::{
    NotificationOptions, NotificationPayload, PayloadAction, MAX_PAYLOAD_BYTES, MAX_TRACK_TOKEN_CHARS,
    RELAYED_BODY_CHARS,
};
pub use report::{local_time_words, ActivityBucket, Approval, CampaignReport, FailureReason, LocalWave};
#[cfg(feature = "ssr")]
pub use schedule::ssr::{AdminZone, Plan};
pub use schedule::{LocalTimes, MAX_SCHEDULE_AHEAD_SECS};
pub use status::CampaignStatus;

use serde::{Deserialize, Serialize};

/// One row of the campaign list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CampaignSummary {
    pub id: i64,
    pub title: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: CampaignStatus,
    /// A problem the admin must act on (e.g. VAPID rejected), if any.
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub scheduled_at: Option<i64>,
    /// The send rate the admin set (pushes per minute), if any.
    pub max_per_minute: Option<i64>,
    pub targeted: i64,
    pub sent: i64,
    pub failed: i64,
    pub expired: i64,
    pub clicked: i64,
    /// Closed without a click.
    pub dismissed: i64,
    /// In the audience but not sent to: over their site's frequency cap.
    #[serde(default)]
    pub capped: i64,
    /// Delivered at this wall-clock time (`YYYY-MM-DDTHH:MM:SS`) in each subscriber's
    /// own zone, if it is.
    #[serde(default)]
    pub local_time: Option<String>,
    /// The times above in the admin's time zone, filled in by the server.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub local: LocalTimes,
}

impl CampaignSummary {
    /// Still being worked on, so the list should keep refreshing.
    pub fn is_active(&self) -> bool {
        self.status.is_running()
    }

    /// Not started yet, so its content and time can still change.
    pub fn is_editable(&self) -> bool {
        self.status.is_editable()
    }

    pub fn done(&self) -> i64 {
        self.sent + self.failed + self.expired
    }

    /// How far it has got, 0 to 100; a campaign with nobody to reach is done.
    pub fn percent_done(&self) -> i64 {
        if self.targeted == 0 {
            100
        } else {
            self.done() * 100 / self.targeted
        }
    }

    /// When a campaign with a send rate should be done (Unix seconds): its rate is spent
    /// a minute at a time from its start, the first minute's at once.
    pub fn expected_finish(&self) -> Option<i64> {
        let (rate, started) = (self.max_per_minute.filter(|r| *r > 0)?, self.started_at?);
        let minutes = (self.targeted + rate - 1) / rate;
        Some(started + 60 * (minutes - 1).max(0))
    }

    /// Clicks per delivered notification, in percent; none before anything was sent.
    pub fn click_through_percent(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.clicked as f64 * 100.0 / self.sent as f64)
    }
}
