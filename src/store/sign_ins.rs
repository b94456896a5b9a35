//! Failed sign-ins, counted per key (user name or address) within a window; the policy is
//! in `admin::throttle`.

use super::Store;

impl Store {
    /// When the window of the most recently locked of `keys` began: the latest window start
    /// among keys with at least `max_failures` failures in a window begun after
    /// `window_start_after_ms`. `None` if none is locked.
    pub async fn locked_since(&self, keys: &[String], max_failures: i64, window_start_after_ms: i64) -> Result<Option<i64>, sqlx::Error> {
        let mut latest = None;
        for key in keys {
            let started: Option<i64> = sqlx::query_scalar(
                "SELECT started_at FROM sign_in_failures WHERE key = $1 AND failures >= $2 AND started_at > $3",
            )
            .bind(key)
            .bind(max_failures)
            .bind(window_start_after_ms)
            .fetch_optional(&self.pool)
            .await?;
            latest = latest.max(started);
        }
        Ok(latest)
    }

    /// Counts one failure for each of `keys`, starting a new window for a key whose last
    /// one began `window_ms` or more ago. Expired windows are dropped on the way, which
    /// bounds the table under a spray of addresses.
    pub async fn count_sign_in_failure(&self, keys: &[String], now_ms: i64, window_ms: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE started_at <= $1").bind(now_ms - window_ms).execute(&mut *tx).await?;
        for key in keys {
            // The row was just deleted if its window had passed, so an existing one counts on.
            sqlx::query(
                "INSERT INTO sign_in_failures (key, failures, started_at) VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE SET failures = sign_in_failures.failures + 1",
            )
            .bind(key)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Forgets the failures of `key` (a user name that signed in).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}
