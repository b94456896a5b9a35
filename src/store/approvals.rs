//! Campaigns that wait for an owner's approval (see `admin::role`): an editor's campaign
//! to a site that requires it is kept as a draft with a request, until another admin who
//! is an owner approves it (it is then queued or scheduled) or declines it.

use super::campaigns::{create_deliveries, Queued};
use super::{now, Store};
use crate::campaign::Audience;

/// What became of an approval or a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// Approved: queued, or scheduled for this Unix time.
    Approved {
        scheduled_at: Option<i64>,
    },
    Declined,
    /// No such campaign, or it is not waiting for approval (any more).
    NotWaiting,
    /// The reviewer asked for it themselves: approval needs another admin.
    OwnRequest,
    /// Approved to go now, but nobody is in its audience any more: it stays waiting.
    NobodyToReach,
}

/// A request for approval, for the campaign page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApprovalRow {
    pub requested_by: Option<String>,
    pub requested_at: Option<i64>,
    pub send_at: Option<i64>,
    pub reviewed_by: Option<String>,
    pub review_note: Option<String>,
    pub waiting: i64,
}

impl Store {
    /// Whether a campaign to `audience` sent by an editor needs an owner's approval: one
    /// of its active sites (every active site, for "all sites") requires it.
    pub async fn needs_approval(&self, audience: &Audience) -> Result<bool, sqlx::Error> {
        let sites: Vec<i64> = audience.sites.iter().map(|s| s.0).collect();
        let any: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM sites WHERE archived_at IS NULL AND requires_approval
               AND ($1 = 0 OR {}) LIMIT 1",
            self.in_ids("id", 2)
        ))
        .bind(sites.len() as i64)
        .bind(super::id_list(sites))
        .fetch_optional(&self.pool)
        .await?;
        Ok(any.is_some())
    }

    pub async fn set_site_requires_approval(&self, site: i64, required: bool) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE sites SET requires_approval = $1 WHERE id = $2")
            .bind(required)
            .bind(site)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Marks the draft `id` as waiting for approval, asked by admin `by`, to start at
    /// `send_at` (`None`: as soon as it is approved).
    pub async fn request_approval(&self, id: i64, by: i64, send_at: Option<i64>) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE campaigns SET approval_requested_by = $1, approval_requested_at = $2, approval_send_at = $3,
                    reviewed_by = NULL, review_note = NULL
             WHERE id = $4 AND status = 'draft'",
        )
        .bind(by)
        .bind(now())
        .bind(send_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Approves or declines (`approve`) the campaign waiting for approval `id`, as admin
    /// `by`. One transaction whose first step only succeeds while the same request still
    /// waits, so two owners approving at once queue it once. An approved campaign whose
    /// time has passed is queued now.
    pub async fn review_campaign(
        &self,
        id: i64,
        by: i64,
        approve: bool,
        note: Option<&str>,
    ) -> Result<Review, sqlx::Error> {
        let mut tx = self.begin().await?;
        let request: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT approval_requested_by, approval_send_at FROM campaigns
             WHERE id = $1 AND status = 'draft' AND approval_requested_by IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((requested_by, send_at)) = request else { return Ok(Review::NotWaiting) };
        if requested_by == by {
            return Ok(Review::OwnRequest);
        }
        let scheduled_at = send_at.filter(|at| *at > now());
        let status = match (approve, scheduled_at) {
            (false, _) => "draft",
            (true, Some(_)) => "scheduled",
            (true, None) => "queued",
        };
        let changed = sqlx::query(
            "UPDATE campaigns SET status = $1, scheduled_at = $2, reviewed_by = $3, review_note = $4,
                    approval_requested_by = NULL, approval_requested_at = NULL, approval_send_at = NULL
             WHERE id = $5 AND status = 'draft' AND approval_requested_by = $6",
        )
        .bind(status)
        .bind(if approve { scheduled_at } else { None })
        .bind(by)
        .bind(note)
        .bind(id)
        .bind(requested_by)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Ok(Review::NotWaiting);
        }
        let queued = if status == "queued" { Some(create_deliveries(&mut tx, id, now()).await?) } else { None };
        if queued.is_some_and(Queued::reaches_nobody) {
            tx.rollback().await?;
            return Ok(Review::NobodyToReach);
        }
        tx.commit().await?;
        self.after_queueing(queued).await;
        Ok(if approve { Review::Approved { scheduled_at } } else { Review::Declined })
    }

    /// The campaign's request for approval and its last review, if any.
    pub async fn approval(&self, id: i64) -> Result<Option<ApprovalRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT r.username AS requested_by, c.approval_requested_at AS requested_at, c.approval_send_at AS send_at,
                    v.username AS reviewed_by, c.review_note,
                    CASE WHEN c.approval_requested_by IS NULL THEN 0 ELSE 1 END AS waiting
             FROM campaigns c
             LEFT JOIN admins r ON r.id = c.approval_requested_by
             LEFT JOIN admins v ON v.id = c.reviewed_by
             WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }
}
