//! "Why didn't they get it?": every delivery to one subscriber, looked up by subscription
//! id, endpoint or user id, with its outcome and the push service's answer.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Most deliveries shown per subscription, newest first.
pub const HISTORY_LIMIT: i64 = 200;

/// Who to look up, as support is usually told: the number in the admin's list, the
/// endpoint from the visitor's browser, or the site's own user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Id(i64),
    Endpoint(String),
    User(String),
}

impl Lookup {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AppError::field("to", "Enter a subscription number, an endpoint or a user id."));
        }
        if text.len() > 2048 {
            return Err(AppError::field("to", "That is longer than any endpoint or user id."));
        }
        if let Some(id) = text.strip_prefix('#').unwrap_or(text).parse::<i64>().ok().filter(|id| *id > 0) {
            return Ok(Self::Id(id));
        }
        if text.starts_with("https://") || text.starts_with("http://") {
            return Ok(Self::Endpoint(text.to_owned()));
        }
        Ok(Self::User(text.to_owned()))
    }
}

/// One subscription and what was sent to it. A subscription that expired or unsubscribed
/// is gone from the list but its deliveries stay: `gone` says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionHistory {
    pub id: i64,
    /// Host of the push service; empty when the subscription is gone.
    pub host: String,
    pub site: String,
    pub user_id: Option<String>,
    /// In the admin's time zone.
    pub joined: Option<String>,
    pub last_success: Option<String>,
    pub gone: bool,
    pub deliveries: Vec<DeliveryRecord>,
}

/// One delivery: which campaign or message, what became of it, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub campaign_id: i64,
    pub title: String,
    /// A transactional message from the API rather than a campaign.
    pub message: bool,
    /// pending, sending, sent, failed, expired, capped, held_out (an A/B test's hold-out) or
    /// awaiting_winner (the rest of an A/B test's audience, before the winner is picked).
    pub status: String,
    pub attempts: i64,
    /// The push service's last HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// What went wrong last, in words.
    pub error: Option<String>,
    /// Times in the admin's time zone.
    pub started: Option<String>,
    pub sent: Option<String>,
    pub first_failed: Option<String>,
    /// When a pending retry is due.
    pub next_attempt: Option<String>,
    pub clicked: Option<String>,
    pub dismissed: Option<String>,
    /// The A/B test variant it carried, if its campaign had a test.
    #[serde(default)]
    pub variant: Option<char>,
}

impl DeliveryRecord {
    /// The outcome in a sentence, for the person asking "why didn't they get it?".
    pub fn explanation(&self) -> String {
        let code = self.status_code.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
        match self.status.as_str() {
            "sent" => format!("Accepted by the push service{code}; the browser shows it when the device is online."),
            "expired" => format!("The push service said this subscription no longer exists{code}: it was removed."),
            "failed" => {
                format!("Not delivered{code}: {}", self.error.as_deref().unwrap_or("the push service refused it."))
            }
            "pending" if self.attempts > 0 => format!("Waiting to try again{code}."),
            "pending" => "Waiting its turn.".to_owned(),
            "sending" => "Being sent right now.".to_owned(),
            "capped" => "Not sent: this subscriber had already had as many campaigns as the site's frequency cap \
                         allows."
                .to_owned(),
            "held_out" => "Not sent: in the A/B test's hold-out, which receives nothing (the baseline the others \
                           are compared with)."
                .to_owned(),
            "awaiting_winner" => "Waiting for the A/B test's winner, which it will receive once picked.".to_owned(),
            other => other.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_is_read_as_id_endpoint_or_user() {
        assert_eq!(Lookup::parse(" 42 ").unwrap(), Lookup::Id(42));
        assert_eq!(Lookup::parse("#42").unwrap(), Lookup::Id(42));
        assert_eq!(
            Lookup::parse("https://fcm.googleapis.com/fcm/send/abc").unwrap(),
            Lookup::Endpoint("https://fcm.googleapis.com/fcm/send/abc".into())
        );
        assert_eq!(Lookup::parse("customer-42").unwrap(), Lookup::User("customer-42".into()));
        // Not a subscription number: a user id that happens to look like one.
        assert_eq!(Lookup::parse("-3").unwrap(), Lookup::User("-3".into()));
        for bad in ["", "   ", &"x".repeat(2049)] {
            assert_eq!(Lookup::parse(bad).unwrap_err().field_name(), Some("to"), "{bad:?}");
        }
    }

    #[test]
    fn each_outcome_is_explained() {
        let record = |status: &str, attempts, code, error: Option<&str>| DeliveryRecord {
            campaign_id: 1,
            title: "t".into(),
            message: false,
            status: status.into(),
            attempts,
            status_code: code,
            error: error.map(Into::into),
            started: None,
            sent: None,
            first_failed: None,
            next_attempt: None,
            clicked: None,
            dismissed: None,
            variant: None,
        };
        assert!(record("sent", 1, Some(201), None).explanation().contains("HTTP 201"));
        assert!(record("expired", 1, Some(410), None).explanation().contains("no longer exists (HTTP 410)"));
        assert!(record("failed", 3, Some(400), Some("bad request")).explanation().ends_with("bad request"));
        assert_eq!(record("pending", 2, Some(503), None).explanation(), "Waiting to try again (HTTP 503).");
        assert_eq!(record("pending", 0, None, None).explanation(), "Waiting its turn.");
        assert!(record("capped", 0, None, None).explanation().contains("frequency cap"));
    }
}
