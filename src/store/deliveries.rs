use super::{now, Store, SubscriptionRow};

/// How one push request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    Sent,
    /// The push service says the subscription is gone (404/410): we delete it.
    Expired,
    Failed,
}

#[derive(Debug, Clone)]
pub struct DeliveryOutcome {
    pub subscription_id: i64,
    pub kind: OutcomeKind,
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

impl Store {
    /// Puts deliveries that were in flight when the process stopped back in the queue.
    /// Their push may have gone out already; the campaign's Topic header and notification
    /// tag make a second copy replace the first rather than stack.
    pub async fn requeue_interrupted_deliveries(&self) -> Result<u64, sqlx::Error> {
        let result = sqlx::query("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Claims up to `limit` pending deliveries of a campaign and returns their recipients.
    /// The claim is a single UPDATE, so it is atomic without holding a transaction open.
    pub async fn claim_deliveries(&self, campaign_id: i64, limit: i64) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        let claimed: Vec<i64> = sqlx::query_scalar(
            "UPDATE deliveries SET status = 'sending', attempts = attempts + 1
             WHERE campaign_id = ?1 AND subscription_id IN (
                SELECT subscription_id FROM deliveries
                WHERE campaign_id = ?1 AND status = 'pending'
                ORDER BY subscription_id LIMIT ?2)
             RETURNING subscription_id",
        )
        .bind(campaign_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&claimed).expect("a list of integers serializes");
        let recipients: Vec<SubscriptionRow> = sqlx::query_as(
            "SELECT id, endpoint, p256dh, auth FROM subscriptions
             WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        if recipients.len() < claimed.len() {
            // Unsubscribed between enqueue and claim: nobody is left to send to.
            sqlx::query(
                "UPDATE deliveries SET status = 'expired', last_error = 'unsubscribed before sending'
                 WHERE campaign_id = ? AND status = 'sending'
                   AND subscription_id IN (SELECT value FROM json_each(?))
                   AND subscription_id NOT IN (SELECT id FROM subscriptions)",
            )
            .bind(campaign_id)
            .bind(&ids)
            .execute(&self.pool)
            .await?;
        }
        Ok(recipients)
    }

    /// Records a batch of outcomes in one transaction; expired subscriptions are deleted.
    pub async fn record_outcomes(&self, campaign_id: i64, outcomes: &[DeliveryOutcome]) -> Result<(), sqlx::Error> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        for outcome in outcomes {
            let status = match outcome.kind {
                OutcomeKind::Sent => "sent",
                OutcomeKind::Expired => "expired",
                OutcomeKind::Failed => "failed",
            };
            sqlx::query(
                "UPDATE deliveries SET status = ?, last_status_code = ?, last_error = ?, sent_at = ?
                 WHERE campaign_id = ? AND subscription_id = ?",
            )
            .bind(status)
            .bind(outcome.status_code.map(i64::from))
            .bind(outcome.error.as_deref())
            .bind((outcome.kind == OutcomeKind::Sent).then_some(at))
            .bind(campaign_id)
            .bind(outcome.subscription_id)
            .execute(&mut *tx)
            .await?;
            match outcome.kind {
                OutcomeKind::Sent => {
                    sqlx::query("UPDATE subscriptions SET last_success_at = ? WHERE id = ?")
                        .bind(at)
                        .bind(outcome.subscription_id)
                        .execute(&mut *tx)
                        .await?;
                }
                OutcomeKind::Expired => {
                    sqlx::query("DELETE FROM subscriptions WHERE id = ?")
                        .bind(outcome.subscription_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM deliveries WHERE subscription_id = ? AND status = 'pending'")
                        .bind(outcome.subscription_id)
                        .execute(&mut *tx)
                        .await?;
                }
                OutcomeKind::Failed => {}
            }
        }
        tx.commit().await
    }
}
