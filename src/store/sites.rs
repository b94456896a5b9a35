use super::{id_list, now, Store};
use crate::site::{SiteId, SiteName, SiteOrigin, SiteSummary, WidgetSettings, WorkerPath};

/// A site's row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteRow {
    pub id: i64,
    pub name: String,
    pub origin: Option<String>,
    pub worker_path: String,
    /// JSON of [`WidgetSettings`].
    pub widget: String,
    pub user_secret: Option<String>,
    pub archived_at: Option<i64>,
    /// 1 when editors' campaigns to it wait for an owner's approval.
    pub requires_approval: i64,
    pub cap_per_day: Option<i64>,
    pub cap_per_week: Option<i64>,
}

impl SiteRow {
    pub fn cap(&self) -> crate::site::FrequencyCap {
        // Stored only from a checked cap; the columns' CHECKs keep them in range.
        let read = |n: Option<i64>| n.and_then(|n| u16::try_from(n).ok());
        crate::site::FrequencyCap { per_day: read(self.cap_per_day), per_week: read(self.cap_per_week) }
    }

    pub fn widget(&self) -> WidgetSettings {
        // Written only from a checked WidgetSettings; a newer build's extra keys are ignored.
        serde_json::from_str(&self.widget).unwrap_or_default()
    }
}

const SITE_ROW: &str = "SELECT id, name, origin, worker_path, widget, user_secret, archived_at,
        CASE WHEN requires_approval THEN 1 ELSE 0 END AS requires_approval, cap_per_day, cap_per_week FROM sites";

impl Store {
    /// Every site with its subscriber count: active ones first (the own page first of
    /// those), then by name.
    pub async fn sites(&self) -> Result<Vec<SiteSummary>, sqlx::Error> {
        // (id, name, origin, archived_at, subscribers)
        type Row = (i64, String, Option<String>, Option<i64>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.id, s.name, s.origin, s.archived_at,
                    (SELECT COUNT(*) FROM subscriptions x WHERE x.site_id = s.id) AS subscribers
             FROM sites s ORDER BY s.archived_at IS NOT NULL, s.origin IS NOT NULL, s.name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, origin, archived_at, subscribers)| SiteSummary {
                id,
                name,
                origin,
                archived: archived_at.is_some(),
                subscribers,
            })
            .collect())
    }

    /// The site's frequency cap (see `FrequencyCap`).
    pub async fn set_site_cap(&self, site: i64, cap: crate::site::FrequencyCap) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE sites SET cap_per_day = $1, cap_per_week = $2 WHERE id = $3")
            .bind(cap.per_day.map(i64::from))
            .bind(cap.per_week.map(i64::from))
            .bind(site)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn site(&self, id: SiteId) -> Result<Option<SiteRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SITE_ROW} WHERE id = $1")).bind(id.0).fetch_optional(&self.pool).await
    }

    /// The active (not archived) site registered for `origin`.
    pub async fn active_site_by_origin(&self, origin: &SiteOrigin) -> Result<Option<SiteRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SITE_ROW} WHERE origin = $1 AND archived_at IS NULL"))
            .bind(origin.as_str())
            .fetch_optional(&self.pool)
            .await
    }

    /// Adds a site with a default widget; `None` if the origin is registered already.
    pub async fn create_site(&self, name: &SiteName, origin: &SiteOrigin) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO sites (name, origin, widget, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (origin) DO NOTHING RETURNING id",
        )
        .bind(name.as_str())
        .bind(origin.as_str())
        .bind(serde_json::to_string(&WidgetSettings::default()).expect("settings serialize"))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
    }

    /// Saves a site's settings. The own page keeps its empty origin whatever `origin` says.
    /// Ok(false) if there is no such site; a taken origin is a unique violation.
    pub async fn update_site(
        &self,
        id: SiteId,
        name: &SiteName,
        origin: Option<&SiteOrigin>,
        worker_path: &WorkerPath,
        widget: &WidgetSettings,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE sites SET name = $1, origin = CASE WHEN origin IS NULL THEN NULL ELSE $2 END,
                    worker_path = $3, widget = $4
             WHERE id = $5",
        )
        .bind(name.as_str())
        .bind(origin.map(SiteOrigin::as_str))
        .bind(worker_path.as_str())
        .bind(serde_json::to_string(widget).expect("settings serialize"))
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Archives (or restores) a site; the own page cannot be archived. Returns whether it changed.
    pub async fn set_site_archived(&self, id: SiteId, archived: bool) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE sites SET archived_at = CASE WHEN $1 THEN COALESCE(archived_at, $2) END
             WHERE id = $3 AND origin IS NOT NULL",
        )
        .bind(archived)
        .bind(now())
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn set_site_user_secret(&self, id: SiteId, secret: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE sites SET user_secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Which of `ids` are not active sites (unknown or archived).
    pub async fn inactive_sites(&self, ids: &[SiteId]) -> Result<Vec<SiteId>, sqlx::Error> {
        let inactive: Vec<i64> = sqlx::query_scalar(&format!(
            "WITH chosen (id) AS ({}) SELECT id FROM chosen WHERE id NOT IN (SELECT id FROM sites WHERE archived_at IS NULL)",
            self.ids_in(1)
        ))
        .bind(id_list(ids.iter().map(|s| s.0)))
        .fetch_all(&self.pool)
        .await?;
        Ok(inactive.into_iter().map(SiteId).collect())
    }
}
