use sqlx::SqliteConnection;

use super::{now, Store};
use crate::topic::{Audience, Topic, TopicId, TopicName};

impl Store {
    /// Every topic with its subscriber count, active ones first, then by name.
    pub async fn topics(&self) -> Result<Vec<Topic>, sqlx::Error> {
        sqlx::query_as(
            "SELECT t.id, t.name, t.archived_at IS NOT NULL AS archived,
                    (SELECT COUNT(*) FROM subscription_topics st WHERE st.topic_id = t.id) AS subscribers
             FROM topics t ORDER BY archived, t.name",
        )
        .fetch_all(&self.pool)
        .await
    }

    /// Adds a topic; `None` if the name is taken (names ignore case).
    pub async fn create_topic(&self, name: &TopicName) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("INSERT INTO topics (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING id")
            .bind(name.as_str())
            .bind(now())
            .fetch_optional(&self.pool)
            .await
    }

    /// Renames a topic. Ok(false) if there is no such topic; a taken name is a unique
    /// violation, which the caller reports.
    pub async fn rename_topic(&self, id: TopicId, name: &TopicName) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE topics SET name = ? WHERE id = ?").bind(name.as_str()).bind(id.0).execute(&self.pool).await?;
        Ok(result.rows_affected() == 1)
    }

    /// Archives (or restores) a topic. Returns whether the topic exists.
    pub async fn set_topic_archived(&self, id: TopicId, archived: bool) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE topics SET archived_at = CASE WHEN ? THEN COALESCE(archived_at, ?) END WHERE id = ?")
            .bind(archived)
            .bind(now())
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Which of `ids` are not active topics (unknown or archived).
    pub async fn inactive_topics(&self, ids: &[TopicId]) -> Result<Vec<TopicId>, sqlx::Error> {
        let inactive: Vec<i64> = sqlx::query_scalar(
            "SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM topics WHERE archived_at IS NULL)",
        )
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await?;
        Ok(inactive.into_iter().map(TopicId).collect())
    }

    /// The topics a subscription chose, by its endpoint; `None` if there is no such subscription.
    pub async fn subscription_topics(&self, endpoint: &str) -> Result<Option<Vec<TopicId>>, sqlx::Error> {
        let Some(id): Option<i64> =
            sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = ?").bind(endpoint).fetch_optional(&self.pool).await?
        else {
            return Ok(None);
        };
        let topics: Vec<i64> = sqlx::query_scalar("SELECT topic_id FROM subscription_topics WHERE subscription_id = ? ORDER BY topic_id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(Some(topics.into_iter().map(TopicId).collect()))
    }

    /// Replaces a subscription's topics (by endpoint). Returns whether the subscription exists.
    pub async fn set_subscription_topics(&self, endpoint: &str, topics: &[TopicId]) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let Some(id): Option<i64> =
            sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = ?").bind(endpoint).fetch_optional(&mut *tx).await?
        else {
            return Ok(false);
        };
        replace_topics(&mut tx, "subscription_topics", "subscription_id", id, topics).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many subscribers a campaign with this audience would reach now.
    pub async fn audience_size(&self, audience: &Audience) -> Result<i64, sqlx::Error> {
        match audience {
            Audience::Everyone => self.subscription_count().await,
            Audience::Topics(topics) => {
                sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT subscription_id) FROM subscription_topics
                     WHERE topic_id IN (SELECT value FROM json_each(?))",
                )
                .bind(id_list(topics))
                .fetch_one(&self.pool)
                .await
            }
        }
    }

    /// The topics a campaign is aimed at (empty: everyone).
    pub async fn campaign_topics(&self, campaign_id: i64) -> Result<Vec<TopicId>, sqlx::Error> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT topic_id FROM campaign_topics WHERE campaign_id = ? ORDER BY topic_id")
            .bind(campaign_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(TopicId).collect())
    }
}

/// Ids as a JSON array, for `json_each`: a list in one bound parameter.
fn id_list(ids: &[TopicId]) -> String {
    serde_json::to_string(&ids.iter().map(|t| t.0).collect::<Vec<_>>()).expect("numbers serialize")
}

/// Replaces the topic rows of one subscription or campaign (`table`, keyed by `owner_column`).
pub(super) async fn replace_topics(
    tx: &mut SqliteConnection,
    table: &str,
    owner_column: &str,
    owner: i64,
    topics: &[TopicId],
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {owner_column} = ?")).bind(owner).execute(&mut *tx).await?;
    for topic in topics {
        sqlx::query(&format!("INSERT INTO {table} ({owner_column}, topic_id) VALUES (?, ?)"))
            .bind(owner)
            .bind(topic.0)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
