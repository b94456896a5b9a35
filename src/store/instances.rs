//! Running instances and their claims. Every process that sends announces itself with a
//! heartbeat; each delivery it claims names it (`deliveries.claimed_by`). When an instance
//! stops beating for longer than the lease, it is taken for dead and its claimed deliveries
//! go back to the queue for the others. An instance that was only stalled (a frozen VM,
//! say) beats again and carries on; the deliveries it had may then be sent twice, which
//! the campaign's Topic header and the notification tag collapse into one notification.

use super::Store;

/// This process's name in `instances` and `deliveries.claimed_by`: random, new at every
/// start, so a restarted process never mistakes its predecessor's claims for its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn generate() -> Self {
        Self(format!("{:016x}", rand::random::<u64>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Store {
    /// Records that `me` is alive at `now_ms`.
    pub async fn heartbeat(&self, me: &InstanceId, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(me.as_str())
        .bind(now_ms / 1000)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets `me` on a clean stop, so whatever it still had claimed is taken over at once
    /// instead of after the lease.
    pub async fn retire_instance(&self, me: &InstanceId) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM instances WHERE id = $1").bind(me.as_str()).execute(&self.pool).await?;
        Ok(())
    }

    /// Forgets instances silent since before `stale_before_ms` and puts the deliveries
    /// claimed by any instance no longer known back in the queue. Returns how many.
    pub async fn reclaim_orphaned_deliveries(&self, stale_before_ms: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1").bind(stale_before_ms).execute(&mut *tx).await?;
        let reclaimed = sqlx::query(
            "UPDATE deliveries SET status = 'pending', claimed_by = NULL
             WHERE status = 'sending'
               AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM instances))",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(reclaimed.rows_affected())
    }
}
