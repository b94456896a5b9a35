//! Backups of an SQLite database, taken while Tidings runs: `VACUUM INTO` writes a
//! consistent, compacted copy in one read transaction, so senders and pages carry on.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::ConnectOptions;

use super::{now, Store};

/// The `settings` row recording the last backup `tidings backup` wrote (Unix seconds).
pub const LAST_BACKUP_SETTING: &str = "last_backup_at";

impl Store {
    /// Writes a consistent copy of this SQLite database to `path` (which must not exist).
    pub async fn backup_into(&self, path: &str) -> Result<(), sqlx::Error> {
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn record_backup(&self) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(LAST_BACKUP_SETTING)
        .bind(now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When `tidings backup` last wrote a backup of this database (Unix seconds).
    pub async fn last_backup_at(&self) -> Result<Option<i64>, sqlx::Error> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(LAST_BACKUP_SETTING)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.and_then(|v| v.parse().ok()))
    }

    /// How long ago (ms) the most recent heartbeat of any instance was, if any instance is
    /// registered: a restore must not pull the file from under a running Tidings.
    pub async fn youngest_heartbeat_age_ms(&self) -> Result<Option<i64>, sqlx::Error> {
        let age: Option<i64> =
            sqlx::query_scalar(&format!("SELECT {} - MAX(heartbeat_at) FROM instances", self.now_ms_sql()))
                .fetch_one(&self.pool)
                .await?;
        Ok(age.map(|age| age.max(0)))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// What a backup file holds ("1200 subscriptions, 2 keys, 14 campaigns"), read without
    /// changing it; an error if it is not a Tidings database.
    pub async fn describe_backup(path: &Path) -> Result<String, String> {
        if !path.is_file() {
            return Err("no such file".into());
        }
        let options = SqliteConnectOptions::new().filename(path).read_only(true).disable_statement_logging();
        let pool = SqlitePool::connect_with(options).await.map_err(|e| e.to_string())?;
        let count = |table: &'static str| {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .map_err(|_| format!("it has no {table} table"))
            }
        };
        let summary = format!(
            "{} subscriptions, {} keys, {} campaigns",
            count("subscriptions").await?,
            count("vapid_keys").await?,
            count("campaigns").await?
        );
        pool.close().await;
        Ok(summary)
    }
}
