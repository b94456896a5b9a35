//! Failed sign-ins, counted per key (user name or address) within a window; the policy is
//! in `admin::throttle`.

use super::Store;

impl Store {
    /// Counts a sign-in attempt as failed *before* its password is checked, so concurrent
    /// attempts cannot all pass a check that none has been counted against yet. Returns
    /// the start of the window that refuses it, or `None` if it may go on.
    ///
    /// The address is strict: its `max_failures + 1`th attempt in a window is refused.
    /// The user name locks only addresses that have failed before in the window, so
    /// strangers repeating wrong guesses cannot lock the real admin out; with no address
    /// known, it locks everyone. Expired windows start afresh within the same statement.
    pub async fn reserve_sign_in(
        &self,
        user_key: &str,
        address_key: Option<&str>,
        max_failures: i64,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        // Outside the transaction: deleting rows in no particular order beside the row
        // locks below could deadlock two attempts on PostgreSQL.
        sqlx::query("DELETE FROM sign_in_failures WHERE started_at <= $1")
            .bind(now_ms - window_ms)
            .execute(&self.pool)
            .await?;
        let mut tx = self.begin().await?;
        // The upsert locks the row until commit: attempts on one key count one at a time.
        let count = "INSERT INTO sign_in_failures (key, failures, started_at) VALUES ($1, 1, $2)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN sign_in_failures.started_at <= $3 THEN 1 ELSE sign_in_failures.failures + 1 END,
                       started_at = CASE WHEN sign_in_failures.started_at <= $3 THEN $2 ELSE sign_in_failures.started_at END
                     RETURNING failures, started_at";
        let address_failed_before = match address_key {
            Some(address) => {
                let (failures, started): (i64, i64) = sqlx::query_as(count)
                    .bind(address)
                    .bind(now_ms)
                    .bind(now_ms - window_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                if failures > max_failures {
                    tx.commit().await?;
                    return Ok(Some(started));
                }
                failures > 1
            }
            None => true,
        };
        let user: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, started_at FROM sign_in_failures WHERE key = $1 AND started_at > $2")
                .bind(user_key)
                .bind(now_ms - window_ms)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((failures, started)) = user {
            if failures >= max_failures && address_failed_before {
                tx.commit().await?;
                return Ok(Some(started));
            }
        }
        sqlx::query(count).bind(user_key).bind(now_ms).bind(now_ms - window_ms).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(None)
    }

    /// Takes back one attempt counted by [`Store::reserve_sign_in`] (it succeeded).
    pub async fn release_sign_in(&self, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sign_in_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets the failures of `key` (a user name that signed in).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}
