//! One campaign in detail: counts, why deliveries failed, and sends and clicks over time.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{CampaignSummary, ComposeForm};
use crate::error::AppError;

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
    pub failures: Vec<FailureReason>,
    /// Every slice from the start to the last activity, empty ones included.
    pub activity: Vec<ActivityBucket>,
    pub bucket_secs: i64,
}

/// How many slices the activity chart has at most.
#[cfg(feature = "ssr")]
pub const ACTIVITY_BUCKETS: i64 = 48;

#[server(endpoint = "admin/campaign_report")]
pub async fn get_campaign_report(id: i64) -> Result<CampaignReport, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
        let mut summary = state.store.campaign_summary(id).await?.ok_or(AppError::NotFound)?;
        summary.local = admin.zone().times(&summary);
        let topics = state.store.campaign_topics(id).await?;
        let form = state
            .store
            .campaign_row(id)
            .await?
            .map(|row| ComposeForm::from_draft(&row.draft, &topics))
            .unwrap_or_default();
        let names = state.store.topics().await?;
        let audience =
            topics.iter().filter_map(|t| names.iter().find(|n| n.id == t.0).map(|n| n.name.clone())).collect();
        let failures = state.store.failure_reasons(id).await?;
        let start = summary.started_at.unwrap_or(summary.created_at);
        // Slices sized so the campaign so far (and its clicks) fit the chart, at least 1 s.
        let end = state.store.last_activity_at(id).await?.unwrap_or(start).max(start);
        let bucket_secs = ((end - start) / ACTIVITY_BUCKETS + 1).max(1);
        let counted = state.store.activity(id, start, bucket_secs).await?;
        let last = counted.last().map(|(bucket, _, _)| *bucket).unwrap_or(-1);
        let activity = (0..=last)
            .map(|bucket| {
                let (sent, clicked) = counted
                    .iter()
                    .find(|(b, _, _)| *b == bucket)
                    .map(|(_, sent, clicked)| (*sent, *clicked))
                    .unwrap_or((0, 0));
                ActivityBucket { offset_secs: bucket * bucket_secs, sent, clicked }
            })
            .collect();
        Ok(CampaignReport { summary, form, audience, failures, activity, bucket_secs })
    })
    .await
}
