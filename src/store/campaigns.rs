use super::{now, Store};
use sqlx::AnyConnection;

use crate::campaign::{
    Audience, CampaignDraft, CampaignStatus, CampaignSummary, CollapseTopic, DraftAction, FailureReason, LinkUrl,
    PayloadAction, Plan, SendRate, Ttl, Urgency,
};
use crate::tracking::TrackedEvent;

/// A campaign as the dispatcher and the edit page read it: its content typed as it was
/// composed.
#[derive(Debug, Clone)]
pub struct CampaignRow {
    pub id: i64,
    pub status: CampaignStatus,
    pub draft: CampaignDraft,
}

/// The columns of [`CampaignRow`] as stored.
#[derive(sqlx::FromRow)]
struct StoredCampaign {
    id: i64,
    title: String,
    body: String,
    url: Option<String>,
    icon: Option<String>,
    image: Option<String>,
    badge: Option<String>,
    /// JSON: `[{"title", "url"}]`, as `save_campaign` writes it.
    actions: String,
    /// 1 or 0, whichever the database's boolean is (SQLite has none).
    require_interaction: i64,
    /// JSON: [`NotificationOptions`].
    options: String,
    topic: Option<String>,
    ttl_secs: i64,
    urgency: String,
    max_per_minute: Option<i64>,
    #[sqlx(try_from = "String")]
    status: CampaignStatus,
    /// JSON: variants B to D of an A/B test, `[]` without one.
    variants: String,
    /// JSON: [`crate::campaign::ab::AbTest`], or NULL.
    ab_test: Option<String>,
    /// JSON: the translations, `[]` without any.
    translations: String,
}

impl From<StoredCampaign> for CampaignRow {
    /// Every value was checked when it was saved; a value that no longer reads (hand-edited)
    /// falls back to the default rather than stopping the dispatcher.
    fn from(row: StoredCampaign) -> Self {
        let actions: Vec<PayloadAction> = serde_json::from_str(&row.actions).unwrap_or_default();
        let draft = CampaignDraft {
            title: row.title,
            body: row.body,
            url: row.url.map(LinkUrl::trusted),
            icon: row.icon.map(LinkUrl::trusted),
            image: row.image.map(LinkUrl::trusted),
            badge: row.badge.map(LinkUrl::trusted),
            actions: actions
                .into_iter()
                .map(|a| DraftAction { label: a.title, url: LinkUrl::trusted(a.url) })
                .collect(),
            require_interaction: row.require_interaction != 0,
            options: serde_json::from_str(&row.options).unwrap_or_default(),
            topic: row.topic.map(CollapseTopic::trusted),
            ttl: Ttl::from_stored(row.ttl_secs),
            urgency: Urgency::parse(&row.urgency).unwrap_or(Urgency::Normal),
            rate: row.max_per_minute.and_then(SendRate::trusted),
            variants: serde_json::from_str(&row.variants).unwrap_or_default(),
            translations: serde_json::from_str(&row.translations).unwrap_or_default(),
            ab: None,
        };
        // A test is only a test with its variants.
        let ab = row.ab_test.and_then(|t| serde_json::from_str(&t).ok()).filter(|_| !draft.variants.is_empty());
        let draft = CampaignDraft { ab, ..draft };
        Self { id: row.id, status: row.status, draft }
    }
}

type IdQuery<'q> = sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments<'q>>;

/// Binds a campaign's content as `$1`…`$11` (title, body, url, icon, image, badge, actions,
/// require_interaction, topic, ttl_secs, urgency), in the order every statement writing a
/// campaign lists them.
fn bind_content<'q>(query: IdQuery<'q>, draft: &'q CampaignDraft) -> IdQuery<'q> {
    query
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
}

/// Who made a campaign: an admin in the pages, or an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Admin(i64),
    ApiKey(i64),
    /// A recurring automation's run.
    Automation,
}

impl Author {
    fn admin(self) -> Option<i64> {
        match self {
            Self::Admin(id) => Some(id),
            Self::ApiKey(_) | Self::Automation => None,
        }
    }

    fn api_key(self) -> Option<i64> {
        match self {
            Self::ApiKey(id) => Some(id),
            Self::Admin(_) | Self::Automation => None,
        }
    }
}

const CAMPAIGN_ROW: &str = "SELECT id, title, body, url, icon, image, badge, actions,
        CASE WHEN require_interaction THEN 1 ELSE 0 END AS require_interaction, options, topic,
        ttl_secs, urgency, max_per_minute, status, variants, ab_test, translations FROM campaigns";

/// The subscribers in campaign `$1`'s audience, as a condition on `subscriptions s`: on the
/// sites it names (none: every active site), and of any of the topics it names (none: all).
pub(super) const IN_AUDIENCE: &str = "s.site_id IN (SELECT id FROM sites WHERE archived_at IS NULL
                             AND (NOT EXISTS (SELECT 1 FROM campaign_sites WHERE campaign_id = $1)
                                  OR id IN (SELECT site_id FROM campaign_sites WHERE campaign_id = $1)))
           AND (NOT EXISTS (SELECT 1 FROM campaign_topics WHERE campaign_id = $1)
                OR EXISTS (SELECT 1 FROM campaign_topics ct
                           JOIN subscription_topics st ON st.topic_id = ct.topic_id AND st.subscription_id = s.id
                           WHERE ct.campaign_id = $1))";

/// Subscription `s` has already had as many campaign pushes as its site's frequency cap
/// allows, in the 24 hours or 7 days before `$2` (Unix seconds). What counts: deliveries of
/// campaigns (not API messages) that are sent or on their way, by when their campaign went
/// out. The counts are only made for sites that have a cap.
fn over_cap() -> String {
    let reached = |cap: &str, window_secs: u32| {
        format!(
            "(t.{cap} IS NOT NULL AND t.{cap} <= (
                SELECT COUNT(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
                WHERE d.subscription_id = s.id AND d.status IN ('pending', 'sending', 'sent')
                  AND c.kind = 'campaign' AND c.queued_at > $2 - {window_secs}))"
        )
    };
    format!(
        "EXISTS (SELECT 1 FROM sites t WHERE t.id = s.site_id AND ({} OR {}))",
        reached("cap_per_day", 24 * 3600),
        reached("cap_per_week", 7 * 24 * 3600)
    )
}

/// What [`create_deliveries`] made of a campaign's audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Queued {
    pub pending: u64,
    /// Over their site's frequency cap: recorded as skipped, not sent.
    pub capped: u64,
}

impl Queued {
    /// Nobody is in the audience at all (not: everyone in it was capped).
    pub fn reaches_nobody(self) -> bool {
        self.pending == 0 && self.capped == 0
    }
}

/// Takes campaign `campaign_id`'s audience at `now` (Unix seconds): one pending delivery per
/// current subscriber in it, except those over their site's frequency cap, who are recorded
/// as skipped; then an A/B test's hold-out and the rest that waits for its winner are set
/// apart. `INSERT … SELECT`s, never row by row from Rust.
pub(super) async fn create_deliveries(
    tx: &mut AnyConnection,
    campaign_id: i64,
    now: i64,
) -> Result<Queued, sqlx::Error> {
    sqlx::query("UPDATE campaigns SET queued_at = $2 WHERE id = $1")
        .bind(campaign_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // Without a cap anywhere, the audience is taken as it always was: the cap's checks cost
    // half as much again at 200,000 subscribers.
    let capped_sites: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sites
         WHERE archived_at IS NULL AND (cap_per_day IS NOT NULL OR cap_per_week IS NOT NULL)",
    )
    .fetch_one(&mut *tx)
    .await?;
    if capped_sites == 0 {
        let pending = sqlx::query(&format!(
            "INSERT INTO deliveries (campaign_id, subscription_id, status)
             SELECT $1, s.id, 'pending' FROM subscriptions s WHERE {IN_AUDIENCE}"
        ))
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
        super::contents::split_audience(tx, campaign_id).await?;
        super::contents::choose_languages(tx, campaign_id).await?;
        super::contents::hold_until_local_time(tx, campaign_id).await?;
        return Ok(Queued { pending: pending.rows_affected(), capped: 0 });
    }
    if tx.backend_name() == "PostgreSQL" {
        // Two campaigns taking their audiences at once would each count without the other's
        // pushes and together pass the cap; SQLite already lets one writer at a time.
        sqlx::query("SELECT pg_advisory_xact_lock(7406616)").execute(&mut *tx).await?;
    }
    let capped = sqlx::query(&format!(
        "INSERT INTO skipped_deliveries (campaign_id, subscription_id, reason)
         SELECT $1, s.id, 'capped' FROM subscriptions s WHERE {IN_AUDIENCE} AND {}",
        over_cap()
    ))
    .bind(campaign_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let pending = sqlx::query(&format!(
        "INSERT INTO deliveries (campaign_id, subscription_id, status)
         SELECT $1, s.id, 'pending' FROM subscriptions s
         WHERE {IN_AUDIENCE}
           AND NOT EXISTS (SELECT 1 FROM skipped_deliveries k WHERE k.campaign_id = $1 AND k.subscription_id = s.id)"
    ))
    .bind(campaign_id)
    .execute(&mut *tx)
    .await?;
    super::contents::split_audience(tx, campaign_id).await?;
    super::contents::choose_languages(tx, campaign_id).await?;
    super::contents::hold_until_local_time(tx, campaign_id).await?;
    Ok(Queued { pending: pending.rows_affected(), capped: capped.rows_affected() })
}

/// What [`Store::save_campaign`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Campaign(i64),
    /// The campaign being edited is gone or has already started.
    NotEditable,
    /// Sending now would reach nobody: nothing was saved, so no "sent" campaign with no
    /// deliveries appears.
    NobodyToReach,
}

/// A campaign row with its delivery and event counts (`CampaignSummary`'s columns).
const SUMMARY: &str = "SELECT c.id, c.title,
        CASE WHEN c.status = 'draft' AND c.approval_requested_by IS NOT NULL THEN 'awaiting_approval'
             ELSE c.status END AS status,
        c.error, c.created_at, c.started_at, c.finished_at, c.scheduled_at,
        c.max_per_minute, c.local_time,
        COUNT(d.subscription_id)                         AS targeted,
        COUNT(*) FILTER (WHERE d.status = 'sent')        AS sent,
        COUNT(*) FILTER (WHERE d.status = 'failed')      AS failed,
        COUNT(*) FILTER (WHERE d.status = 'expired')     AS expired,
        (SELECT COUNT(*) FROM notification_events e
         WHERE e.campaign_id = c.id AND e.kind = 'click') AS clicked,
        (SELECT COUNT(*) FROM notification_events e
         WHERE e.campaign_id = c.id AND e.kind = 'close') AS dismissed,
        (SELECT COUNT(*) FROM skipped_deliveries k
         WHERE k.campaign_id = c.id AND k.reason = 'capped') AS capped
    FROM campaigns c LEFT JOIN deliveries d ON d.campaign_id = c.id";

impl Store {
    /// Saves what the admin composed as a draft, a scheduled campaign or a queued one, as
    /// a new campaign or over `existing` (only while that is still a draft or scheduled).
    /// Queuing creates one pending delivery per current subscriber in the same transaction,
    /// with one `INSERT … SELECT` (never row by row from Rust); if that finds nobody, the
    /// transaction is rolled back, so the check holds however subscribers come and go.
    pub async fn save_campaign(
        &self,
        draft: &CampaignDraft,
        audience: &Audience,
        plan: Plan,
        author: Author,
        existing: Option<i64>,
    ) -> Result<Saved, sqlx::Error> {
        let (status, scheduled_at) = match plan {
            Plan::Draft => (CampaignStatus::Draft, None),
            Plan::At(at) | Plan::Local { starts: at, .. } => (CampaignStatus::Scheduled, Some(at)),
            Plan::Now => (CampaignStatus::Queued, None),
        };
        let local = match plan {
            Plan::Local { at, fallback, .. } => Some((at, fallback)),
            _ => None,
        };
        let mut tx = self.begin().await?;
        let query = match existing {
            None => sqlx::query_scalar(
                "INSERT INTO campaigns (title, body, url, icon, image, badge, actions, require_interaction, topic,
                                        ttl_secs, urgency, status, scheduled_at, created_by, created_at, options,
                                        max_per_minute, api_key_id, variants, ab_test, translations, local_time,
                                        local_zone)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17, $18, $19, $20, $21, $22,
                         $23, $24)
                 RETURNING id",
            ),
            Some(_) => sqlx::query_scalar(
                "UPDATE campaigns SET title = $1, body = $2, url = $3, icon = $4, image = $5, badge = $6, actions = $7,
                        require_interaction = $8, topic = $9, ttl_secs = $10, urgency = $11, status = $12,
                        scheduled_at = $13, options = $17, max_per_minute = $18, variants = $20, ab_test = $21,
                        translations = $22, local_time = $23, local_zone = $24,
                        -- Any change withdraws a request for approval: an approval is of what was asked.
                        approval_requested_by = NULL, approval_requested_at = NULL, approval_send_at = NULL,
                        reviewed_by = NULL, review_note = NULL
                 WHERE id = $16 AND status IN ('draft', 'scheduled')
                 RETURNING id",
            ),
        };
        let id: Option<i64> = bind_content(query, draft)
            .bind(status.as_str())
            .bind(scheduled_at)
            .bind(author.admin())
            .bind(now())
            .bind(existing)
            .bind(serde_json::to_string(&draft.options).expect("options serialize"))
            .bind(draft.rate.map(|r| i64::from(r.per_minute())))
            .bind(author.api_key())
            .bind(serde_json::to_string(&draft.variants).expect("variants serialize"))
            .bind(draft.ab.map(|t| serde_json::to_string(&t).expect("a test serializes")))
            .bind(serde_json::to_string(&draft.translations).expect("translations serialize"))
            .bind(local.map(|(at, _)| at.format("%Y-%m-%dT%H:%M:%S").to_string()))
            .bind(local.map(|(_, zone)| zone))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else { return Ok(Saved::NotEditable) };
        let topics: Vec<i64> = audience.topics.iter().map(|t| t.0).collect();
        super::topics::replace_ids(&mut tx, "campaign_topics", "campaign_id", id, "topic_id", &topics).await?;
        let sites: Vec<i64> = audience.sites.iter().map(|s| s.0).collect();
        super::topics::replace_ids(&mut tx, "campaign_sites", "campaign_id", id, "site_id", &sites).await?;
        let queued = if plan == Plan::Now { Some(create_deliveries(&mut tx, id, now()).await?) } else { None };
        if queued.is_some_and(Queued::reaches_nobody) {
            tx.rollback().await?;
            return Ok(Saved::NobodyToReach);
        }
        tx.commit().await?;
        self.after_queueing(queued).await;
        Ok(Saved::Campaign(id))
    }

    /// Queues every scheduled campaign whose time has come, creating its deliveries then.
    /// Each start is one transaction whose first step only succeeds while the campaign is
    /// still scheduled, so a campaign starts once even with several dispatchers.
    pub async fn start_due_campaigns(&self, now: i64) -> Result<Vec<i64>, sqlx::Error> {
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= $1 ORDER BY scheduled_at, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut started = Vec::with_capacity(due.len());
        for id in due {
            let mut tx = self.begin().await?;
            let claimed = sqlx::query("UPDATE campaigns SET status = 'queued' WHERE id = $1 AND status = 'scheduled'")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let queued =
                if claimed.rows_affected() == 1 { Some(create_deliveries(&mut tx, id, now).await?) } else { None };
            tx.commit().await?;
            if queued.is_some() {
                started.push(id);
            }
            self.after_queueing(queued).await;
        }
        Ok(started)
    }

    /// After a large audience was queued, PostgreSQL's statistics are brought up to date at
    /// once rather than when autovacuum next looks (up to a minute later): until then the
    /// planner takes the new deliveries for a handful and reads the queue's index end to
    /// end for every batch of outcomes (20,000 subscribers: 318 msg/s, 3 ms of database CPU
    /// per message).
    pub(super) async fn after_queueing(&self, queued: Option<Queued>) {
        const LARGE: u64 = 10_000;
        if self.dialect != super::Dialect::Postgres || queued.is_none_or(|q| q.pending < LARGE) {
            return;
        }
        if let Err(error) = sqlx::query("ANALYZE deliveries").execute(&self.pool).await {
            tracing::warn!(%error, "could not refresh the statistics of the delivery queue");
        }
    }

    /// When the next scheduled campaign is due (Unix seconds).
    pub async fn next_scheduled_at(&self) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT MIN(scheduled_at) FROM campaigns WHERE status = 'scheduled'")
            .fetch_one(&self.pool)
            .await
    }

    /// A campaign's content, e.g. to edit it.
    pub async fn campaign_row(&self, id: i64) -> Result<Option<CampaignRow>, sqlx::Error> {
        let row: Option<StoredCampaign> =
            sqlx::query_as(&format!("{CAMPAIGN_ROW} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(CampaignRow::from))
    }

    /// Copies a campaign's content and audience into a new draft. Returns the draft's id.
    pub async fn duplicate_campaign(&self, id: i64, author: Author) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.begin().await?;
        let copy: Option<i64> = sqlx::query_scalar(
            "INSERT INTO campaigns (title, body, url, icon, image, badge, actions, require_interaction, options,
                                    topic, ttl_secs, urgency, max_per_minute, status, created_by, created_at,
                                    api_key_id, variants, ab_test, translations)
             SELECT title, body, url, icon, image, badge, actions, require_interaction, options,
                    topic, ttl_secs, urgency, max_per_minute, 'draft', $1, $2, $4, variants, ab_test, translations
             FROM campaigns WHERE id = $3 AND kind = 'campaign'
             RETURNING id",
        )
        .bind(author.admin())
        .bind(now())
        .bind(id)
        .bind(author.api_key())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(copy) = copy {
            for (table, column) in [("campaign_topics", "topic_id"), ("campaign_sites", "site_id")] {
                sqlx::query(&format!(
                    "INSERT INTO {table} (campaign_id, {column}) SELECT $1, {column} FROM {table} WHERE campaign_id = $2"
                ))
                .bind(copy)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(copy)
    }

    /// Deletes a draft (nothing else: sent campaigns keep their history). Returns whether it did.
    pub async fn delete_draft(&self, id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM campaigns WHERE id = $1 AND status = 'draft'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The oldest running campaign with a delivery due now. A campaign whose remaining
    /// deliveries all wait for a retry, or that has used this minute's sends (its send
    /// rate), does not hold up the ones queued after it.
    /// `now_ms` for retries, `now` (seconds) for send rates: the dispatcher's two clocks.
    pub async fn next_campaign_with_due_work(&self, now_ms: i64, now: i64) -> Result<Option<CampaignRow>, sqlx::Error> {
        let row: Option<StoredCampaign> = sqlx::query_as(&format!(
            "{CAMPAIGN_ROW} c
             WHERE status IN ('queued', 'sending') AND EXISTS (
                SELECT 1 FROM deliveries d
                WHERE d.campaign_id = c.id AND d.status = 'pending' AND d.next_attempt_at <= $1)
               AND (max_per_minute IS NULL OR started_at IS NULL
                    OR paced_claims < max_per_minute * (($2 - COALESCE(paced_from, started_at)) / 60 + 1))
             ORDER BY id LIMIT 1"
        ))
        .bind(now_ms)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(CampaignRow::from))
    }

    /// How many more deliveries a campaign with a send rate may claim now (each minute
    /// since it started allows its rate, the first at once); `None` without a rate.
    pub async fn paced_allowance(&self, id: i64, now: i64) -> Result<Option<i64>, sqlx::Error> {
        let row: Option<(Option<i64>, Option<i64>, i64)> = sqlx::query_as(
            "SELECT max_per_minute, COALESCE(paced_from, started_at), paced_claims FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((Some(rate), started_at, claimed)) => {
                let minutes = (now - started_at.unwrap_or(now)).max(0) / 60 + 1;
                Some((rate.saturating_mul(minutes) - claimed).max(0))
            }
            _ => None,
        })
    }

    /// Counts `n` claimed deliveries against the campaign's send rate.
    pub async fn count_paced_claims(&self, id: i64, n: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE campaigns SET paced_claims = paced_claims + $1 WHERE id = $2 AND max_per_minute IS NOT NULL",
        )
        .bind(n)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn campaign_status(&self, id: i64) -> Result<Option<CampaignStatus>, sqlx::Error> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        status.map(|s| CampaignStatus::try_from(s).map_err(|e| sqlx::Error::Decode(e.into()))).transpose()
    }

    /// Stops a scheduled, queued or sending campaign. Returns whether it was one.
    pub async fn cancel_campaign(&self, id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE campaigns SET status = 'cancelled', finished_at = $1
             WHERE id = $2 AND status IN ('scheduled', 'queued', 'sending')",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Tells the admin, on the campaign's page, when push services refuse the campaign for
    /// a reason every further delivery would share: our VAPID signature (401/403, three
    /// times) or the payload's size (413).
    pub async fn explain_rejections(&self, id: i64) -> Result<(), sqlx::Error> {
        let too_large = format!(
            "A push service refused the notification as too large (HTTP 413). Mozilla's relays for Firefox on \
             Android and iOS take at most {} bytes: shorten the text or links.",
            crate::campaign::MAX_PAYLOAD_BYTES
        );
        let causes = [
            ("401, 403", 3, VAPID_REJECTED.to_owned()),
            // One is enough: every recipient on that route gets the same answer.
            ("413", 1, too_large),
        ];
        for (codes, at_least, cause) in causes {
            sqlx::query(&format!(
                "UPDATE campaigns SET error = $1
                 WHERE id = $2 AND error IS NULL AND (
                    SELECT COUNT(*) FROM deliveries
                    WHERE campaign_id = $2 AND last_status_code IN ({codes}) AND status = 'failed') >= $3"
            ))
            .bind(cause)
            .bind(id)
            .bind(at_least)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// `now`: Unix seconds by the dispatcher's clock, which its send rate counts from.
    /// Returns whether this call started it (with several instances, one does).
    pub async fn mark_campaign_sending(&self, id: i64, now: i64) -> Result<bool, sqlx::Error> {
        let started =
            sqlx::query("UPDATE campaigns SET status = 'sending', started_at = $1 WHERE id = $2 AND status = 'queued'")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(started.rows_affected() == 1)
    }

    /// Marks running campaigns sent once none of their deliveries is pending or in flight.
    /// Returns the ids it finished.
    pub async fn finish_done_campaigns(&self) -> Result<Vec<i64>, sqlx::Error> {
        let at = now();
        sqlx::query_scalar(
            "UPDATE campaigns SET status = 'sent', finished_at = $1, started_at = COALESCE(started_at, $2)
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
        sqlx::query_as(&format!("{SUMMARY} WHERE c.kind = 'campaign' GROUP BY c.id ORDER BY c.id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
    }

    /// Campaigns (or messages) older than `before` (an id; `None`: the newest), newest
    /// first, optionally only in one status: the API's cursor-paged list.
    pub async fn campaign_page(
        &self,
        kind: &str,
        before: Option<i64>,
        status: Option<CampaignStatus>,
        limit: i64,
    ) -> Result<Vec<CampaignSummary>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{SUMMARY} WHERE c.kind = $1 AND c.id < $2 AND ($3 IS NULL OR c.status = $3)
             GROUP BY c.id ORDER BY c.id DESC LIMIT $4"
        ))
        .bind(kind)
        .bind(before.unwrap_or(i64::MAX))
        .bind(status.map(|s| s.as_str()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// A transactional message: one notification to chosen subscriptions, queued at once,
    /// made through the API with key `api_key`. Returns its id.
    pub async fn create_message(
        &self,
        draft: &CampaignDraft,
        subscriptions: &[i64],
        api_key: i64,
    ) -> Result<i64, sqlx::Error> {
        let mut tx = self.begin().await?;
        let id: i64 = bind_content(
            sqlx::query_scalar(
                "INSERT INTO campaigns (title, body, url, icon, image, badge, actions, require_interaction, topic,
                                    ttl_secs, urgency, status, created_at, options, kind, api_key_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $13, 'message', $14)
             RETURNING id",
            ),
            draft,
        )
        .bind(now())
        .bind(serde_json::to_string(&draft.options).expect("options serialize"))
        .bind(api_key)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO deliveries (campaign_id, subscription_id, status)
             SELECT $1, id, 'pending' FROM subscriptions WHERE {}",
            self.in_ids("id", 2)
        ))
        .bind(id)
        .bind(super::id_list(subscriptions.iter().copied()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Who made a campaign through the API, if a key did; and whether it is a message.
    pub async fn campaign_origin(&self, id: i64) -> Result<Option<(Option<i64>, String)>, sqlx::Error> {
        sqlx::query_as("SELECT api_key_id, kind FROM campaigns WHERE id = $1").bind(id).fetch_optional(&self.pool).await
    }

    pub async fn campaign_summary(&self, id: i64) -> Result<Option<CampaignSummary>, sqlx::Error> {
        sqlx::query_as(&format!("{SUMMARY} WHERE c.id = $1 GROUP BY c.id")).bind(id).fetch_optional(&self.pool).await
    }

    /// Failed and expired deliveries grouped by what the push service answered (no code:
    /// no answer), largest group first, with one of their error messages.
    pub async fn failure_reasons(&self, campaign_id: i64) -> Result<Vec<FailureReason>, sqlx::Error> {
        sqlx::query_as(
            "SELECT status AS outcome, last_status_code AS status_code, MAX(last_error) AS example, COUNT(*) AS count
             FROM deliveries WHERE campaign_id = $1 AND status IN ('failed', 'expired')
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
                SELECT MAX(sent_at) AS at FROM deliveries WHERE campaign_id = $1
                UNION ALL SELECT MAX(at) FROM notification_events WHERE campaign_id = $1) AS activity",
        )
        .bind(campaign_id)
        .fetch_one(&self.pool)
        .await
    }

    /// Sends and clicks per time bucket of `bucket_secs`, from the campaign's start:
    /// (bucket index, sent, clicked), only buckets with something in them.
    pub async fn activity(
        &self,
        campaign_id: i64,
        since: i64,
        bucket_secs: i64,
    ) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT bucket, SUM(sent), SUM(clicked) FROM (
                SELECT (sent_at - $2) / $3 AS bucket, 1 AS sent, 0 AS clicked
                FROM deliveries WHERE campaign_id = $1 AND status = 'sent' AND sent_at IS NOT NULL
                UNION ALL
                SELECT (at - $2) / $3, 0, 1 FROM notification_events WHERE campaign_id = $1 AND kind = 'click') AS events
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
        kind: TrackedEvent,
        action: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "INSERT INTO notification_events (campaign_id, subscription_id, kind, action, at)
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (
                SELECT 1 FROM deliveries
                WHERE campaign_id = $1 AND subscription_id = $2 AND status = 'sent')
             ON CONFLICT DO NOTHING",
        )
        .bind(campaign_id)
        .bind(subscription_id)
        .bind(kind.as_str())
        .bind(action)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

const VAPID_REJECTED: &str = "Push services rejected our VAPID signature (HTTP 401/403). Check \
    TIDINGS_VAPID_SUBJECT, and that the VAPID key in the database is the one browsers subscribed with.";
