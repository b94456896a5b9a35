use sqlx::AnyConnection;

use super::{id_list, now, Store};
use crate::campaign::Audience;
use crate::site::SiteId;
use crate::topic::{Topic, TopicChoice, TopicId, TopicName};

/// The active sites among a JSON list bound as `$n` (an empty list: every active site).
fn chosen_sites(store: &Store, n: u8) -> String {
    format!("SELECT id FROM sites WHERE archived_at IS NULL AND (${n} = '[]' OR {})", store.in_ids("id", n))
}

impl Store {
    /// Every topic with its subscriber count, active ones first, then by name.
    pub async fn topics(&self) -> Result<Vec<Topic>, sqlx::Error> {
        // (id, name, archived_at, subscribers, site)
        type Row = (i64, String, Option<i64>, i64, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT t.id, t.name, t.archived_at,
                    (SELECT COUNT(*) FROM subscription_topics st WHERE st.topic_id = t.id) AS subscribers, t.site_id
             FROM topics t ORDER BY t.archived_at IS NOT NULL, t.name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, archived_at, subscribers, site)| Topic {
                id,
                name,
                archived: archived_at.is_some(),
                subscribers,
                site,
            })
            .collect())
    }

    /// The active topics a site offers its visitors (its own and those of every site), by name.
    pub async fn offered_topics(&self, site: SiteId) -> Result<Vec<TopicChoice>, sqlx::Error> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, name FROM topics WHERE archived_at IS NULL AND (site_id IS NULL OR site_id = $1) ORDER BY name",
        )
        .bind(site.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, name)| TopicChoice { id, name }).collect())
    }

    /// Adds a topic, offered on `site` only or (`None`) everywhere; `None` if the name is
    /// taken (names ignore case).
    pub async fn create_topic(&self, name: &TopicName, site: Option<SiteId>) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO topics (name, site_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name.as_str())
        .bind(site.map(|s| s.0))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
    }

    /// Renames a topic and sets where it is offered. Ok(false) if there is no such topic; a
    /// taken name is a unique violation, which the caller reports.
    pub async fn update_topic(&self, id: TopicId, name: &TopicName, site: Option<SiteId>) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE topics SET name = $1, site_id = $2 WHERE id = $3")
            .bind(name.as_str())
            .bind(site.map(|s| s.0))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Archives (or restores) a topic. Returns whether the topic exists.
    pub async fn set_topic_archived(&self, id: TopicId, archived: bool) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE topics SET archived_at = CASE WHEN $1 THEN COALESCE(archived_at, $2) END WHERE id = $3",
        )
        .bind(archived)
        .bind(now())
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Which of `ids` are not active topics (unknown or archived), or, with `site`, not
    /// offered on that site.
    pub async fn unavailable_topics(&self, ids: &[TopicId], site: Option<SiteId>) -> Result<Vec<TopicId>, sqlx::Error> {
        let inactive: Vec<i64> = sqlx::query_scalar(&format!(
            "WITH chosen (id) AS ({}) SELECT id FROM chosen WHERE id NOT IN
                (SELECT id FROM topics WHERE archived_at IS NULL AND ($2 = 0 OR site_id IS NULL OR site_id = $2))",
            self.ids_in(1)
        ))
        .bind(id_list(ids.iter().map(|t| t.0)))
        .bind(site.map_or(0, |s| s.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(inactive.into_iter().map(TopicId).collect())
    }

    /// The topics a subscription of `site` chose, by its endpoint; `None` if that site has
    /// no such subscription.
    pub async fn subscription_topics(&self, endpoint: &str, site: SiteId) -> Result<Option<Vec<TopicId>>, sqlx::Error> {
        let Some(id) = self.site_subscription_id(endpoint, site).await? else {
            return Ok(None);
        };
        let topics: Vec<i64> =
            sqlx::query_scalar("SELECT topic_id FROM subscription_topics WHERE subscription_id = $1 ORDER BY topic_id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(topics.into_iter().map(TopicId).collect()))
    }

    /// Replaces the topics of a subscription of `site` (by endpoint). Returns whether the
    /// site has that subscription.
    pub async fn set_subscription_topics(
        &self,
        endpoint: &str,
        site: SiteId,
        topics: &[TopicId],
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let Some(id): Option<i64> =
            sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = $1 AND site_id = $2")
                .bind(endpoint)
                .bind(site.0)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(false);
        };
        let topics: Vec<i64> = topics.iter().map(|t| t.0).collect();
        replace_ids(&mut tx, "subscription_topics", "subscription_id", id, "topic_id", &topics).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many subscribers a campaign with this audience would reach now.
    pub async fn audience_size(&self, audience: &Audience) -> Result<i64, sqlx::Error> {
        let sites = id_list(audience.sites.iter().map(|s| s.0));
        if audience.topics.is_empty() {
            return sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM subscriptions WHERE site_id IN ({})",
                chosen_sites(self, 1)
            ))
            .bind(sites)
            .fetch_one(&self.pool)
            .await;
        }
        sqlx::query_scalar(&format!(
            "SELECT COUNT(DISTINCT st.subscription_id) FROM subscription_topics st
             JOIN subscriptions s ON s.id = st.subscription_id
             WHERE {} AND s.site_id IN ({})",
            self.in_ids("st.topic_id", 1),
            chosen_sites(self, 2)
        ))
        .bind(id_list(audience.topics.iter().map(|t| t.0)))
        .bind(sites)
        .fetch_one(&self.pool)
        .await
    }

    /// The topics and sites a campaign is aimed at (none: all).
    pub async fn campaign_audience(&self, campaign_id: i64) -> Result<Audience, sqlx::Error> {
        let topics: Vec<i64> =
            sqlx::query_scalar("SELECT topic_id FROM campaign_topics WHERE campaign_id = $1 ORDER BY topic_id")
                .bind(campaign_id)
                .fetch_all(&self.pool)
                .await?;
        let sites: Vec<i64> =
            sqlx::query_scalar("SELECT site_id FROM campaign_sites WHERE campaign_id = $1 ORDER BY site_id")
                .bind(campaign_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Audience {
            topics: topics.into_iter().map(TopicId).collect(),
            sites: sites.into_iter().map(SiteId).collect(),
        })
    }
}

/// Replaces the id rows (`column`) of one subscription or campaign in `table`, keyed by
/// `owner_column`: its topics, or a campaign's sites.
pub(super) async fn replace_ids(
    tx: &mut AnyConnection,
    table: &str,
    owner_column: &str,
    owner: i64,
    column: &str,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {owner_column} = $1")).bind(owner).execute(&mut *tx).await?;
    for id in ids {
        sqlx::query(&format!("INSERT INTO {table} ({owner_column}, {column}) VALUES ($1, $2)"))
            .bind(owner)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
