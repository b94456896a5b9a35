//! The audit log: appended to, read, never changed (the database refuses updates).

use super::{now, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub address: Option<String>,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Store {
    pub async fn append_audit(
        &self,
        actor: &str,
        address: Option<&str>,
        action: &str,
        target: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, address, action, target, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now())
        .bind(actor)
        .bind(address)
        .bind(action)
        .bind(target)
        .bind(before)
        .bind(after)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Entries older than `before_id` (`None`: the newest), newest first, whose actor
    /// contains `actor` and whose action starts with `action` (either may be empty).
    pub async fn audit_entries(
        &self,
        actor: &str,
        action: &str,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, sqlx::Error> {
        let like = |text: &str| format!("{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sqlx::query_as(
            "SELECT id, at, actor, address, action, target, before, after FROM audit_log
             WHERE id < $1 AND LOWER(actor) LIKE LOWER($2) ESCAPE '\\' AND action LIKE $3 ESCAPE '\\'
             ORDER BY id DESC LIMIT $4",
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(format!("%{}", like(actor)))
        .bind(like(action))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}
