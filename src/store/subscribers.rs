//! The admin's view of subscriptions: search, pages, export and import.

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

use super::{now, Store, LAST_SUCCESS_AT};
use crate::subscription::consent::browser_family;
use crate::subscription::parse::NewSubscription;
use crate::subscription::ConsentReceipt;
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
    #[sqlx(flatten)]
    pub receipt: ReceiptColumns,
}

/// A subscription's site and consent receipt as stored (see `subscription::consent`).
#[derive(Debug, sqlx::FromRow)]
pub struct ReceiptColumns {
    /// The site's name.
    pub site: String,
    pub user_agent: Option<String>,
    pub consent_page: Option<String>,
    pub consent_text: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub user_id: Option<String>,
}

impl ReceiptColumns {
    /// The receipt as admins read it (the browser family, not the whole user agent).
    pub fn receipt(&self) -> ConsentReceipt {
        ConsentReceipt {
            page: self.consent_page.clone(),
            prompt: self.consent_text.clone(),
            browser: self.user_agent.as_deref().map(|ua| browser_family(ua).to_owned()),
            language: self.language.clone(),
            time_zone: self.time_zone.clone(),
            user_id: self.user_id.clone(),
        }
    }
}

/// The columns of [`ReceiptColumns`], for a query on `subscriptions s`.
const RECEIPT_COLUMNS: &str = "(SELECT name FROM sites WHERE id = s.site_id) AS site, s.user_agent,
    s.consent_page, s.consent_text, s.language, s.time_zone, s.user_id";

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
    /// The VAPID public key the browser subscribed with (its `applicationServerKey`).
    pub public_key: Option<String>,
    #[sqlx(flatten)]
    pub receipt: ReceiptColumns,
}

/// A subscription from an import file, checked.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub subscription: NewSubscription,
    /// Topic names (created if missing) that replace the subscription's; `None`: keep them.
    pub topics: Option<Vec<String>>,
    /// The VAPID key the browser subscribed with.
    pub key: i64,
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
    pub async fn subscriber_page(
        &self,
        query: &SubscriberQuery,
        page_size: i64,
    ) -> Result<(Vec<SubscriberListRow>, i64), sqlx::Error> {
        // Counted first: with no match the page is skipped, where walking every row by id
        // looking for one would take longest.
        let total: i64 = if let (
            Some(topic),
            SubscriberQuery { host: None, site: None, user: None, joined_from: None, joined_until: None, .. },
        ) = (query.topic, query)
        {
            // Members only: every member row has its subscription (foreign key, cascade).
            sqlx::query_scalar("SELECT COUNT(*) FROM subscription_topics WHERE topic_id = $1")
                .bind(topic)
                .fetch_one(&self.pool)
                .await?
        } else {
            let count = self.filtered("SELECT COUNT(*)", query, false);
            sqlx::query_scalar_with(&count.sql, count.args).fetch_one(&self.pool).await?
        };
        if total == 0 {
            return Ok((Vec::new(), 0));
        }
        let mut list = self.filtered(
            &format!(
                "SELECT s.id, s.host, s.endpoint, s.created_at, {LAST_SUCCESS_AT},
                    (SELECT string_agg(t.name, ', ') FROM subscription_topics st JOIN topics t ON t.id = st.topic_id
                     WHERE st.subscription_id = s.id) AS topics, {RECEIPT_COLUMNS}"
            ),
            query,
            true,
        );
        list.sql.push_str(if query.topic.is_some() {
            " ORDER BY m.subscription_id DESC"
        } else {
            " ORDER BY s.id DESC"
        });
        let limit = list.bind(page_size);
        list.sql.push_str(&format!(" LIMIT {limit}"));
        let rows = sqlx::query_as_with(&list.sql, list.args).fetch_all(&self.pool).await?;
        Ok((rows, total))
    }

    /// Push-service hosts with their subscriber counts, largest first.
    pub async fn subscriber_hosts(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT host, COUNT(*) AS n FROM subscriptions GROUP BY host ORDER BY n DESC, host")
            .fetch_all(&self.pool)
            .await
    }

    /// Up to `limit` subscriptions after id `after`, oldest first: an export walks them a
    /// chunk at a time and never holds them all in memory.
    pub async fn export_chunk(&self, after: i64, limit: i64) -> Result<Vec<ExportRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT s.id, s.endpoint, s.p256dh, s.auth, s.created_at,
                (SELECT string_agg(t.name, '|') FROM subscription_topics st JOIN topics t ON t.id = st.topic_id
                 WHERE st.subscription_id = s.id) AS topics,
                (SELECT k.public_key FROM vapid_keys k WHERE k.id = s.key_id) AS public_key, {RECEIPT_COLUMNS}
             FROM subscriptions s WHERE s.id > $1 ORDER BY s.id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Imports a batch in one transaction: new endpoints are added, known ones get the new
    /// keys. `topics` (names; created if missing) replace the subscription's topics when
    /// given. Returns, per row, whether its subscription was new.
    ///
    /// The batch goes to the database as JSON, a handful of statements for all of it: one
    /// statement per row (and two per topic) made the import ~140 µs a row, mostly round
    /// trips. The outcome is the one taking the rows one by one would give: an endpoint
    /// named twice gets its last row's keys and the topics of its last row that names any.
    pub async fn import_subscriptions(&self, batch: &[ImportRow]) -> Result<Vec<Imported>, sqlx::Error> {
        use std::collections::{BTreeSet, HashMap, HashSet};

        // Per endpoint, in the order of first mention (new ones get their ids in the file's
        // order), its last row (keys) and its last row with topics.
        let mut order: Vec<&str> = Vec::new();
        let mut last: HashMap<&str, &ImportRow> = HashMap::new();
        let mut topics_of: HashMap<&str, &Vec<String>> = HashMap::new();
        for row in batch {
            let endpoint = row.subscription.endpoint.as_str();
            if last.insert(endpoint, row).is_none() {
                order.push(endpoint);
            }
            if let Some(names) = &row.topics {
                topics_of.insert(endpoint, names);
            }
        }
        let rows: Vec<serde_json::Value> = order
            .iter()
            .map(|endpoint| {
                let row = last[endpoint];
                let s = &row.subscription;
                serde_json::json!({
                    "e": s.endpoint.as_str(), "h": s.endpoint.host(),
                    "p": s.p256dh.as_str(), "a": s.auth.as_str(), "k": row.key,
                })
            })
            .collect();
        let endpoints = serde_json::to_string(&order).expect("strings serialize");

        let mut tx = self.begin().await?;
        let existed: HashSet<String> =
            sqlx::query_scalar(&format!("SELECT endpoint FROM subscriptions WHERE {}", self.in_texts("endpoint", 1)))
                .bind(&endpoints)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let ids: HashMap<String, i64> = sqlx::query_as::<_, (i64, String)>(&format!(
            "INSERT INTO subscriptions (endpoint, host, p256dh, auth, key_id, created_at, imported)
             SELECT {}, $2, 1 {}
             ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, key_id = excluded.key_id
             RETURNING id, endpoint",
            self.sql(
                "json_extract(value, '$.e'), json_extract(value, '$.h'), json_extract(value, '$.p'),
                 json_extract(value, '$.a'), json_extract(value, '$.k')",
                "r ->> 'e', r ->> 'h', r ->> 'p', r ->> 'a', (r ->> 'k')::bigint",
            ),
            // SQLite needs the WHERE to read ON CONFLICT as the upsert, not a join's ON.
            self.sql("FROM json_each($1) WHERE true", "FROM jsonb_array_elements($1::jsonb) r"),
        ))
        .bind(serde_json::Value::Array(rows).to_string())
        .bind(now())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id, endpoint)| (endpoint, id))
        .collect();

        if !topics_of.is_empty() {
            let names: BTreeSet<&str> = topics_of.values().flat_map(|names| names.iter().map(String::as_str)).collect();
            let names = serde_json::to_string(&names).expect("strings serialize");
            sqlx::query(&format!(
                "INSERT INTO topics (name, created_at) SELECT {}, $2 {} ON CONFLICT (name) DO NOTHING",
                self.sql("value", "jsonb_array_elements_text($1::jsonb)"),
                self.sql("FROM json_each($1) WHERE true", ""),
            ))
            .bind(&names)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            let topic_ids: HashMap<String, i64> = sqlx::query_as::<_, (i64, String)>(&format!(
                "SELECT id, name FROM topics WHERE {}",
                self.in_texts("name", 1)
            ))
            .bind(&names)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(id, name)| (name, id))
            .collect();
            let retopic: Vec<i64> = topics_of.keys().filter_map(|endpoint| ids.get(*endpoint).copied()).collect();
            sqlx::query(&format!("DELETE FROM subscription_topics WHERE {}", self.in_ids("subscription_id", 1)))
                .bind(super::id_list(retopic))
                .execute(&mut *tx)
                .await?;
            let pairs: Vec<[i64; 2]> = topics_of
                .iter()
                .filter_map(|(endpoint, names)| Some((ids.get(*endpoint)?, names)))
                .flat_map(|(id, names)| names.iter().filter_map(|name| Some([*id, *topic_ids.get(name)?])))
                .collect();
            sqlx::query(&format!(
                "INSERT INTO subscription_topics (subscription_id, topic_id) SELECT {} ON CONFLICT DO NOTHING",
                self.sql(
                    "json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($1) WHERE true",
                    "(p ->> 0)::bigint, (p ->> 1)::bigint FROM jsonb_array_elements($1::jsonb) p",
                ),
            ))
            .bind(serde_json::to_string(&pairs).expect("integers serialize"))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;

        let mut seen = HashSet::new();
        Ok(batch
            .iter()
            .map(|row| {
                let endpoint = row.subscription.endpoint.as_str();
                if seen.insert(endpoint) && !existed.contains(endpoint) {
                    Imported::New
                } else {
                    Imported::Merged
                }
            })
            .collect())
    }
}

/// A statement being built with its parameters, numbered `$1`, `$2`, … as they are bound.
/// (sqlx's `QueryBuilder` writes `?` for the Any driver, which PostgreSQL does not read.)
struct Filtered {
    sql: String,
    args: AnyArguments<'static>,
}

impl Filtered {
    /// Binds `value` and returns its placeholder.
    fn bind<T: Encode<'static, Any> + Type<Any> + 'static>(&mut self, value: T) -> String {
        self.args.add(value).expect("integers and strings always encode");
        format!("${}", self.args.len())
    }
}

impl Store {
    /// `select` with the FROM and WHERE for the filters present in `query`; `paged` adds
    /// the page's cursor.
    fn filtered(&self, select: &str, query: &SubscriberQuery, paged: bool) -> Filtered {
        let mut sql = Filtered { sql: select.to_owned(), args: AnyArguments::default() };
        // The column the pages run on: the topic members' when searching a topic.
        let id = match query.topic {
            // A page: CROSS JOIN keeps SQLite from starting at subscriptions and sorting
            // all members; PostgreSQL plans that by itself (and has no CROSS JOIN … ON).
            Some(_) if paged => {
                sql.sql.push_str(self.sql(
                    " FROM subscription_topics m CROSS JOIN subscriptions s ON s.id = m.subscription_id",
                    " FROM subscription_topics m JOIN subscriptions s ON s.id = m.subscription_id",
                ));
                "m.subscription_id"
            }
            // The count has no order, so the planner may start at the narrower side: with a
            // host and a date, the range of subscriptions_by_host_created (~40 ms at a
            // million subscriptions) rather than every member of the topic (~700 ms).
            Some(_) => {
                sql.sql.push_str(" FROM subscription_topics m JOIN subscriptions s ON s.id = m.subscription_id");
                "m.subscription_id"
            }
            None => {
                sql.sql.push_str(" FROM subscriptions s");
                "s.id"
            }
        };
        let mut conditions = Vec::new();
        if let Some(topic) = query.topic {
            conditions.push(format!("m.topic_id = {}", sql.bind(topic)));
        }
        if let Some(host) = &query.host {
            conditions.push(format!("s.host = {}", sql.bind(host.clone())));
        }
        if let Some(site) = query.site {
            conditions.push(format!("s.site_id = {}", sql.bind(site)));
        }
        if let Some(user) = &query.user {
            conditions.push(format!("s.user_id = {}", sql.bind(user.clone())));
        }
        if let Some(from) = query.joined_from {
            conditions.push(format!("s.created_at >= {}", sql.bind(from)));
        }
        if let Some(until) = query.joined_until {
            conditions.push(format!("s.created_at < {}", sql.bind(until)));
        }
        if let (true, Some(before)) = (paged, query.before) {
            conditions.push(format!("{id} < {}", sql.bind(before)));
        }
        if !conditions.is_empty() {
            sql.sql.push_str(" WHERE ");
            sql.sql.push_str(&conditions.join(" AND "));
        }
        sql
    }
}
