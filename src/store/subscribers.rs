//! The admin's view of subscriptions: search, pages, export and import.

use sqlx::{QueryBuilder, Sqlite};

use super::{now, Store};
use crate::subscription::parse::NewSubscription;
use crate::subscription::SubscriberQuery;

/// One subscription as the subscriber list shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct SubscriberListRow {
    pub id: i64,
    pub host: String,
    pub endpoint: String,
    pub created_at: i64,
    pub last_success_at: Option<i64>,
    /// Topic names, comma-separated.
    pub topics: Option<String>,
}

/// One subscription as exported.
#[derive(Debug, sqlx::FromRow)]
pub struct ExportRow {
    pub id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: i64,
    /// Topic names, separated by "|" (which names cannot contain).
    pub topics: Option<String>,
}

/// How an imported subscription was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    New,
    /// The endpoint was already known: its keys (and topics, if given) were updated.
    Merged,
}

impl Store {
    /// A page of subscriptions matching `query`, newest first, and how many match in all.
    /// Only the filters given become SQL conditions, so each search can walk an index:
    /// a topic search starts from the topic's members (by subscriber id), the others
    /// from the subscriptions by id (or by host).
    pub async fn subscriber_page(&self, query: &SubscriberQuery, page_size: i64) -> Result<(Vec<SubscriberListRow>, i64), sqlx::Error> {
        let mut list = QueryBuilder::<Sqlite>::new(
            "SELECT s.id, s.host, s.endpoint, s.created_at, s.last_success_at,
                (SELECT group_concat(t.name, ', ') FROM subscription_topics st JOIN topics t ON t.id = st.topic_id
                 WHERE st.subscription_id = s.id) AS topics",
        );
        push_from_and_filters(&mut list, query, true);
        list.push(if query.topic.is_some() { " ORDER BY m.subscription_id DESC" } else { " ORDER BY s.id DESC" });
        list.push(" LIMIT ").push_bind(page_size);
        // Counted first: with no match the page is skipped, where walking every row by id
        // looking for one would take longest.
        let total: i64 = if let (Some(topic), SubscriberQuery { host: None, joined_from: None, joined_until: None, .. }) = (query.topic, query) {
            // Members only: every member row has its subscription (foreign key, cascade).
            sqlx::query_scalar("SELECT COUNT(*) FROM subscription_topics WHERE topic_id = ?").bind(topic).fetch_one(&self.pool).await?
        } else {
            let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
            push_from_and_filters(&mut count, query, false);
            count.build_query_scalar().fetch_one(&self.pool).await?
        };
        if total == 0 {
            return Ok((Vec::new(), 0));
        }
        let rows = list.build_query_as().fetch_all(&self.pool).await?;
        Ok((rows, total))
    }

    /// Push-service hosts with their subscriber counts, largest first.
    pub async fn subscriber_hosts(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT host, COUNT(*) AS n FROM subscriptions GROUP BY host ORDER BY n DESC, host").fetch_all(&self.pool).await
    }

    /// Deletes one subscription (and deliveries still waiting for it). Returns whether it existed.
    pub async fn delete_subscription(&self, id: i64) -> Result<bool, sqlx::Error> {
        let endpoint: Option<String> =
            sqlx::query_scalar("SELECT endpoint FROM subscriptions WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        match endpoint {
            Some(endpoint) => self.delete_subscription_by_endpoint(&endpoint).await,
            None => Ok(false),
        }
    }

    /// Up to `limit` subscriptions after id `after`, oldest first: an export walks them a
    /// chunk at a time and never holds them all in memory.
    pub async fn export_chunk(&self, after: i64, limit: i64) -> Result<Vec<ExportRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id, s.endpoint, s.p256dh, s.auth, s.created_at,
                (SELECT group_concat(t.name, '|') FROM subscription_topics st JOIN topics t ON t.id = st.topic_id
                 WHERE st.subscription_id = s.id) AS topics
             FROM subscriptions s WHERE s.id > ? ORDER BY s.id LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Imports a batch in one transaction: new endpoints are added, known ones get the new
    /// keys. `topics` (names; created if missing) replace the subscription's topics when
    /// given. Returns, per subscription, whether it was new.
    pub async fn import_subscriptions(
        &self,
        batch: &[(NewSubscription, Option<Vec<String>>)],
    ) -> Result<Vec<Imported>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut results = Vec::with_capacity(batch.len());
        for (subscription, topics) in batch {
            let existed: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM subscriptions WHERE endpoint = ?)")
                .bind(subscription.endpoint.as_str())
                .fetch_one(&mut *tx)
                .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subscriptions (endpoint, host, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
                 RETURNING id",
            )
            .bind(subscription.endpoint.as_str())
            .bind(subscription.endpoint.host())
            .bind(subscription.p256dh.as_str())
            .bind(subscription.auth.as_str())
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
            if let Some(names) = topics {
                sqlx::query("DELETE FROM subscription_topics WHERE subscription_id = ?").bind(id).execute(&mut *tx).await?;
                for name in names {
                    sqlx::query("INSERT INTO topics (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
                        .bind(name)
                        .bind(now())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO subscription_topics (subscription_id, topic_id)
                         SELECT ?, id FROM topics WHERE name = ? ON CONFLICT DO NOTHING",
                    )
                    .bind(id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            results.push(if existed { Imported::Merged } else { Imported::New });
        }
        tx.commit().await?;
        Ok(results)
    }
}

/// FROM and WHERE for the filters present in `query`; `paged` adds the page's cursor.
fn push_from_and_filters(sql: &mut QueryBuilder<'_, Sqlite>, query: &SubscriberQuery, paged: bool) {
    // The column the pages run on: the topic members' when searching a topic.
    let id = match query.topic {
        Some(_) => {
            // CROSS JOIN keeps SQLite from starting at subscriptions and sorting all members.
            sql.push(" FROM subscription_topics m CROSS JOIN subscriptions s ON s.id = m.subscription_id");
            "m.subscription_id"
        }
        None => {
            sql.push(" FROM subscriptions s");
            "s.id"
        }
    };
    let mut clause = " WHERE ";
    let mut and = |sql: &mut QueryBuilder<'_, Sqlite>| {
        sql.push(clause);
        clause = " AND ";
    };
    if let Some(topic) = query.topic {
        and(sql);
        sql.push("m.topic_id = ").push_bind(topic);
    }
    if let Some(host) = &query.host {
        and(sql);
        sql.push("s.host = ").push_bind(host.clone());
    }
    if let Some(from) = query.joined_from {
        and(sql);
        sql.push("s.created_at >= ").push_bind(from);
    }
    if let Some(until) = query.joined_until {
        and(sql);
        sql.push("s.created_at < ").push_bind(until);
    }
    if let (true, Some(before)) = (paged, query.before) {
        and(sql);
        sql.push(format!("{id} < ")).push_bind(before);
    }
}
