use super::{now, Store};
use crate::campaign::{CampaignDraft, CampaignSummary};

/// A campaign as the dispatcher reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub icon: Option<String>,
    pub ttl_secs: i64,
    pub urgency: String,
    pub status: String,
}

impl Store {
    /// Saves a campaign as queued and creates one pending delivery per current subscriber,
    /// in one transaction and one `INSERT … SELECT` (never row by row from Rust).
    pub async fn enqueue_campaign(&self, draft: &CampaignDraft, admin_id: i64) -> Result<i64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO campaigns (title, body, url, icon, ttl_secs, urgency, status, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)
             RETURNING id",
        )
        .bind(draft.title.as_str())
        .bind(draft.body.as_str())
        .bind(draft.url.as_ref().map(|u| u.as_str()))
        .bind(draft.icon.as_ref().map(|u| u.as_str()))
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

    /// The oldest campaign that still has work, if any.
    pub async fn next_active_campaign(&self) -> Result<Option<CampaignRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, title, body, url, icon, ttl_secs, urgency, status FROM campaigns
             WHERE status IN ('queued', 'sending') ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn mark_campaign_sending(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE campaigns SET status = 'sending', started_at = ? WHERE id = ? AND status = 'queued'")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks the campaign sent once no delivery is pending or in flight. Returns whether it did.
    pub async fn finish_campaign_if_done(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE campaigns SET status = 'sent', finished_at = ?
             WHERE id = ? AND status = 'sending' AND NOT EXISTS (
                SELECT 1 FROM deliveries WHERE campaign_id = ? AND status IN ('pending', 'sending'))",
        )
        .bind(now())
        .bind(id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The newest campaigns with their delivery counts.
    pub async fn campaign_summaries(&self, limit: i64) -> Result<Vec<CampaignSummary>, sqlx::Error> {
        sqlx::query_as(
            "SELECT c.id, c.title, c.status, c.created_at, c.finished_at,
                    COUNT(d.subscription_id)                  AS targeted,
                    COALESCE(SUM(d.status = 'sent'), 0)       AS sent,
                    COALESCE(SUM(d.status = 'failed'), 0)     AS failed,
                    COALESCE(SUM(d.status = 'expired'), 0)    AS expired
             FROM campaigns c LEFT JOIN deliveries d ON d.campaign_id = c.id
             GROUP BY c.id ORDER BY c.id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}
