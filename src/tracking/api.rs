//! The endpoint the service worker reports clicks and dismissals to.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::TrackedEvent;
use crate::error::AppError;

/// Called by `public/sw.js`. Public, but only a genuine delivery token (signed by us, for
/// a delivery that was sent) is counted, once per delivery and kind; reports are
/// rate-limited per address. Answers whether this report was newly counted.
#[server(endpoint = "track")]
pub async fn track(token: String, event: String, action: String) -> Result<bool, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        if let Some(address) = crate::session::peer_address().await {
            state.track_limiter.check(address)?;
        }
        let delivery = state.tracking_key.verify(&token)?;
        let event = TrackedEvent::parse(&event)?;
        let action = match action.as_str() {
            "" => None,
            "0" | "1" => Some(action),
            _ => return Err(AppError::invalid("Unknown action.")),
        };
        let counted =
            state.store.record_event(delivery.campaign, delivery.subscription, event, action.as_deref()).await?;
        if counted {
            let hook = match event {
                TrackedEvent::Click => crate::webhook::WebhookEvent::NotificationClicked,
                TrackedEvent::Close => crate::webhook::WebhookEvent::NotificationDismissed,
            };
            state
                .store
                .emit_notification_webhook(hook, delivery.campaign, delivery.subscription, action.as_deref())
                .await;
            state.webhook_wake.notify_one();
        }
        Ok(counted)
    })
    .await
}
