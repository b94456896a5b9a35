//! Webhook endpoints and their queue. An event is queued once per endpoint that wants it
//! with one `INSERT … SELECT`; instances then claim due entries for a while
//! (`claimed_until`) and write each outcome only while their claim still holds.

use sqlx::AnyConnection;

use super::{now, Store};
use crate::webhook::WebhookEvent;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub site_id: Option<i64>,
    pub secret: String,
    pub created_at: i64,
    pub failing_since: Option<i64>,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookDeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub message_id: String,
    pub event: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub claimed_until: i64,
}

const WEBHOOK_ROW: &str =
    "SELECT id, url, events, site_id, secret, created_at, failing_since, disabled_at, disabled_reason FROM webhooks";
const DELIVERY_ROW: &str = "SELECT id, webhook_id, message_id, event, payload, status, attempts, last_status,
        last_error, created_at, claimed_until FROM webhook_deliveries";

/// Queues `payload` for every enabled endpoint that wants `event` from `site` (`None`: an
/// event of no one site, which every endpoint wanting it gets). One statement, also when
/// no endpoint exists, so it can run inside the transaction of what it reports.
pub(super) async fn enqueue(
    connection: &mut AnyConnection,
    event: WebhookEvent,
    site: Option<i64>,
    payload: &str,
    message_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, message_id, event, payload, created_at)
         SELECT id, $1, $2, $3, $4 FROM webhooks
         WHERE disabled_at IS NULL AND (',' || events || ',') LIKE ('%,' || $2 || ',%')
           AND (site_id IS NULL OR $5 IS NULL OR site_id = $5)",
    )
    .bind(message_id)
    .bind(event.as_str())
    .bind(payload)
    .bind(now())
    .bind(site)
    .execute(connection)
    .await?;
    Ok(())
}

/// [`enqueue`] with the event's body built from `data`.
pub(super) async fn emit_in(
    connection: &mut AnyConnection,
    event: WebhookEvent,
    site: Option<i64>,
    data: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let (message_id, body) = crate::webhook::sender::event_body(event, data);
    enqueue(connection, event, site, &body, &message_id).await
}

impl Store {
    /// Tells the endpoints that want it about `event` (of `site`, if it is a subscriber's).
    /// What happened has happened: a failure to queue is logged, not returned.
    pub async fn emit_webhook(&self, event: WebhookEvent, site: Option<i64>, data: serde_json::Value) {
        let queued = match self.pool.acquire().await {
            Ok(mut connection) => emit_in(&mut connection, event, site, data).await,
            Err(error) => Err(error),
        };
        if let Err(error) = queued {
            tracing::warn!(%error, event = event.as_str(), "could not queue a webhook event");
        }
    }

    /// A click or a dismissal (`event`), for the endpoints of the subscriber's site.
    pub async fn emit_notification_webhook(
        &self,
        event: WebhookEvent,
        campaign: i64,
        subscription: i64,
        action: Option<&str>,
    ) {
        let site: Option<i64> = sqlx::query_scalar("SELECT site_id FROM subscriptions WHERE id = $1")
            .bind(subscription)
            .fetch_optional(&self.pool)
            .await
            .ok()
            .flatten();
        let data = serde_json::json!({
            "campaign_id": campaign, "subscription_id": subscription, "site_id": site, "action": action,
        });
        self.emit_webhook(event, site, data).await;
    }

    /// A campaign (or API message) started or finished, with its counts; a message some
    /// of whose deliveries failed also gives `message.failed`.
    pub async fn emit_campaign_webhook(&self, event: WebhookEvent, id: i64) {
        let Ok(Some(summary)) = self.campaign_summary(id).await else { return };
        let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ok()
            .flatten();
        let kind = kind.unwrap_or_else(|| "campaign".into());
        let data = serde_json::json!({
            "campaign_id": id, "kind": kind, "title": summary.title, "targeted": summary.targeted,
            "sent": summary.sent, "failed": summary.failed, "expired": summary.expired, "clicked": summary.clicked,
        });
        self.emit_webhook(event, None, data).await;
        if event == WebhookEvent::CampaignFinished && kind == "message" && summary.failed + summary.expired > 0 {
            let data = serde_json::json!({
                "message_id": id, "targeted": summary.targeted, "sent": summary.sent,
                "failed": summary.failed, "expired": summary.expired,
            });
            self.emit_webhook(WebhookEvent::MessageFailed, None, data).await;
        }
    }

    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEvent],
        site: Option<i64>,
        secret: &str,
        by: i64,
    ) -> Result<i64, sqlx::Error> {
        let events: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        sqlx::query_scalar(
            "INSERT INTO webhooks (url, events, site_id, secret, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(url)
        .bind(events.join(","))
        .bind(site)
        .bind(secret)
        .bind(by)
        .bind(now())
        .fetch_one(&self.pool)
        .await
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>, sqlx::Error> {
        sqlx::query_as(&format!("{WEBHOOK_ROW} ORDER BY id")).fetch_all(&self.pool).await
    }

    pub async fn webhook(&self, id: i64) -> Result<Option<WebhookRow>, sqlx::Error> {
        sqlx::query_as(&format!("{WEBHOOK_ROW} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await
    }

    pub async fn delete_webhook(&self, id: i64) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Turns an endpoint back on after it was disabled; what failed stays failed.
    pub async fn enable_webhook(&self, id: i64) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query(
            "UPDATE webhooks SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// The newest `limit` entries of an endpoint's log.
    pub async fn webhook_deliveries(&self, webhook: i64, limit: i64) -> Result<Vec<WebhookDeliveryRow>, sqlx::Error> {
        sqlx::query_as(&format!("{DELIVERY_ROW} WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"))
            .bind(webhook)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
    }

    /// Posts a logged event again, as it was (the same `webhook-id`), as soon as possible.
    pub async fn resend_webhook_delivery(&self, id: i64) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = 0, created_at = $1
             WHERE id = $2 AND status <> 'pending'",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Claims up to `limit` due entries of enabled endpoints until `until_ms`. On
    /// PostgreSQL, `SKIP LOCKED` lets instances claim side by side.
    pub async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDeliveryRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1
             WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= $2 AND claimed_until <= $2
                  AND webhook_id IN (SELECT id FROM webhooks WHERE disabled_at IS NULL)
                ORDER BY id LIMIT $3{})
             RETURNING id, webhook_id, message_id, event, payload, status, attempts, last_status, last_error,
                       created_at, claimed_until",
            self.sql("", " FOR UPDATE SKIP LOCKED")
        ))
        .bind(until_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Records a successful post of a claimed entry; clears its endpoint's failing streak.
    pub async fn webhook_delivered(&self, delivery: &WebhookDeliveryRow, status: u16) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1, last_status = $2, last_error = NULL,
                    claimed_until = 0
             WHERE id = $3 AND claimed_until = $4",
        )
        .bind(now())
        .bind(i64::from(status))
        .bind(delivery.id)
        .bind(delivery.claimed_until)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 1 {
            sqlx::query("UPDATE webhooks SET failing_since = NULL WHERE id = $1")
                .bind(delivery.webhook_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Records a failed post: again at `retry_at_ms`, or `None`: given up. The endpoint's
    /// failing streak starts now if it had none; if it began before `disable_before`
    /// (Unix s), the endpoint is turned off. Returns whether it was.
    pub async fn webhook_failed(
        &self,
        delivery: &WebhookDeliveryRow,
        status: Option<u16>,
        error: &str,
        retry_at_ms: Option<i64>,
        disable_before: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, last_status = $3, last_error = $4,
                    claimed_until = 0
             WHERE id = $5 AND claimed_until = $6",
        )
        .bind(if retry_at_ms.is_some() { "pending" } else { "failed" })
        .bind(retry_at_ms.unwrap_or(0))
        .bind(status.map(i64::from))
        .bind(error)
        .bind(delivery.id)
        .bind(delivery.claimed_until)
        .execute(&mut *tx)
        .await?;
        let mut disabled = false;
        if changed.rows_affected() == 1 {
            let at = now();
            sqlx::query("UPDATE webhooks SET failing_since = COALESCE(failing_since, $1) WHERE id = $2")
                .bind(at)
                .bind(delivery.webhook_id)
                .execute(&mut *tx)
                .await?;
            disabled = sqlx::query(
                "UPDATE webhooks SET disabled_at = $1,
                        disabled_reason = 'every delivery failed for too long'
                 WHERE id = $2 AND disabled_at IS NULL AND failing_since < $3",
            )
            .bind(at)
            .bind(delivery.webhook_id)
            .bind(disable_before)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        }
        tx.commit().await?;
        Ok(disabled)
    }
}
