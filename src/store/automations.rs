//! Automations in the database, and the dispatcher's step that runs them.

use super::campaigns::IN_AUDIENCE;
use super::{now, Author, Store};
use crate::automation::Repeat;
use crate::campaign::{Audience, CampaignDraft, ComposeForm, Plan};

/// How far before its last look a welcome looks again: a subscription stamped that much
/// before it became visible (a slow commit, an instance whose clock is behind) is still
/// welcomed. The deliveries' key keeps the overlap from welcoming anyone twice.
const WELCOME_OVERLAP_SECS: i64 = 300;

/// An automation as stored, with its counts.
#[derive(Debug, sqlx::FromRow)]
pub struct AutomationRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// The compose form as JSON.
    pub content: String,
    pub delay_minutes: Option<i64>,
    /// JSON: [`Repeat`], for a recurring one.
    pub repeat: Option<String>,
    pub zone: String,
    pub next_run_at: Option<i64>,
    pub paused: i64,
    pub campaigns: i64,
    pub latest_campaign: Option<i64>,
    pub sent: i64,
    pub clicked: i64,
}

/// What a new automation does.
pub enum NewAutomation<'a> {
    /// Its one campaign, made beforehand as a draft, gathers every welcome.
    Welcome {
        delay_minutes: u32,
        campaign: i64,
    },
    Recurring {
        repeat: Repeat,
        zone: &'a str,
        first_run: i64,
    },
}

impl Store {
    pub async fn automations(&self) -> Result<Vec<AutomationRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.id, a.name, a.kind, a.content, a.delay_minutes, a.at_time AS repeat, a.zone, a.next_run_at,
                    a.paused,
                    (SELECT COUNT(*) FROM campaigns c WHERE c.automation_id = a.id) AS campaigns,
                    (SELECT MAX(c.id) FROM campaigns c WHERE c.automation_id = a.id) AS latest_campaign,
                    (SELECT COUNT(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
                     WHERE c.automation_id = a.id AND d.status = 'sent') AS sent,
                    (SELECT COUNT(*) FROM notification_events e JOIN campaigns c ON c.id = e.campaign_id
                     WHERE c.automation_id = a.id AND e.kind = 'click') AS clicked
             FROM automations a ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await
    }

    /// Stores a new automation; a welcome's campaign becomes its (sent, empty until someone
    /// subscribes). Returns its id.
    pub async fn create_automation(
        &self,
        name: &str,
        content: &ComposeForm,
        what: NewAutomation<'_>,
        by: i64,
    ) -> Result<i64, sqlx::Error> {
        let mut tx = self.begin().await?;
        let content = serde_json::to_string(content).expect("a form serializes");
        let id: i64 = match &what {
            NewAutomation::Welcome { delay_minutes, campaign } => {
                sqlx::query_scalar(
                    "INSERT INTO automations (name, kind, content, delay_minutes, campaign_id, created_by, created_at)
                 VALUES ($1, 'welcome', $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(name)
                .bind(&content)
                .bind(i64::from(*delay_minutes))
                .bind(*campaign)
                .bind(by)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?
            }
            // The repeat is kept as JSON in `at_time`, the zone beside it.
            NewAutomation::Recurring { repeat, zone, first_run } => sqlx::query_scalar(
                "INSERT INTO automations (name, kind, content, every, weekday, at_time, zone, next_run_at, created_by,
                                          created_at)
                 VALUES ($1, 'recurring', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(name)
            .bind(&content)
            .bind(serde_json::to_value(repeat.every).ok().and_then(|v| v.as_str().map(str::to_owned)))
            .bind(i64::from(repeat.weekday))
            .bind(serde_json::to_string(repeat).expect("a repeat serializes"))
            .bind(*zone)
            .bind(*first_run)
            .bind(by)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?,
        };
        if let NewAutomation::Welcome { campaign, .. } = what {
            let at = now();
            sqlx::query(
                "UPDATE campaigns SET automation_id = $1, status = 'sent', started_at = $2, finished_at = $2,
                        queued_at = $2
                 WHERE id = $3",
            )
            .bind(id)
            .bind(at)
            .bind(campaign)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Pauses or resumes an automation. Returns whether it exists.
    pub async fn set_automation_paused(&self, id: i64, paused: bool) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query("UPDATE automations SET paused = $1 WHERE id = $2")
            .bind(i64::from(paused))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Deletes an automation; the campaigns it made stay, with their history.
    pub async fn delete_automation(&self, id: i64) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM automations WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// The dispatcher's step, at `now` (Unix seconds, the scheduling clock): every active
    /// welcome takes in who subscribed (in its audience, not imported) since it was made
    /// and at least its delay ago, once each; every recurring automation whose time has
    /// come starts its run. Returns how many welcomes were queued and the runs started.
    pub async fn run_automations(&self, now: i64) -> Result<(u64, Vec<i64>), sqlx::Error> {
        let welcomes: Vec<(i64, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, campaign_id, delay_minutes, created_at, welcomed_until FROM automations
             WHERE kind = 'welcome' AND paused = 0 AND campaign_id IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut welcomed = 0;
        for (id, campaign, delay_minutes, created_at, welcomed_until) in welcomes {
            // Only the subscriptions since the latest one welcomed (and a margin before it),
            // not all since the welcome was made: a round costs about its newcomers.
            let since = welcomed_until.map_or(created_at, |at| (at - WELCOME_OVERLAP_SECS).max(created_at));
            let mut tx = self.begin().await?;
            // The deliveries' key (campaign, subscription) makes it once per subscription.
            let queued: Vec<i64> = sqlx::query_scalar(&format!(
                "INSERT INTO deliveries (campaign_id, subscription_id, status)
                 SELECT $1, s.id, 'pending' FROM subscriptions s
                 WHERE s.created_at >= $2 AND s.created_at <= $3 AND s.imported = 0 AND {IN_AUDIENCE}
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1 AND d.subscription_id = s.id)
                 RETURNING subscription_id"
            ))
            .bind(campaign)
            .bind(since)
            .bind(now - delay_minutes * 60)
            .fetch_all(&mut *tx)
            .await?;
            if !queued.is_empty() {
                let latest: Option<i64> = sqlx::query_scalar(&format!(
                    "SELECT MAX(created_at) FROM subscriptions WHERE {}",
                    self.in_ids("id", 1)
                ))
                .bind(super::id_list(queued.iter().copied()))
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE automations SET welcomed_until = $1 WHERE id = $2 AND COALESCE(welcomed_until, 0) < $1",
                )
                .bind(latest)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE campaigns SET status = 'sending', finished_at = NULL WHERE id = $1")
                    .bind(campaign)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            welcomed += queued.len() as u64;
        }

        let due: Vec<(i64, String, Option<String>, String, i64)> = sqlx::query_as(
            "SELECT id, content, at_time, zone, next_run_at FROM automations
             WHERE kind = 'recurring' AND paused = 0 AND next_run_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut started = Vec::new();
        for (id, content, repeat, zone, run_at) in due {
            let Some(repeat) = repeat.and_then(|r| serde_json::from_str::<Repeat>(&r).ok()) else { continue };
            let next = repeat.next_after(crate::zone::AdminZone::stored(&zone).tz(), now.max(run_at));
            // Whoever moves the next run on makes this one: one run per time, however
            // many instances look.
            let moved = sqlx::query("UPDATE automations SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3")
                .bind(next)
                .bind(id)
                .bind(run_at)
                .execute(&self.pool)
                .await?;
            if moved.rows_affected() == 0 {
                continue;
            }
            let form: ComposeForm = serde_json::from_str(&content).unwrap_or_default();
            let (Ok(draft), Ok(audience)) = (CampaignDraft::parse(&form), Audience::parse(&form.audience, &form.sites))
            else {
                tracing::warn!(automation = id, "a recurring automation's content no longer reads; run skipped");
                continue;
            };
            match self.save_campaign(&draft, &audience, Plan::Now, Author::Automation, None).await? {
                super::Saved::Campaign(campaign) => {
                    sqlx::query("UPDATE campaigns SET automation_id = $1 WHERE id = $2")
                        .bind(id)
                        .bind(campaign)
                        .execute(&self.pool)
                        .await?;
                    started.push(campaign);
                }
                _ => tracing::info!(automation = id, "a recurring run found nobody to reach; skipped"),
            }
        }
        Ok((welcomed, started))
    }
}
