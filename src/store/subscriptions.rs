use super::{now, Store, SubscriptionRow};
use crate::site::SiteId;
use crate::subscription::consent::Consent;
use crate::subscription::parse::NewSubscription;
use crate::webhook::WebhookEvent;

/// Which VAPID key a stored subscription is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKey {
    /// The browser said which key it subscribed with.
    Reported(i64),
    /// Nobody said (an older page, another tool): a new subscription is taken to use the
    /// current key; a known one keeps the key it has.
    Assumed(i64),
}

impl SubscriptionKey {
    fn id(self) -> i64 {
        match self {
            Self::Reported(id) | Self::Assumed(id) => id,
        }
    }
}

impl Store {
    /// Stores a subscription of `site` with its consent receipt; the same endpoint again
    /// updates its keys and whatever the new receipt says (one row per endpoint). `None` if
    /// the endpoint belongs to another site: a subscription never moves between sites.
    pub async fn upsert_subscription(
        &self,
        subscription: &NewSubscription,
        site: SiteId,
        key: SubscriptionKey,
        consent: &Consent,
        user_agent: Option<&str>,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO subscriptions (endpoint, host, p256dh, auth, user_agent, created_at, site_id,
                                        consent_page, consent_text, language, time_zone, user_id, key_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (endpoint) DO UPDATE
                SET p256dh = excluded.p256dh, auth = excluded.auth, user_agent = excluded.user_agent,
                    key_id = CASE WHEN $14 THEN excluded.key_id ELSE subscriptions.key_id END,
                    consent_page = COALESCE(excluded.consent_page, subscriptions.consent_page),
                    consent_text = COALESCE(excluded.consent_text, subscriptions.consent_text),
                    language = COALESCE(excluded.language, subscriptions.language),
                    time_zone = COALESCE(excluded.time_zone, subscriptions.time_zone),
                    user_id = COALESCE(excluded.user_id, subscriptions.user_id)
                WHERE subscriptions.site_id = excluded.site_id
             RETURNING id",
        )
        .bind(subscription.endpoint.as_str())
        .bind(subscription.endpoint.host())
        .bind(subscription.p256dh.as_str())
        .bind(subscription.auth.as_str())
        .bind(user_agent)
        .bind(now())
        .bind(site.0)
        .bind(consent.page.as_deref())
        .bind(consent.prompt.as_deref())
        .bind(consent.language.as_deref())
        .bind(consent.time_zone.as_deref())
        .bind(consent.user_id.as_deref())
        .bind(key.id())
        .bind(matches!(key, SubscriptionKey::Reported(_)))
        .fetch_optional(&self.pool)
        .await
    }

    /// The consent receipt of `site`'s subscription with this endpoint.
    pub async fn consent_of(&self, endpoint: &str, site: SiteId) -> Result<Option<Consent>, sqlx::Error> {
        sqlx::query_as(
            "SELECT consent_page AS page, consent_text AS prompt, language, time_zone, user_id FROM subscriptions
             WHERE endpoint = $1 AND site_id = $2",
        )
        .bind(endpoint)
        .bind(site.0)
        .fetch_optional(&self.pool)
        .await
    }

    /// The id of `site`'s subscription with this endpoint.
    pub async fn site_subscription_id(&self, endpoint: &str, site: SiteId) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = $1 AND site_id = $2")
            .bind(endpoint)
            .bind(site.0)
            .fetch_optional(&self.pool)
            .await
    }

    /// Deletes `site`'s subscription with this endpoint and the deliveries still waiting
    /// for it. Returns whether it existed.
    pub async fn delete_site_subscription(&self, endpoint: &str, site: SiteId) -> Result<bool, sqlx::Error> {
        match self.site_subscription_id(endpoint, site).await? {
            Some(id) => self.delete_subscription(id).await,
            None => Ok(false),
        }
    }

    /// Deletes a subscription and the deliveries still waiting for it, and tells the
    /// webhooks (`subscription.removed`), in one transaction. Returns whether it existed.
    pub async fn delete_subscription(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let gone: Option<(i64, i64, Option<String>)> =
            sqlx::query_as("DELETE FROM subscriptions WHERE id = $1 RETURNING id, site_id, user_id")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((id, site, user)) = &gone {
            sqlx::query("DELETE FROM deliveries WHERE subscription_id = $1 AND status = 'pending'")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let data = serde_json::json!({ "subscription_id": id, "site_id": site, "user_id": user });
            super::webhooks::emit_in(&mut tx, WebhookEvent::SubscriptionRemoved, Some(*site), data).await?;
        }
        tx.commit().await?;
        Ok(gone.is_some())
    }

    pub async fn subscription_by_endpoint(&self, endpoint: &str) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, endpoint, p256dh, auth, key_id FROM subscriptions WHERE endpoint = $1")
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
