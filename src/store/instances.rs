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

/// The database's clock in Unix milliseconds, as SQL: every instance compares heartbeats
/// against this one clock, so an instance whose own clock is wrong (a VM resumed with a
/// stale clock, a host without NTP) neither takes a healthy peer for dead nor looks alive.
const SQLITE_NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
const POSTGRES_NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

impl Store {
    pub(super) fn now_ms_sql(&self) -> &'static str {
        self.sql(SQLITE_NOW_MS, POSTGRES_NOW_MS)
    }

    /// Records that `me` is alive now, by the database's clock (and, the first time,
    /// where it runs and which build it is, for the dashboard).
    pub async fn heartbeat(&self, me: &InstanceId) -> Result<(), sqlx::Error> {
        let now = self.now_ms_sql();
        sqlx::query(&format!(
            "INSERT INTO instances (id, started_at, heartbeat_at, host, version) VALUES ($1, {now} / 1000, {now}, $2, $3)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at"
        ))
        .bind(me.as_str())
        .bind(host_name())
        .bind(env!("CARGO_PKG_VERSION"))
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

    /// Puts back in the queue what `me` still holds (of `campaign`, or of every campaign):
    /// after its send pipeline ended, nothing it claimed may wait for a restart.
    pub async fn release_claims(&self, me: &InstanceId, campaign: Option<i64>) -> Result<u64, sqlx::Error> {
        let release = "UPDATE deliveries SET status = 'pending', claimed_by = NULL
                       WHERE status = 'sending' AND claimed_by = $1";
        let released = match campaign {
            Some(id) => {
                sqlx::query(&format!("{release} AND campaign_id = $2"))
                    .bind(me.as_str())
                    .bind(id)
                    .execute(&self.pool)
                    .await?
            }
            None => sqlx::query(release).bind(me.as_str()).execute(&self.pool).await?,
        };
        Ok(released.rows_affected())
    }

    /// Forgets instances silent for longer than `lease_ms` (by the database's clock) and
    /// puts the deliveries claimed by any instance no longer known back in the queue.
    /// Returns how many.
    pub async fn reclaim_orphaned_deliveries(&self, lease_ms: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!("DELETE FROM instances WHERE heartbeat_at < {} - $1", self.now_ms_sql()))
            .bind(lease_ms)
            .execute(&mut *tx)
            .await?;
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

/// This machine's name (the kernel's, as `hostname` prints it).
fn host_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into())
    })
}
