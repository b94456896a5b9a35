//! A campaign's alternative contents in the database: splitting a queued audience into an
//! A/B test's hold-out, test group and rest, releasing the winner to the rest, the results
//! per variant; and giving each subscriber the content in their language. Who gets what
//! is decided in `campaign::ab` and `campaign::languages`.

use sqlx::AnyConnection;

use super::{id_list, Dialect, Store};
use crate::campaign::ab::{self, AbTest, Group, Pick, VariantResult, MAX_EXTRA_VARIANTS};
use crate::campaign::languages::{content_for, LanguageResult, Translation};
use crate::campaign::local_time;

/// `deliveries.next_attempt_at` of a held delivery: never due by the retry clock, only
/// when a release step makes it due: [`Store::release_winner`] for the rest of an A/B
/// test's audience, [`Store::release_local_waves`] for a subscriber's local time
/// (`deliveries.due_at`, on the scheduling clock).
pub const HELD: i64 = i64::MAX;
/// `deliveries.variant` of a delivery waiting for the winner.
const UNDECIDED: i64 = -1;

/// A campaign's test as stored (`None`: no test), and how many variants it has in all.
fn stored_test(ab_test: Option<&str>, variants: &str) -> Option<(AbTest, usize)> {
    let test: AbTest = serde_json::from_str(ab_test?).ok()?;
    let extra = serde_json::from_str::<Vec<serde_json::Value>>(variants).map(|v| v.len()).unwrap_or(0);
    (extra > 0).then_some((test, 1 + extra.min(MAX_EXTRA_VARIANTS)))
}

/// Splits campaign `campaign_id`'s deliveries, just queued, as its A/B test says: the
/// hold-out leaves the queue for `skipped_deliveries`, the test group gets its variants,
/// the rest waits for the winner. Nothing happens to a campaign without a test. A handful
/// of statements whatever the audience's size (each id list is one JSON parameter).
pub(super) async fn split_audience(tx: &mut AnyConnection, campaign_id: i64) -> Result<(), sqlx::Error> {
    let (ab_test, variants): (Option<String>, String) =
        sqlx::query_as("SELECT ab_test, variants FROM campaigns WHERE id = $1")
            .bind(campaign_id)
            .fetch_one(&mut *tx)
            .await?;
    let Some((test, count)) = stored_test(ab_test.as_deref(), &variants) else { return Ok(()) };
    let queued: Vec<i64> = sqlx::query_scalar("SELECT subscription_id FROM deliveries WHERE campaign_id = $1")
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await?;
    let (mut held_out, mut rest, mut by_variant) = (Vec::new(), Vec::new(), vec![Vec::new(); count]);
    for subscription in queued {
        match ab::assign(campaign_id, subscription, &test, count) {
            Group::HeldOut => held_out.push(subscription),
            Group::Rest => rest.push(subscription),
            Group::Test(v) => by_variant[usize::from(v)].push(subscription),
        }
    }
    let in_ids = Dialect::of_backend(tx.backend_name()).in_ids("subscription_id", 2);
    if !held_out.is_empty() {
        let ids = id_list(held_out);
        sqlx::query(&format!(
            "INSERT INTO skipped_deliveries (campaign_id, subscription_id, reason)
             SELECT campaign_id, subscription_id, 'held_out' FROM deliveries
             WHERE campaign_id = $1 AND {in_ids}"
        ))
        .bind(campaign_id)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!("DELETE FROM deliveries WHERE campaign_id = $1 AND {in_ids}"))
            .bind(campaign_id)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
    }
    // Variant A (0) is the column's default.
    let changes = by_variant.into_iter().enumerate().skip(1).map(|(v, ids)| (v as i64, 0, ids));
    for (variant, next_attempt_at, ids) in changes.chain([(UNDECIDED, HELD, rest)]) {
        if ids.is_empty() {
            continue;
        }
        sqlx::query(&format!(
            "UPDATE deliveries SET variant = $3, next_attempt_at = $4
             WHERE campaign_id = $1 AND {in_ids}"
        ))
        .bind(campaign_id)
        .bind(id_list(ids))
        .bind(variant)
        .bind(next_attempt_at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Gives each of campaign `campaign_id`'s deliveries, just queued, the content in the
/// subscriber's language (see `campaign::languages::content_for`). Nothing happens to a
/// campaign without translations.
pub(super) async fn choose_languages(tx: &mut AnyConnection, campaign_id: i64) -> Result<(), sqlx::Error> {
    let translations: String = sqlx::query_scalar("SELECT translations FROM campaigns WHERE id = $1")
        .bind(campaign_id)
        .fetch_one(&mut *tx)
        .await?;
    let translations: Vec<Translation> = serde_json::from_str(&translations).unwrap_or_default();
    if translations.is_empty() {
        return Ok(());
    }
    let offered: Vec<String> = translations.into_iter().map(|t| t.language).collect();
    let queued: Vec<(i64, Option<String>, String)> = sqlx::query_as(
        "SELECT d.subscription_id, s.language, t.widget
         FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id JOIN sites t ON t.id = s.site_id
         WHERE d.campaign_id = $1",
    )
    .bind(campaign_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut by_content = vec![Vec::new(); offered.len() + 1];
    for (subscription, language, widget) in queued {
        let site_language = serde_json::from_str::<serde_json::Value>(&widget)
            .ok()
            .and_then(|w| w.get("language").and_then(|l| l.as_str()).map(str::to_owned));
        by_content[content_for(language.as_deref(), site_language.as_deref(), &offered)].push(subscription);
    }
    let in_ids = Dialect::of_backend(tx.backend_name()).in_ids("subscription_id", 2);
    // The fallback (0) is the column's default.
    for (content, ids) in by_content.into_iter().enumerate().skip(1).filter(|(_, ids)| !ids.is_empty()) {
        sqlx::query(&format!("UPDATE deliveries SET variant = $3 WHERE campaign_id = $1 AND {in_ids}"))
            .bind(campaign_id)
            .bind(id_list(ids))
            .bind(content as i64)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Holds each of campaign `campaign_id`'s deliveries, just queued, until its subscriber's
/// local time if the campaign is delivered at a local time. A subscriber whose browser
/// named no zone takes their site's, else the scheduling admin's. One statement per zone
/// among them (and per site for those without one): a few hundred at most; none for other
/// campaigns.
pub(super) async fn hold_until_local_time(tx: &mut AnyConnection, campaign_id: i64) -> Result<(), sqlx::Error> {
    let (local_time, local_zone): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT local_time, local_zone FROM campaigns WHERE id = $1")
            .bind(campaign_id)
            .fetch_one(&mut *tx)
            .await?;
    let Some(at) = local_time.and_then(|t| local_time::parse_input(&t).ok()) else { return Ok(()) };
    let admins = local_time::zone_or(local_zone.as_deref(), chrono_tz::UTC);
    // Each zone named by a browser, and each site whose subscribers include some that named none.
    let groups: Vec<(Option<String>, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT DISTINCT s.time_zone, CASE WHEN s.time_zone IS NULL THEN s.site_id END,
                CASE WHEN s.time_zone IS NULL THEN t.widget END
         FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id JOIN sites t ON t.id = s.site_id
         WHERE d.campaign_id = $1",
    )
    .bind(campaign_id)
    .fetch_all(&mut *tx)
    .await?;
    for (zone, site, widget) in groups {
        let site_zone = widget
            .and_then(|w| serde_json::from_str::<serde_json::Value>(&w).ok())
            .and_then(|w| w.get("time_zone").and_then(|z| z.as_str()).map(str::to_owned));
        let fallback = local_time::zone_or(site_zone.as_deref(), admins);
        let due = local_time::due_in(local_time::zone_or(zone.as_deref(), fallback), at);
        let same = if zone.is_some() { "s.time_zone = $4" } else { "s.time_zone IS NULL AND s.site_id = $4" };
        let sql = format!(
            "UPDATE deliveries SET due_at = $2, next_attempt_at = $3
             WHERE campaign_id = $1 AND subscription_id IN (SELECT s.id FROM subscriptions s WHERE {same})"
        );
        let query = sqlx::query(&sql).bind(campaign_id).bind(due).bind(HELD);
        match zone {
            Some(zone) => query.bind(zone),
            None => query.bind(site.unwrap_or_default()),
        }
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// A campaign's test and where it stands, for its page.
#[derive(Debug, Clone)]
pub struct AbState {
    pub test: AbTest,
    /// Titles of the variants, A first.
    pub titles: Vec<String>,
    pub winner: Option<u8>,
    pub started_at: Option<i64>,
    pub running: bool,
    pub held_out: i64,
    /// Deliveries waiting for the winner.
    pub waiting: i64,
}

impl AbState {
    /// When the winner is picked automatically (Unix seconds), if it is and not yet.
    pub fn decides_at(&self) -> Option<i64> {
        let due = self.started_at? + i64::from(self.test.wait_minutes) * 60;
        (self.winner.is_none() && self.test.has_rest() && self.test.pick == Pick::Auto).then_some(due)
    }
}

impl Store {
    /// Campaign `id`'s A/B test, if it has one.
    pub async fn ab_state(&self, id: i64) -> Result<Option<AbState>, sqlx::Error> {
        type Row = (Option<String>, String, String, Option<i64>, Option<i64>, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT ab_test, variants, title, ab_winner, started_at, status FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((ab_test, variants, title, winner, started_at, status)) = row else { return Ok(None) };
        let Some((test, _)) = stored_test(ab_test.as_deref(), &variants) else { return Ok(None) };
        let extra: Vec<ab::Variant> = serde_json::from_str(&variants).unwrap_or_default();
        let (held_out, waiting): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM skipped_deliveries WHERE campaign_id = $1 AND reason = 'held_out'),
                    (SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND variant = $2 AND status = 'pending')",
        )
        .bind(id)
        .bind(UNDECIDED)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(AbState {
            test,
            titles: std::iter::once(title).chain(extra.into_iter().map(|v| v.title)).collect(),
            winner: winner.and_then(|w| u8::try_from(w).ok()),
            started_at,
            running: matches!(status.as_str(), "queued" | "sending"),
            held_out,
            waiting,
        }))
    }

    /// Sent and clicked per variant of campaign `id` (those waiting for the winner are in
    /// no variant yet).
    pub async fn variant_results(&self, id: i64, titles: &[String]) -> Result<Vec<VariantResult>, sqlx::Error> {
        let counts = self.content_counts(id).await?;
        Ok(titles
            .iter()
            .enumerate()
            .map(|(index, title)| {
                let (targeted, sent, clicked) = counts.get(index).copied().unwrap_or_default();
                VariantResult { letter: ab::letter(index), title: title.clone(), targeted, sent, clicked }
            })
            .collect())
    }

    /// Sent and clicked per language of campaign `id`, the fallback first (`None` when it
    /// has no translations).
    pub async fn language_results(&self, id: i64) -> Result<Option<Vec<LanguageResult>>, sqlx::Error> {
        let translations: Option<String> = sqlx::query_scalar("SELECT translations FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let translations: Vec<Translation> =
            translations.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        if translations.is_empty() {
            return Ok(None);
        }
        let counts = self.content_counts(id).await?;
        let languages = std::iter::once(None).chain(translations.into_iter().map(|t| Some(t.language)));
        Ok(Some(
            languages
                .enumerate()
                .map(|(index, language)| {
                    let (_, sent, clicked) = counts.get(index).copied().unwrap_or_default();
                    LanguageResult { language, sent, clicked }
                })
                .collect(),
        ))
    }

    /// Targeted, sent and clicked per content index (`deliveries.variant`) of campaign
    /// `id`, from 0 to the highest used.
    async fn content_counts(&self, id: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        let counts: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT d.variant, COUNT(*), COUNT(*) FILTER (WHERE d.status = 'sent'), COUNT(e.subscription_id)
             FROM deliveries d LEFT JOIN notification_events e
               ON e.campaign_id = d.campaign_id AND e.subscription_id = d.subscription_id AND e.kind = 'click'
             WHERE d.campaign_id = $1 AND d.variant >= 0
             GROUP BY d.variant",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let highest = counts.iter().map(|(index, ..)| *index).max().unwrap_or(-1);
        Ok((0..=highest)
            .map(|index| {
                counts
                    .iter()
                    .find(|(v, ..)| *v == index)
                    .map(|(_, targeted, sent, clicked)| (*targeted, *sent, *clicked))
                    .unwrap_or_default()
            })
            .collect())
    }

    /// Sends variant `variant` to the rest of campaign `id`'s audience. Only the first pick
    /// counts (an admin's or the automatic one, on any instance), and only while the
    /// campaign runs. Returns whether this call picked it.
    /// Deliveries still waiting for their local time (`due_at` after `now`) stay held.
    pub async fn release_winner(&self, id: i64, variant: u8, now: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let picked = sqlx::query(
            "UPDATE campaigns SET ab_winner = $2
             WHERE id = $1 AND ab_winner IS NULL AND ab_test IS NOT NULL AND status IN ('queued', 'sending')",
        )
        .bind(id)
        .bind(i64::from(variant))
        .execute(&mut *tx)
        .await?;
        if picked.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE deliveries SET variant = $2,
                    next_attempt_at = CASE WHEN due_at > $4 THEN next_attempt_at ELSE 0 END
             WHERE campaign_id = $1 AND variant = $3 AND status = 'pending'",
        )
        .bind(id)
        .bind(i64::from(variant))
        .bind(UNDECIDED)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Running campaigns whose winner is to be picked automatically, with their state.
    async fn undecided_tests(&self) -> Result<Vec<(i64, AbState)>, sqlx::Error> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM campaigns WHERE ab_test IS NOT NULL AND ab_winner IS NULL AND status = 'sending'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut undecided = Vec::new();
        for id in ids {
            if let Some(state) = self.ab_state(id).await?.filter(|s| s.decides_at().is_some()) {
                undecided.push((id, state));
            }
        }
        Ok(undecided)
    }

    /// Picks the winner of every test whose wait is over at `now` (Unix seconds, the
    /// scheduling clock): the variant with the best click-through rate so far, A on a tie
    /// or without a click. Returns the campaigns and the variants picked.
    pub async fn pick_due_winners(&self, now: i64) -> Result<Vec<(i64, u8)>, sqlx::Error> {
        let mut picked = Vec::new();
        for (id, state) in self.undecided_tests().await? {
            if state.decides_at().is_some_and(|at| at <= now) {
                let results = self.variant_results(id, &state.titles).await?;
                let winner = ab::leader(&results).unwrap_or(0);
                if self.release_winner(id, winner, now).await? {
                    picked.push((id, winner));
                }
            }
        }
        Ok(picked)
    }

    /// Makes the held deliveries whose local time has come (`due_at` at or before `now`,
    /// the scheduling clock) due now; those also waiting for an A/B winner keep waiting
    /// for it. A campaign with a send rate that had sent everything due counts its rate
    /// afresh from the wave, so hours without anything due do not add up to a burst.
    /// Returns how many were released.
    pub async fn release_local_waves(&self, now: i64) -> Result<u64, sqlx::Error> {
        let waiting = format!("d.next_attempt_at = {HELD} AND d.due_at <= $1");
        sqlx::query(&format!(
            "UPDATE campaigns SET paced_from = $1, paced_claims = 0
             WHERE max_per_minute IS NOT NULL AND local_time IS NOT NULL AND status IN ('queued', 'sending')
               AND EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = campaigns.id AND {waiting})
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = campaigns.id
                               AND d.status = 'pending' AND d.next_attempt_at = 0)"
        ))
        .bind(now)
        .execute(&self.pool)
        .await?;
        let released = sqlx::query(&format!(
            "UPDATE deliveries SET next_attempt_at = 0
             WHERE next_attempt_at = {HELD} AND due_at <= $1 AND variant <> $2
               AND campaign_id IN (SELECT id FROM campaigns WHERE status IN ('queued', 'sending'))"
        ))
        .bind(now)
        .bind(UNDECIDED)
        .execute(&self.pool)
        .await?;
        Ok(released.rows_affected())
    }

    /// A local-time campaign's deliveries by when they come due (Unix seconds): how many
    /// and how many of those were sent, earliest first.
    pub async fn local_timeline(&self, id: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT due_at, COUNT(*), COUNT(*) FILTER (WHERE status = 'sent') FROM deliveries
             WHERE campaign_id = $1 AND due_at IS NOT NULL GROUP BY due_at ORDER BY due_at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
    }
}
