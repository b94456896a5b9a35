//! The dashboard's *Instances and queue* card.

use leptos::prelude::*;

use super::OperationsStatus;
use crate::error::AppError;

/// How many kinds of recent error the dashboard lists.
#[cfg(feature = "ssr")]
const ERRORS_SHOWN: i64 = 8;

#[server(endpoint = "admin/operations")]
pub async fn operations_overview() -> Result<OperationsStatus, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let store = &state.store;
        let mut instances = store.live_instances().await?;
        let me = state.instance.as_str();
        for instance in &mut instances {
            instance.this_one = instance.id == me;
        }
        Ok(OperationsStatus {
            instances,
            queue: store.queue_depth(crate::clock::now_ms()).await?,
            errors: store.recent_errors(ERRORS_SHOWN).await?,
        })
    })
    .await
}
