//! Webhooks: Tidings tells a site's backend what happened (a subscription came or went,
//! a notification was clicked, a campaign started or finished, a message failed) by
//! posting signed JSON to the endpoints an owner registered. The queue is in the database
//! (`store::webhooks`), the posting in `sender`, the admin's page in `admin::webhooks`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod sender;

use serde::{Deserialize, Serialize};

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.removed")]
    SubscriptionRemoved,
    #[serde(rename = "subscription.expired")]
    SubscriptionExpired,
    #[serde(rename = "notification.clicked")]
    NotificationClicked,
    #[serde(rename = "notification.dismissed")]
    NotificationDismissed,
    #[serde(rename = "campaign.started")]
    CampaignStarted,
    #[serde(rename = "campaign.finished")]
    CampaignFinished,
    #[serde(rename = "message.failed")]
    MessageFailed,
}

impl WebhookEvent {
    pub const ALL: [Self; 8] = [
        Self::SubscriptionCreated,
        Self::SubscriptionRemoved,
        Self::SubscriptionExpired,
        Self::NotificationClicked,
        Self::NotificationDismissed,
        Self::CampaignStarted,
        Self::CampaignFinished,
        Self::MessageFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubscriptionCreated => "subscription.created",
            Self::SubscriptionRemoved => "subscription.removed",
            Self::SubscriptionExpired => "subscription.expired",
            Self::NotificationClicked => "notification.clicked",
            Self::NotificationDismissed => "notification.dismissed",
            Self::CampaignStarted => "campaign.started",
            Self::CampaignFinished => "campaign.finished",
            Self::MessageFailed => "message.failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == raw.trim())
    }

    /// For the admin's form.
    pub fn describe(self) -> &'static str {
        match self {
            Self::SubscriptionCreated => "someone subscribed",
            Self::SubscriptionRemoved => "someone unsubscribed, or was deleted",
            Self::SubscriptionExpired => "a push service said a subscription is gone",
            Self::NotificationClicked => "a notification was clicked",
            Self::NotificationDismissed => "a notification was closed without a click",
            Self::CampaignStarted => "a campaign started sending",
            Self::CampaignFinished => "a campaign finished, with its counts",
            Self::MessageFailed => "an API message could not be delivered to some device",
        }
    }
}

/// One endpoint as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSummary {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    /// The site it is limited to, by name; `None`: every site.
    pub site: Option<String>,
    pub created: String,
    /// Every attempt has failed since then (reader's time zone).
    pub failing_since: Option<String>,
    /// Why and when it was turned off, if it was.
    pub disabled: Option<String>,
    pub deliveries: Vec<WebhookDeliverySummary>,
}

/// One queued or posted event, for the endpoint's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliverySummary {
    pub id: i64,
    pub message_id: String,
    pub event: String,
    /// "pending", "delivered" or "failed".
    pub status: String,
    pub attempts: i64,
    /// What the receiver last answered (its status code), or why there was no answer.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created: String,
}
