use super::{now, Store};
use crate::campaign::{CampaignDraft, CampaignSummary, FailureReason};

/// A campaign as the dispatcher reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub icon: Option<String>,
    pub image: Option<String>,
    pub badge: Option<String>,
    /// JSON, as stored by `enqueue_campaign`.
    pub actions: String,
    pub require_interaction: bool,
    pub topic: Option<String>,
    pub ttl_secs: i64,
    pub urgency: String,
    pub status: String,
}

/// A campaign row with its delivery and event counts (`CampaignSummary`'s columns).
const SUMMARY: &str = "SELECT c.id, c.title, c.status, c.error, c.created_at, c.started_at, c.finished_at,
        COUNT(d.subscription_id)                  AS targeted,
        COALESCE(SUM(d.status = 'sent'), 0)       AS sent,
        COALESCE(SUM(d.status = 'failed'), 0)     AS failed,
        COALESCE(SUM(d.status = 'expired'), 0)    AS expired,
        (SELECT COUNT(*) FROM notification_events e
         WHERE e.campaign_id = c.id AND e.kind = 'click') AS clicked,
        (SELECT COUNT(*) FROM notification_events e
         WHERE e.campaign_id = c.id AND e.kind = 'close') AS dismissed
    FROM campaigns c LEFT JOIN deliveries d ON d.campaign_id = c.id";

impl Store {
    /// Saves a campaign as queued and creates one pending delivery per current subscriber,
    /// in one transaction and one `INSERT … SELECT` (never row by row from Rust).
    pub async fn enqueue_campaign(&self, draft: &CampaignDraft, admin_id: i64) -> Result<i64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO campaigns (title, body, url, icon, image, badge, actions, require_interaction, topic,
                                    ttl_secs, urgency, status, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
             RETURNING id",
        )
        .bind(draft.title.as_str())
        .bind(draft.body.as_str())
        .bind(draft.url.as_ref().map(|u| u.as_str()))
        .bind(draft.icon.as_ref().map(|u| u.as_str()))
        .bind(draft.image.as_ref().map(|u| u.as_str()))
        .bind(draft.badge.as_ref().map(|u| u.as_str()))
        .bind(serde_json::to_string(&draft.payload(0).actions).expect("actions serialize"))
        .bind(draft.require_interaction)
        .bind(draft.topic.as_ref().map(|t| t.as_str()))
        .bind(i64::from(draft.ttl.seconds()))
        .bind(draft.urgency.as_str())
        .bind(admin_id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO deliveries (campaign_id, subscription_id, status)
             SELECT ?, id, 'pending' FROM subscriptions",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The oldest running campaign with a delivery due now. A campaign whose remaining
    /// deliveries all wait for a retry does not hold up the ones queued after it.
    pub async fn next_campaign_with_due_work(&self, now_ms: i64) -> Result<Option<CampaignRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, title, body, url, icon, image, badge, actions, require_interaction, topic,
                    ttl_secs, urgency, status
             FROM campaigns c
             WHERE status IN ('queued', 'sending') AND EXISTS (
                SELECT 1 FROM deliveries d
                WHERE d.campaign_id = c.id AND d.status = 'pending' AND d.next_attempt_at <= ?)
             ORDER BY id LIMIT 1",
        )
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn campaign_status(&self, id: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT status FROM campaigns WHERE id = ?").bind(id).fetch_optional(&self.pool).await
    }

    /// Stops a queued or sending campaign. Returns whether it was running.
    pub async fn cancel_campaign(&self, id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE campaigns SET status = 'cancelled', finished_at = ?
             WHERE id = ? AND status IN ('queued', 'sending')",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Tells the admin when push services keep refusing our VAPID signature (401/403):
    /// every further delivery of the campaign would fail the same way.
    pub async fn flag_vapid_rejections(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE campaigns SET error = 'Push services rejected our VAPID signature (HTTP 401/403). \
                Check TIDINGS_VAPID_SUBJECT, and that the VAPID key in the database is the one browsers subscribed with.'
             WHERE id = ? AND error IS NULL AND (
                SELECT COUNT(*) FROM deliveries
                WHERE campaign_id = ? AND last_status_code IN (401, 403) AND status = 'failed') >= 3",
        )
        .bind(id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_campaign_sending(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE campaigns SET status = 'sending', started_at = ? WHERE id = ? AND status = 'queued'")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks running campaigns sent once none of their deliveries is pending or in flight.
    /// Returns the ids it finished.
    pub async fn finish_done_campaigns(&self) -> Result<Vec<i64>, sqlx::Error> {
        let at = now();
        sqlx::query_scalar(
            "UPDATE campaigns SET status = 'sent', finished_at = ?, started_at = COALESCE(started_at, ?)
             WHERE status IN ('queued', 'sending') AND NOT EXISTS (
                SELECT 1 FROM deliveries d
                WHERE d.campaign_id = campaigns.id AND d.status IN ('pending', 'sending'))
             RETURNING id",
        )
        .bind(at)
        .bind(at)
        .fetch_all(&self.pool)
        .await
    }

    /// The newest campaigns with their delivery counts.
    pub async fn campaign_summaries(&self, limit: i64) -> Result<Vec<CampaignSummary>, sqlx::Error> {
        sqlx::query_as(&format!("{SUMMARY} GROUP BY c.id ORDER BY c.id DESC LIMIT ?"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
    }

    pub async fn campaign_summary(&self, id: i64) -> Result<Option<CampaignSummary>, sqlx::Error> {
        sqlx::query_as(&format!("{SUMMARY} WHERE c.id = ? GROUP BY c.id"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Failed and expired deliveries grouped by what the push service answered (no code:
    /// no answer), largest group first, with one of their error messages.
    pub async fn failure_reasons(&self, campaign_id: i64) -> Result<Vec<FailureReason>, sqlx::Error> {
        sqlx::query_as(
            "SELECT status AS outcome, last_status_code AS status_code, MAX(last_error) AS example, COUNT(*) AS count
             FROM deliveries WHERE campaign_id = ? AND status IN ('failed', 'expired')
             GROUP BY status, last_status_code ORDER BY count DESC, status_code",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await
    }

    /// When the campaign last sent or was clicked.
    pub async fn last_activity_at(&self, campaign_id: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MAX(at) FROM (
                SELECT MAX(sent_at) AS at FROM deliveries WHERE campaign_id = ?1
                UNION ALL SELECT MAX(at) FROM notification_events WHERE campaign_id = ?1)",
        )
        .bind(campaign_id)
        .fetch_one(&self.pool)
        .await
    }

    /// Sends and clicks per time bucket of `bucket_secs`, from the campaign's start:
    /// (bucket index, sent, clicked), only buckets with something in them.
    pub async fn activity(&self, campaign_id: i64, since: i64, bucket_secs: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT bucket, SUM(sent), SUM(clicked) FROM (
                SELECT (sent_at - ?2) / ?3 AS bucket, 1 AS sent, 0 AS clicked
                FROM deliveries WHERE campaign_id = ?1 AND status = 'sent' AND sent_at IS NOT NULL
                UNION ALL
                SELECT (at - ?2) / ?3, 0, 1 FROM notification_events WHERE campaign_id = ?1 AND kind = 'click')
             GROUP BY bucket ORDER BY bucket",
        )
        .bind(campaign_id)
        .bind(since)
        .bind(bucket_secs)
        .fetch_all(&self.pool)
        .await
    }

    /// Counts a click or dismissal, once per delivery and kind, and only for a delivery
    /// that was sent. Returns whether it was newly counted.
    pub async fn record_event(
        &self,
        campaign_id: i64,
        subscription_id: i64,
        kind: &str,
        action: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "INSERT INTO notification_events (campaign_id, subscription_id, kind, action, at)
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (
                SELECT 1 FROM deliveries
                WHERE campaign_id = ?1 AND subscription_id = ?2 AND status = 'sent')
             ON CONFLICT DO NOTHING",
        )
        .bind(campaign_id)
        .bind(subscription_id)
        .bind(kind)
        .bind(action)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
