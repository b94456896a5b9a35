use std::collections::BTreeMap;

use super::{id_list, now, Dialect, InstanceId, Store, SubscriptionRow};
use crate::webhook::WebhookEvent;

/// What becomes of one claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    Sent,
    /// The push service says the subscription is gone (404/410): we delete it.
    Expired,
    Failed,
    /// Back to pending, not before this Unix-millisecond instant.
    Retry {
        at_ms: i64,
    },
}

#[derive(Debug, Clone)]
pub struct DeliveryOutcome {
    pub subscription_id: i64,
    pub kind: OutcomeKind,
    /// Whether a request was actually made (a paused origin or a cancelled campaign is not an attempt).
    pub attempted: bool,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// The lease term of the claim it answers (see [`ClaimedDelivery::term`]).
    pub term: i64,
}

/// A claimed delivery as read (subscription id, attempts, first failure, variant) with its
/// recipient's endpoint, keys and key id, all `None` if the subscription is gone.
type ClaimRow = (i64, i64, Option<i64>, i64, Option<String>, Option<String>, Option<String>, Option<i64>);

/// The claimed delivery with its recipient, or its subscription id if the subscription
/// is gone.
fn claimed_delivery(row: ClaimRow, term: i64) -> Result<ClaimedDelivery, i64> {
    let (id, attempts, first_failed_at, variant, endpoint, p256dh, auth, key_id) = row;
    let (Some(endpoint), Some(p256dh), Some(auth), Some(key_id)) = (endpoint, p256dh, auth, key_id) else {
        return Err(id);
    };
    Ok(ClaimedDelivery {
        recipient: SubscriptionRow { id, endpoint, p256dh, auth, key_id },
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        first_failed_at,
        term,
        variant: u8::try_from(variant).unwrap_or(0),
    })
}

/// A delivery claimed for sending: its recipient and how often it was tried before.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub recipient: SubscriptionRow,
    pub attempts: u32,
    /// When it first failed transiently (Unix ms), if it has: retries stop a window later.
    pub first_failed_at: Option<i64>,
    /// The claiming instance's lease term at the claim. Outcomes are fenced by it as well
    /// as by the instance: one that thawed after its lease may claim the same delivery
    /// again in its new term, and its stale outcome must not undo that new claim.
    pub term: i64,
    /// Which of the campaign's variants it carries (0: its own content; see `campaign::ab`).
    pub variant: u8,
}

impl Store {
    /// Claims up to `limit` deliveries of a campaign that are due for instance `me`, and
    /// returns them with their recipients.
    ///
    /// On PostgreSQL, where several instances claim from the same campaign at once, it is
    /// one statement: `FOR UPDATE SKIP LOCKED` lets each take rows the others are not
    /// taking, instead of queueing behind their locks. SQLite has one writer at a time and
    /// no row locks to skip: the claim is a write transaction that reads the deliveries with
    /// their recipients as *one* JSON row, then marks them. (sqlx hands SQLite's rows over
    /// one at a time from its worker thread, through a channel of 50: reading 512 rows
    /// switched threads about once a row, which cost a sixth of all sending.)
    pub async fn claim_deliveries(
        &self,
        me: &InstanceId,
        term: i64,
        campaign_id: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
        let claimed: Vec<ClaimRow> = match self.dialect() {
            Dialect::Postgres => {
                sqlx::query_as(
                    "WITH claimed AS (
                        UPDATE deliveries SET status = 'sending', claimed_by = $4, claim_term = $5
                        WHERE campaign_id = $1 AND subscription_id IN (
                            SELECT subscription_id FROM deliveries
                            WHERE campaign_id = $1 AND status = 'pending' AND next_attempt_at <= $2
                            LIMIT $3 FOR UPDATE SKIP LOCKED)
                        RETURNING subscription_id, attempts, first_failed_at, variant)
                     SELECT c.subscription_id, c.attempts, c.first_failed_at, c.variant,
                            s.endpoint, s.p256dh, s.auth, s.key_id
                     FROM claimed c LEFT JOIN subscriptions s ON s.id = c.subscription_id",
                )
                .bind(campaign_id)
                .bind(now_ms)
                .bind(limit)
                .bind(me.as_str())
                .bind(term)
                .fetch_all(&self.pool)
                .await?
            }
            Dialect::Sqlite => {
                let mut tx = self.begin().await?;
                let rows: String = sqlx::query_scalar(
                    "SELECT json_group_array(json_array(d.subscription_id, d.attempts, d.first_failed_at, d.variant,
                                                        s.endpoint, s.p256dh, s.auth, s.key_id))
                     FROM (SELECT subscription_id, attempts, first_failed_at, variant FROM deliveries
                           WHERE campaign_id = $1 AND status = 'pending' AND next_attempt_at <= $2 LIMIT $3) d
                     LEFT JOIN subscriptions s ON s.id = d.subscription_id",
                )
                .bind(campaign_id)
                .bind(now_ms)
                .bind(limit)
                .fetch_one(&mut *tx)
                .await?;
                let claimed: Vec<ClaimRow> = serde_json::from_str(&rows)
                    .map_err(|e| sqlx::Error::Decode(format!("the claimed deliveries: {e}").into()))?;
                if !claimed.is_empty() {
                    sqlx::query(&format!(
                        "UPDATE deliveries SET status = 'sending', claimed_by = $2, claim_term = $3
                         WHERE campaign_id = $1 AND {}",
                        self.in_ids("subscription_id", 4)
                    ))
                    .bind(campaign_id)
                    .bind(me.as_str())
                    .bind(term)
                    .bind(id_list(claimed.iter().map(|row| row.0)))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                claimed
            }
        };
        let (mut deliveries, mut gone) = (Vec::with_capacity(claimed.len()), Vec::new());
        for row in claimed {
            match claimed_delivery(row, term) {
                Ok(delivery) => deliveries.push(delivery),
                Err(subscription_id) => gone.push(subscription_id),
            }
        }
        if !gone.is_empty() {
            // Unsubscribed between enqueue and claim: nobody is left to send to.
            sqlx::query(&format!(
                "UPDATE deliveries SET status = 'expired', last_error = 'unsubscribed before sending'
                 WHERE campaign_id = $1 AND status = 'sending' AND {}",
                self.in_ids("subscription_id", 2)
            ))
            .bind(campaign_id)
            .bind(id_list(gone))
            .execute(&self.pool)
            .await?;
        }
        Ok(deliveries)
    }

    /// Records a batch of outcomes of `me`'s claims in one transaction; expired
    /// subscriptions are deleted. Fenced: an outcome changes a delivery only while `me`
    /// still holds it by the same claim (it may have been taken over after a stall, and
    /// then claimed again), except that *sent* wins
    /// over any delivery not yet final, so it is not sent once more. Returns how many
    /// outcomes came too late to count ("lease lost"). Sent deliveries, nearly all of them,
    /// take two statements per batch rather than two per message: this runs for every push.
    pub async fn record_outcomes(
        &self,
        me: &InstanceId,
        campaign_id: i64,
        outcomes: &[DeliveryOutcome],
    ) -> Result<u64, sqlx::Error> {
        if let Some(fault) = self.faults.take_write_fault() {
            return Err(fault);
        }
        let mut lost = 0;
        let at = now();
        let at_ms = crate::clock::now_ms();
        let mut tx = self.begin().await?;
        let mut sent_by_code: BTreeMap<Option<u16>, Vec<i64>> = BTreeMap::new();
        for outcome in outcomes {
            let (status, next_attempt_at) = match outcome.kind {
                OutcomeKind::Sent => {
                    sent_by_code.entry(outcome.status_code).or_default().push(outcome.subscription_id);
                    continue;
                }
                OutcomeKind::Expired => ("expired", 0),
                OutcomeKind::Failed => ("failed", 0),
                OutcomeKind::Retry { at_ms } => ("pending", at_ms),
            };
            let updated = sqlx::query(
                "UPDATE deliveries
                 SET status = $1, next_attempt_at = $2, attempts = attempts + $3,
                     last_status_code = COALESCE($4, last_status_code), last_error = COALESCE($5, last_error),
                     first_failed_at = COALESCE(first_failed_at, $8)
                 WHERE campaign_id = $6 AND subscription_id = $7
                   AND status = 'sending' AND claimed_by = $9 AND claim_term = $10",
            )
            .bind(status)
            .bind(next_attempt_at)
            .bind(i64::from(outcome.attempted))
            .bind(outcome.status_code.map(i64::from))
            .bind(outcome.error.as_deref())
            .bind(campaign_id)
            .bind(outcome.subscription_id)
            // A retry after a failure (an attempt, or a paused failing service) starts the
            // retry window, once.
            .bind((outcome.error.is_some() && matches!(outcome.kind, OutcomeKind::Retry { .. })).then_some(at_ms))
            .bind(me.as_str())
            .bind(outcome.term)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                lost += 1;
                continue;
            }
            if outcome.kind == OutcomeKind::Expired {
                let gone: Option<(i64, Option<String>)> =
                    sqlx::query_as("DELETE FROM subscriptions WHERE id = $1 RETURNING site_id, user_id")
                        .bind(outcome.subscription_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some((site, user)) = gone {
                    let data = serde_json::json!({
                        "subscription_id": outcome.subscription_id, "site_id": site, "user_id": user,
                        "status_code": outcome.status_code,
                    });
                    super::webhooks::emit_in(&mut tx, WebhookEvent::SubscriptionExpired, Some(site), data).await?;
                }
                sqlx::query("DELETE FROM deliveries WHERE subscription_id = $1 AND status = 'pending'")
                    .bind(outcome.subscription_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (status_code, ids) in sent_by_code {
            let count = ids.len() as u64;
            let ids = id_list(ids);
            let updated = sqlx::query(&format!(
                "UPDATE deliveries
                 SET status = 'sent', next_attempt_at = 0, attempts = attempts + 1,
                     last_status_code = COALESCE($1, last_status_code), sent_at = $2, claimed_by = $5
                 WHERE campaign_id = $3 AND {} AND status IN ('pending', 'sending')",
                self.in_ids("subscription_id", 4)
            ))
            .bind(status_code.map(i64::from))
            .bind(at)
            .bind(campaign_id)
            .bind(&ids)
            // The instance that sent it, also when it wins over a row another had taken.
            .bind(me.as_str())
            .execute(&mut *tx)
            .await?;
            lost += count.saturating_sub(updated.rows_affected());
            // Only subscriptions still there: one deleted meanwhile has nobody to show it to.
            sqlx::query(&format!(
                "INSERT INTO subscription_last_success (subscription_id, at)
                 SELECT id, $1 FROM subscriptions WHERE {}
                 ON CONFLICT (subscription_id) DO UPDATE SET at = excluded.at",
                self.in_ids("id", 2)
            ))
            .bind(at)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(lost)
    }

    /// The earliest moment (Unix ms) a delivery of a running campaign becomes due, if any.
    pub async fn next_due_at(&self) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MIN(d.next_attempt_at) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
             WHERE c.status IN ('queued', 'sending') AND d.status = 'pending'
               -- Paced campaigns come due by the minute: the dispatcher's idle poll finds them.
               AND c.max_per_minute IS NULL",
        )
        .fetch_one(&self.pool)
        .await
    }
}
