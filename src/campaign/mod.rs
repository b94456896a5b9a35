//! Campaigns: what an admin composes and sends, and the endpoints to do it.

mod draft;
mod payload;
mod report;
mod schedule;
mod status;

pub use draft::{
    visible_controls, CampaignDraft, CollapseTopic, ComposeForm, DraftAction, LinkUrl, Ttl, Urgency,
    MAX_ACTION_LABEL_CHARS, MAX_BODY_CHARS, MAX_TITLE_CHARS,
};
pub use payload::{NotificationOptions, NotificationPayload, PayloadAction, MAX_PAYLOAD_BYTES, MAX_TRACK_TOKEN_CHARS};
pub use report::{get_campaign_report, ActivityBucket, CampaignReport, FailureReason};
#[cfg(feature = "ssr")]
pub use schedule::ssr::{AdminZone, Plan};
pub use schedule::{LocalTimes, MAX_SCHEDULE_AHEAD_SECS};
pub use status::CampaignStatus;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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
    pub targeted: i64,
    pub sent: i64,
    pub failed: i64,
    pub expired: i64,
    pub clicked: i64,
    /// Closed without a click.
    pub dismissed: i64,
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

    /// Clicks per delivered notification, in percent; none before anything was sent.
    pub fn click_through_percent(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.clicked as f64 * 100.0 / self.sent as f64)
    }
}

/// How many subscribers a campaign sent now would reach.
/// `audience`: comma-separated topic ids, empty for everyone.
#[server(endpoint = "admin/audience_size")]
pub async fn audience_size(#[server(default)] audience: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::admin::auth::ssr::require_admin().await?;
        let audience = crate::topic::Audience::parse(&audience, "audience")?;
        Ok(state.store.audience_size(&audience).await?)
    })
    .await
}

/// Saves what the admin composed: sends it now (queued for the dispatcher, which sends it
/// in the background), schedules it, or keeps it as a draft; as a new campaign, or over the
/// draft or scheduled campaign `campaign_id`. Returns the campaign's id.
/// The form's fields arrive one by one (a plain HTML form posts them so) and are read
/// into one [`ComposeForm`]; any of them may be missing (an empty field).
#[server(endpoint = "admin/send_campaign")]
pub async fn send_campaign(
    #[server(flatten)] form: ComposeForm,
    /// The pressed button: "send" (the default) or "draft".
    #[server(default)]
    intent: String,
    /// "now" (the default) or "later", at `send_at` (a `datetime-local` value in the
    /// admin's time zone).
    #[server(default)]
    when: String,
    #[server(default)] send_at: String,
    /// The draft or scheduled campaign being edited; empty for a new one.
    #[server(default)]
    campaign_id: String,
) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
        let existing = match campaign_id.trim() {
            "" => None,
            id => Some(id.parse::<i64>().map_err(|_| AppError::invalid("campaign_id must be a campaign number."))?),
        };
        let draft = CampaignDraft::parse(&form)?;
        let audience = crate::topic::Audience::parse(&form.audience, "audience")?;
        crate::topic::ssr::active_topics(&state, &form.audience, "audience").await?;
        let plan = Plan::parse(intent.trim(), when.trim(), &send_at, &admin.zone(), state.config.clock.now())?;
        let id = state.store.save_campaign(&draft, &audience, plan, admin.id, existing).await?.ok_or_else(|| {
            AppError::Conflict(
                "This campaign has already started (or was deleted), so it can no longer be changed.".into(),
            )
        })?;
        match plan {
            Plan::Now => {
                state.dispatcher_wake.notify_one();
                tracing::info!(campaign = id, admin = %admin.username, "campaign queued");
            }
            Plan::At(at) => {
                // The dispatcher may be asleep until an earlier time; let it look again.
                state.dispatcher_wake.notify_one();
                tracing::info!(campaign = id, admin = %admin.username, at, "campaign scheduled");
            }
            Plan::Draft => tracing::info!(campaign = id, admin = %admin.username, "draft saved"),
        }
        Ok(id)
    })
    .await
}

/// Copies a campaign's content into a new draft, to send it again or build on it.
/// Returns the draft's id.
#[server(endpoint = "admin/duplicate_campaign")]
pub async fn duplicate_campaign(id: i64) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
        let copy = state.store.duplicate_campaign(id, admin.id).await?.ok_or(AppError::NotFound)?;
        tracing::info!(campaign = id, draft = copy, admin = %admin.username, "campaign duplicated");
        Ok(copy)
    })
    .await
}

/// Deletes a draft. Campaigns that were scheduled or sent are cancelled, not deleted, so
/// their history stays.
#[server(endpoint = "admin/delete_draft")]
pub async fn delete_draft(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
        if !state.store.delete_draft(id).await? {
            return Err(AppError::Conflict("Only a draft can be deleted.".into()));
        }
        tracing::info!(campaign = id, admin = %admin.username, "draft deleted");
        Ok(())
    })
    .await
}

/// Sends the composed notification to one subscription only — the admin's own browser —
/// right away, and says what its push service answered. Nothing is stored or counted.
#[server(endpoint = "admin/send_test")]
pub async fn send_test(endpoint: String, form: ComposeForm) -> Result<String, AppError> {
    crate::error::ssr::respond(async move {
        use crate::push::client::{PushMessage, PushResult};
        let state = crate::state::AppState::get()?;
        crate::admin::auth::ssr::require_admin().await?;
        let draft = CampaignDraft::parse(&form)?;
        // Only a subscription we already have: this is not a way to push anywhere else.
        let to = state.store.subscription_by_endpoint(endpoint.trim()).await?.ok_or_else(|| {
            AppError::invalid("This browser's subscription is not on the server. Subscribe on the public page first.")
        })?;
        let message = PushMessage { ttl_secs: draft.ttl.seconds(), urgency: draft.urgency, topic: "test".into() };
        match state.push.send(&state.vapid, &to, &message, &draft.payload(0).to_bytes()).await {
            PushResult::Answered { status, .. } if (200..300).contains(&status) => {
                Ok(format!("Sent to this browser (the push service answered {status})."))
            }
            PushResult::Answered { status, body, .. } => {
                Err(AppError::invalid(format!("The push service refused the test ({status}): {body}")))
            }
            PushResult::NoAnswer(why) | PushResult::NotSent(why) => {
                Err(AppError::invalid(format!("The test could not be sent: {why}")))
            }
            PushResult::OriginPaused(_) => {
                Err(AppError::invalid("This browser's push service asked us to slow down; try again in a minute."))
            }
        }
    })
    .await
}

/// Stops a scheduled, queued or sending campaign: no new push starts after this returns
/// (requests already in flight finish). Deliveries not yet sent stay unsent.
#[server(endpoint = "admin/cancel_campaign")]
pub async fn cancel_campaign(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
        if !state.store.cancel_campaign(id).await? {
            return Err(AppError::Conflict("Only a scheduled, queued or sending campaign can be cancelled.".into()));
        }
        tracing::info!(campaign = id, admin = %admin.username, "campaign cancelled");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/list_campaigns")]
pub async fn list_campaigns() -> Result<Vec<CampaignSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::admin::auth::ssr::require_admin().await?;
        Ok(admin.zone().localize(state.store.campaign_summaries(50).await?))
    })
    .await
}
