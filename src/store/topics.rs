use sqlx::AnyConnection;

use super::{id_list, now, Store};
use crate::topic::{Audience, Topic, TopicId, TopicName};

impl Store {
    /// Every topic with its subscriber count, active ones first, then by name.
    pub async fn topics(&self) -> Result<Vec<Topic>, sqlx::Error> {
        let rows: Vec<(i64, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT t.id, t.name, t.archived_at,
                    (SELECT COUNT(*) FROM subscription_topics st WHERE st.topic_id = t.id) AS subscribers
             FROM topics t ORDER BY t.archived_at IS NOT NULL, t.name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, archived_at, subscribers)| Topic {
                id,
                name,
                archived: archived_at.is_some(),
                subscribers,
            })
            .collect())
    }

    /// Adds a topic; `None` if the name is taken (names ignore case).
    pub async fn create_topic(&self, name: &TopicName) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO topics (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name.as_str())
        .bind(now())
        .fetch_optional(&self.pool)
        .await
    }

    /// Renames a topic. Ok(false) if there is no such topic; a taken name is a unique
    /// violation, which the caller reports.
    pub async fn rename_topic(&self, id: TopicId, name: &TopicName) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE topics SET name = $1 WHERE id = $2")
            .bind(name.as_str())
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

    /// Which of `ids` are not active topics (unknown or archived).
    pub async fn inactive_topics(&self, ids: &[TopicId]) -> Result<Vec<TopicId>, sqlx::Error> {
        let inactive: Vec<i64> = sqlx::query_scalar(&format!(
            "WITH chosen (id) AS ({}) SELECT id FROM chosen WHERE id NOT IN (SELECT id FROM topics WHERE archived_at IS NULL)",
            self.ids_in(1)
        ))
        .bind(id_list(ids.iter().map(|t| t.0)))
        .fetch_all(&self.pool)
        .await?;
        Ok(inactive.into_iter().map(TopicId).collect())
    }

    /// The topics a subscription chose, by its endpoint; `None` if there is no such subscription.
    pub async fn subscription_topics(&self, endpoint: &str) -> Result<Option<Vec<TopicId>>, sqlx::Error> {
        let Some(id): Option<i64> = sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let topics: Vec<i64> =
            sqlx::query_scalar("SELECT topic_id FROM subscription_topics WHERE subscription_id = $1 ORDER BY topic_id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(topics.into_iter().map(TopicId).collect()))
    }

    /// Replaces a subscription's topics (by endpoint). Returns whether the subscription exists.
    pub async fn set_subscription_topics(&self, endpoint: &str, topics: &[TopicId]) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let Some(id): Option<i64> = sqlx::query_scalar("SELECT id FROM subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .fetch_optional(&mut *tx)
            .await?
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
                sqlx::query_scalar(&format!(
                    "SELECT COUNT(DISTINCT subscription_id) FROM subscription_topics WHERE topic_id IN ({})",
                    self.ids_in(1)
                ))
                .bind(id_list(topics.iter().map(|t| t.0)))
                .fetch_one(&self.pool)
                .await
            }
        }
    }

    /// The topics a campaign is aimed at (empty: everyone).
    pub async fn campaign_topics(&self, campaign_id: i64) -> Result<Vec<TopicId>, sqlx::Error> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT topic_id FROM campaign_topics WHERE campaign_id = $1 ORDER BY topic_id")
                .bind(campaign_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().map(TopicId).collect())
    }
}

/// Replaces the topic rows of one subscription or campaign (`table`, keyed by `owner_column`).
pub(super) async fn replace_topics(
    tx: &mut AnyConnection,
    table: &str,
    owner_column: &str,
    owner: i64,
    topics: &[TopicId],
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {owner_column} = $1")).bind(owner).execute(&mut *tx).await?;
    for topic in topics {
        sqlx::query(&format!("INSERT INTO {table} ({owner_column}, topic_id) VALUES ($1, $2)"))
            .bind(owner)
            .bind(topic.0)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
