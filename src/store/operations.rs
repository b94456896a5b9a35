//! What the dashboard and `/metrics` read about the running system: instances, the queue,
//! recent delivery errors, campaigns by status.

use std::collections::BTreeMap;

use super::{InstanceId, Store};
use crate::operations::{InstanceStatus, QueueDepth, RecentError};

/// Rows kept in `delivery_errors`: the dashboard shows the latest kinds of error, not a log.
const ERRORS_KEPT: i64 = 500;

impl Store {
    /// The instances that beat within the lease, newest first, each with what it is sending.
    pub async fn live_instances(&self) -> Result<Vec<InstanceStatus>, sqlx::Error> {
        let now = self.now_ms_sql();
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT id, host, version, {now} / 1000 - started_at, {now} - heartbeat_at FROM instances
             ORDER BY started_at DESC, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        // The partial index deliveries_in_flight holds exactly these rows.
        let in_flight: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT claimed_by, campaign_id, COUNT(*) FROM deliveries
             WHERE status = 'sending' AND claimed_by IS NOT NULL GROUP BY claimed_by, campaign_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, host, version, up_secs, heartbeat_age_ms)| {
                let mine: Vec<&(String, i64, i64)> = in_flight.iter().filter(|(by, ..)| *by == id).collect();
                InstanceStatus {
                    sending: mine.iter().map(|(.., n)| n).sum(),
                    campaigns: mine.iter().map(|(_, campaign, _)| *campaign).collect(),
                    id,
                    host,
                    version,
                    up_secs,
                    heartbeat_age_ms,
                    this_one: false,
                }
            })
            .collect())
    }

    /// The deliveries of queued and sending campaigns that are not final yet, and the
    /// campaigns scheduled for later. Reads only running campaigns' index entries.
    pub async fn queue_depth(&self, now_ms: i64) -> Result<QueueDepth, sqlx::Error> {
        let (due, waiting, sending): (Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT SUM(CASE WHEN d.status = 'pending' AND d.next_attempt_at <= $1 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN d.status = 'pending' AND d.next_attempt_at > $1 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN d.status = 'sending' THEN 1 ELSE 0 END)
             FROM campaigns c JOIN deliveries d ON d.campaign_id = c.id AND d.status IN ('pending', 'sending')
             WHERE c.status IN ('queued', 'sending')",
        )
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        let scheduled_campaigns: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns WHERE status = 'scheduled'")
            .fetch_one(&self.pool)
            .await?;
        Ok(QueueDepth {
            due: due.unwrap_or(0),
            waiting: waiting.unwrap_or(0),
            sending: sending.unwrap_or(0),
            scheduled_campaigns,
        })
    }

    /// How many campaigns are in each status.
    pub async fn campaigns_by_status(&self) -> Result<BTreeMap<String, i64>, sqlx::Error> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM campaigns GROUP BY status").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().collect())
    }

    /// Subscriptions ever created and ever removed, as the database's triggers count them.
    pub async fn subscribers_joined_and_lost(&self) -> Result<(i64, i64), sqlx::Error> {
        let (joined, lost): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT CAST(SUM(joined) AS BIGINT), CAST(SUM(lost) AS BIGINT) FROM subscriber_hours")
                .fetch_one(&self.pool)
                .await?;
        Ok((joined.unwrap_or(0), lost.unwrap_or(0)))
    }

    /// Notes the errors of one batch of outcomes (error text and status code, with how many
    /// deliveries got each), and forgets all but the newest rows.
    pub async fn note_delivery_errors(
        &self,
        me: &InstanceId,
        campaign_id: i64,
        errors: &BTreeMap<(String, Option<u16>), i64>,
    ) -> Result<(), sqlx::Error> {
        if errors.is_empty() {
            return Ok(());
        }
        let at = crate::clock::now_ms();
        let mut tx = self.begin().await?;
        for ((error, status_code), count) in errors {
            sqlx::query(
                "INSERT INTO delivery_errors (at, instance_id, campaign_id, status_code, error, count)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(at)
            .bind(me.as_str())
            .bind(campaign_id)
            .bind(status_code.map(i64::from))
            .bind(error.as_str())
            .bind(*count)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM delivery_errors WHERE id <= (SELECT MAX(id) FROM delivery_errors) - $1")
            .bind(ERRORS_KEPT)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The kinds of delivery error seen in the last day, most recent first.
    pub async fn recent_errors(&self, limit: i64) -> Result<Vec<RecentError>, sqlx::Error> {
        let now = crate::clock::now_ms();
        let rows: Vec<(String, Option<i64>, i64, i64, i64)> = sqlx::query_as(
            "SELECT error, status_code, MAX(campaign_id), CAST(SUM(count) AS BIGINT), MAX(at) FROM delivery_errors
             WHERE at > $1 GROUP BY error, status_code ORDER BY MAX(at) DESC LIMIT $2",
        )
        .bind(now - 86_400_000)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(error, status_code, campaign_id, count, at)| RecentError {
                error,
                status_code,
                campaign_id,
                count,
                ago_secs: (now - at).max(0) / 1000,
            })
            .collect())
    }
}
