//! API keys and the answers kept for idempotent requests.

use super::{now, Store, LAST_SUCCESS_AT};

/// A key as stored: the token itself is not, only its hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub token_hint: String,
    /// Comma-separated scope names.
    pub scopes: String,
    /// Comma-separated site ids; `None`: every site.
    pub site_ids: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_from: Option<String>,
}

const KEY_ROW: &str = "SELECT k.id, k.name, k.token_hint, k.scopes, k.site_ids, a.username AS created_by, k.created_at,
                              k.revoked_at, k.last_used_at, k.last_used_from
                       FROM api_keys k LEFT JOIN admins a ON a.id = k.created_by";

/// How stale `last_used_at` may get: every request would otherwise be a write.
const TOUCH_EVERY_SECS: i64 = 60;

/// What is remembered of an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembered {
    /// First time: the caller answers it, then [`Store::remember_answer`].
    New,
    /// Answered before with the same body: this status and body again.
    Answer { status: u16, body: String },
    /// The same key came with a different body.
    OtherBody,
    /// The first request with this key is still being answered.
    InProgress,
}

impl Store {
    pub async fn create_api_key(
        &self,
        name: &str,
        token_hash: &str,
        token_hint: &str,
        scopes: &str,
        site_ids: Option<&str>,
        created_by: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO api_keys (name, token_hash, token_hint, scopes, site_ids, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(name)
        .bind(token_hash)
        .bind(token_hint)
        .bind(scopes)
        .bind(site_ids)
        .bind(created_by)
        .bind(now())
        .fetch_one(&self.pool)
        .await
    }

    /// Every key, live ones first, newest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} ORDER BY k.revoked_at IS NOT NULL, k.id DESC")).fetch_all(&self.pool).await
    }

    /// The live key whose token hashes to `token_hash`.
    pub async fn live_api_key(&self, token_hash: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} WHERE k.token_hash = $1 AND k.revoked_at IS NULL"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// Revokes a live key at once (the next request with it is refused). Whether it was live.
    pub async fn revoke_api_key(&self, id: i64) -> Result<bool, sqlx::Error> {
        let revoked = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(revoked.rows_affected() == 1)
    }

    /// Notes a key's use, at most once a minute.
    pub async fn touch_api_key(&self, id: i64, from: &str) -> Result<(), sqlx::Error> {
        let at = now();
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1, last_used_from = $2
             WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $4 OR last_used_from <> $2)",
        )
        .bind(at)
        .bind(from)
        .bind(id)
        .bind(at - TOUCH_EVERY_SECS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims `key` for a request whose body hashes to `request_hash`, or says what became
    /// of the first request with it. Atomic: of two requests racing with one key, one is
    /// `New` and the other waits for its answer (`InProgress`). Keys older than a day are
    /// forgotten first.
    pub async fn claim_idempotency_key(
        &self,
        api_key: i64,
        key: &str,
        request_hash: &str,
    ) -> Result<Remembered, sqlx::Error> {
        let at = now();
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(at - 86_400).execute(&self.pool).await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (api_key_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (api_key_id, key) DO NOTHING",
        )
        .bind(api_key)
        .bind(key)
        .bind(request_hash)
        .bind(at)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Remembered::New);
        }
        let (hash, status, body): (String, Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE api_key_id = $1 AND key = $2",
        )
        .bind(api_key)
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        Ok(match (hash == request_hash, status, body) {
            (false, ..) => Remembered::OtherBody,
            (true, Some(status), Some(body)) => Remembered::Answer { status: status as u16, body },
            (true, ..) => Remembered::InProgress,
        })
    }

    /// Keeps the answer to a claimed key; `None` forgets the claim (a failure the caller
    /// may retry with the same key).
    pub async fn remember_answer(
        &self,
        api_key: i64,
        key: &str,
        answer: Option<(u16, &str)>,
    ) -> Result<(), sqlx::Error> {
        match answer {
            Some((status, body)) => {
                sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE api_key_id = $3 AND key = $4")
                    .bind(i64::from(status))
                    .bind(body)
                    .bind(api_key)
                    .bind(key)
                    .execute(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2")
                    .bind(api_key)
                    .bind(key)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }
}

/// A subscription as the API shows it (never its endpoint or keys: they are the browser's
/// capability).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiSubscriberRow {
    pub id: i64,
    pub site_id: i64,
    /// The push service's host.
    pub host: String,
    pub created_at: i64,
    pub user_id: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub last_success_at: Option<i64>,
}

/// The API's view of the subscriptions matching `filter` (what follows `FROM subscriptions s`).
fn subscriber_rows(filter: &str) -> String {
    format!("SELECT id, site_id, host, created_at, user_id, language, time_zone, {LAST_SUCCESS_AT} FROM subscriptions s {filter}")
}

impl Store {
    pub async fn api_subscriber(&self, id: i64) -> Result<Option<ApiSubscriberRow>, sqlx::Error> {
        sqlx::query_as(&subscriber_rows("WHERE id = $1")).bind(id).fetch_optional(&self.pool).await
    }

    pub async fn api_subscriber_by_endpoint(&self, endpoint: &str) -> Result<Option<ApiSubscriberRow>, sqlx::Error> {
        sqlx::query_as(&subscriber_rows("WHERE endpoint = $1")).bind(endpoint).fetch_optional(&self.pool).await
    }

    /// Every subscription of a site's signed-in user, on every device and site.
    pub async fn api_subscribers_of_user(&self, user_id: &str) -> Result<Vec<ApiSubscriberRow>, sqlx::Error> {
        sqlx::query_as(&subscriber_rows("WHERE user_id = $1 ORDER BY id")).bind(user_id).fetch_all(&self.pool).await
    }
}
