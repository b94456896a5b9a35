//! What was sent to one subscription: the "why didn't they get it?" lookup.

use super::{Store, LAST_SUCCESS_AT};
use crate::subscription::history::Lookup;

/// The subscription as the lookup shows it; `None` columns for one that is gone.
#[derive(Debug, sqlx::FromRow)]
pub struct HistorySubscription {
    pub id: i64,
    pub host: String,
    pub site: String,
    pub user_id: Option<String>,
    pub created_at: i64,
    pub last_success_at: Option<i64>,
}

/// One delivery with its campaign and the recipient's reaction. Times are Unix seconds,
/// except `first_failed_at` and `next_attempt_at` (milliseconds, as the dispatcher keeps them).
#[derive(Debug, sqlx::FromRow)]
pub struct HistoryDelivery {
    pub campaign_id: i64,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub started_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub first_failed_at: Option<i64>,
    pub next_attempt_at: i64,
    pub clicked_at: Option<i64>,
    pub dismissed_at: Option<i64>,
    /// The A/B variant it carries (0 = A; -1: waits for the winner); none without a test.
    pub variant: Option<i64>,
}

impl Store {
    /// The subscription ids a lookup names. An id is taken as given even when its
    /// subscription is gone (expired or unsubscribed): its deliveries are still here.
    pub async fn lookup_subscriptions(&self, lookup: &Lookup) -> Result<Vec<i64>, sqlx::Error> {
        match lookup {
            Lookup::Id(id) => Ok(vec![*id]),
            Lookup::Endpoint(endpoint) => {
                sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = $1")
                    .bind(endpoint.as_str())
                    .fetch_all(&self.pool)
                    .await
            }
            Lookup::User(user) => {
                sqlx::query_scalar("SELECT id FROM subscriptions WHERE user_id = $1 ORDER BY id DESC LIMIT 50")
                    .bind(user.as_str())
                    .fetch_all(&self.pool)
                    .await
            }
        }
    }

    pub async fn history_subscription(&self, id: i64) -> Result<Option<HistorySubscription>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT s.id, s.host, (SELECT name FROM sites WHERE id = s.site_id) AS site, s.user_id, s.created_at,
                    {LAST_SUCCESS_AT}
             FROM subscriptions s WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Up to `limit` deliveries to subscription `id`, newest campaign first, with the
    /// campaigns that skipped it (status `capped` or `held_out`).
    pub async fn delivery_history(&self, id: i64, limit: i64) -> Result<Vec<HistoryDelivery>, sqlx::Error> {
        sqlx::query_as(
            "SELECT d.campaign_id, c.title, c.kind, d.status, d.attempts, d.last_status_code, d.last_error,
                    c.started_at, d.sent_at, d.first_failed_at, d.next_attempt_at,
                    (SELECT e.at FROM notification_events e WHERE e.campaign_id = d.campaign_id
                       AND e.subscription_id = d.subscription_id AND e.kind = 'click') AS clicked_at,
                    (SELECT e.at FROM notification_events e WHERE e.campaign_id = d.campaign_id
                       AND e.subscription_id = d.subscription_id AND e.kind = 'close') AS dismissed_at,
                    CASE WHEN c.ab_test IS NULL THEN NULL ELSE d.variant END AS variant
             FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
             WHERE d.subscription_id = $1
             UNION ALL
             SELECT k.campaign_id, c.title, c.kind, k.reason AS status, 0 AS attempts, NULL AS last_status_code,
                    NULL AS last_error, c.started_at, NULL AS sent_at, NULL AS first_failed_at, 0 AS next_attempt_at,
                    NULL AS clicked_at, NULL AS dismissed_at, NULL AS variant
             FROM skipped_deliveries k JOIN campaigns c ON c.id = k.campaign_id
             WHERE k.subscription_id = $1
             ORDER BY campaign_id DESC LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}
