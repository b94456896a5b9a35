use super::{now, Store, SubscriptionRow};
use crate::subscription::parse::NewSubscription;

impl Store {
    /// Stores a subscription; the same endpoint again updates its keys (one row per endpoint).
    pub async fn upsert_subscription(
        &self,
        subscription: &NewSubscription,
        user_agent: Option<&str>,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO subscriptions (endpoint, host, p256dh, auth, user_agent, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (endpoint) DO UPDATE
                SET p256dh = excluded.p256dh, auth = excluded.auth, user_agent = excluded.user_agent
             RETURNING id",
        )
        .bind(subscription.endpoint.as_str())
        .bind(subscription.endpoint.host())
        .bind(subscription.p256dh.as_str())
        .bind(subscription.auth.as_str())
        .bind(user_agent)
        .bind(now())
        .fetch_one(&self.pool)
        .await
    }

    /// Deletes a subscription and the deliveries still waiting for it. Returns whether it existed.
    pub async fn delete_subscription_by_endpoint(&self, endpoint: &str) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("DELETE FROM subscriptions WHERE endpoint = $1 RETURNING id")
            .bind(endpoint)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(id) = id {
            sqlx::query("DELETE FROM deliveries WHERE subscription_id = $1 AND status = 'pending'")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id.is_some())
    }

    pub async fn subscription_by_endpoint(&self, endpoint: &str) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, endpoint, p256dh, auth FROM subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn subscription_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions").fetch_one(&self.pool).await
    }

    /// Subscribers gained and lost per hour since `since_hour` (Unix seconds / 3600):
    /// (hour, joined, lost), only hours with a change.
    pub async fn subscriber_hours(&self, since_hour: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT hour, joined, lost FROM subscriber_hours WHERE hour >= $1 ORDER BY hour")
            .bind(since_hour)
            .fetch_all(&self.pool)
            .await
    }
}
