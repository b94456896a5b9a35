//! What an operator watches: the running instances, the send queue and the latest delivery
//! errors (on the dashboard), and the same as Prometheus metrics (`/metrics`).

pub mod api;
#[cfg(feature = "ssr")]
pub mod metrics;

use serde::{Deserialize, Serialize};

/// One running Tidings process, as the database knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub id: String,
    pub host: String,
    pub version: String,
    /// Seconds since it started.
    pub up_secs: i64,
    /// Milliseconds since its last heartbeat, by the database's clock.
    pub heartbeat_age_ms: i64,
    /// Deliveries it has claimed and not yet recorded, and of which campaigns.
    pub sending: i64,
    pub campaigns: Vec<i64>,
    /// The instance that answered this request.
    pub this_one: bool,
}

/// Deliveries of running campaigns not yet final.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueDepth {
    /// Pending and due now.
    pub due: i64,
    /// Pending, but not before a later time (a retry's backoff, a paced campaign).
    pub waiting: i64,
    /// Claimed by an instance and being sent.
    pub sending: i64,
    /// Campaigns scheduled for later (their deliveries are made when they start).
    pub scheduled_campaigns: i64,
}

/// One kind of delivery error, as recently seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentError {
    pub error: String,
    pub status_code: Option<i64>,
    pub campaign_id: i64,
    /// How many deliveries got it in the last day.
    pub count: i64,
    pub ago_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationsStatus {
    pub instances: Vec<InstanceStatus>,
    pub queue: QueueDepth,
    pub errors: Vec<RecentError>,
}
