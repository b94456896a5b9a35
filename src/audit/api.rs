//! Reading the audit log: a page at a time with filters, or all of it as CSV.

use leptos::prelude::*;

use super::AuditEntry;
use crate::error::AppError;

/// Entries one page shows.
pub const PAGE: i64 = 100;

/// Entries older than `before` (empty: the newest), whose actor contains `actor` and whose
/// action starts with `action`.
#[server(endpoint = "admin/audit_log")]
pub async fn audit_log(
    #[server(default)] actor: String,
    #[server(default)] action: String,
    #[server(default)] before: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_role(crate::admin::role::Role::Owner).await?.zone();
        let rows = state.store.audit_entries(actor.trim(), action.trim(), before, PAGE).await?;
        Ok(rows
            .into_iter()
            .map(|row| AuditEntry {
                id: row.id,
                at: zone.format(row.at),
                actor: row.actor,
                address: row.address,
                action: row.action,
                target: row.target,
                before: row.before,
                after: row.after,
            })
            .collect())
    })
    .await
}

/// `GET /admin/audit.csv`: every entry (filtered as the page is), oldest first, for an
/// owner to keep or hand to an auditor. Times are UTC (RFC 3339).
#[cfg(feature = "ssr")]
pub async fn export_csv(
    state: crate::state::AppState,
    session: tower_sessions::Session,
    axum::extract::Query(filter): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let admin = match crate::session::admin_of(&state.store, &session).await {
        Ok(Some(admin)) => match admin.may(crate::admin::role::Role::Owner) {
            Ok(()) => admin,
            Err(refused) => return crate::security::error_response(refused),
        },
        Ok(None) => return crate::security::error_response(AppError::Unauthorized),
        Err(error) => return crate::security::error_response(error),
    };
    let text = |key: &str| filter.get(key).map(|v| v.trim().to_owned()).unwrap_or_default();
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        match state.store.audit_entries(&text("actor"), &text("action"), before, 1000).await {
            Ok(page) if page.is_empty() => break,
            Ok(page) => {
                before = page.last().map(|r| r.id);
                rows.extend(page);
            }
            Err(error) => return crate::security::error_response(error.into()),
        }
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record(["id", "at", "actor", "address", "action", "target", "before", "after"]);
    for row in rows.iter().rev() {
        let at = chrono::DateTime::<chrono::Utc>::from_timestamp(row.at, 0).unwrap_or_default().to_rfc3339();
        let _ = csv.write_record([
            row.id.to_string().as_str(),
            &at,
            &row.actor,
            row.address.as_deref().unwrap_or(""),
            &row.action,
            &row.target,
            row.before.as_deref().unwrap_or(""),
            row.after.as_deref().unwrap_or(""),
        ]);
    }
    tracing::info!(admin = %admin.username, entries = rows.len(), "audit log exported");
    let body = csv.into_inner().unwrap_or_default();
    (
        [
            (http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (http::header::CONTENT_DISPOSITION, "attachment; filename=\"tidings-audit.csv\""),
        ],
        body,
    )
        .into_response()
}
