//! What every server function and the dispatcher share, built once at start.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::error::AppError;
use crate::keys::ring::KeyRing;
use crate::push::client::PushClient;
use crate::push::endpoint::EndpointPolicy;
use crate::store::{InstanceId, Store};
use crate::tracking::token::{TrackLimiter, TrackingKey};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// The VAPID key pairs: the current one for new subscriptions, each for its own.
    pub keys: Arc<KeyRing>,
    /// Wakes the dispatcher when a campaign is queued, instead of waiting for its next poll.
    pub dispatcher_wake: Arc<Notify>,
    /// Wakes the webhook sender when an owner asks for a post again.
    pub webhook_wake: Arc<Notify>,
    /// Signs the delivery tokens inside push messages and checks them when reported back.
    pub tracking_key: Arc<TrackingKey>,
    pub track_limiter: Arc<TrackLimiter>,
    /// Requests per second per API key.
    pub api_limiter: Arc<crate::api::limit::ApiLimiter>,
    /// The outbound push client, shared with the dispatcher (test sends use it too).
    pub push: PushClient,
    /// This process among the instances sharing the database.
    pub instance: InstanceId,
}

impl AppState {
    /// The state inside a server function (provided as context by the router).
    pub fn get() -> Result<Self, AppError> {
        leptos::prelude::use_context::<Self>()
            .ok_or_else(|| crate::error::ssr::internal("AppState missing from context"))
    }

    pub fn endpoint_policy(&self) -> EndpointPolicy {
        self.config.endpoint_policy.clone()
    }
}
