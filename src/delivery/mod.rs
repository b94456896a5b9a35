//! The background dispatcher: takes queued campaigns and sends them to every recipient.
//!
//! All state is in the database (campaign and delivery status), so a restart simply
//! resumes: deliveries that were in flight are put back in the queue on start.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::sync::Notify;

use crate::campaign::{NotificationPayload, Urgency};
use crate::push::client::{PushClient, PushMessage};
use crate::push::vapid::VapidKeys;
use crate::store::{CampaignRow, Store};

/// How often to look for work when nobody wakes us (e.g. another process queued it).
const IDLE_POLL: Duration = Duration::from_secs(1);

pub struct Dispatcher {
    pub store: Store,
    pub client: PushClient,
    pub vapid: Arc<VapidKeys>,
    pub wake: Arc<Notify>,
    /// The most push requests in flight at once.
    pub concurrency: usize,
}

impl Dispatcher {
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        match self.store.requeue_interrupted_deliveries().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(deliveries = n, "resuming deliveries interrupted by the last stop"),
            Err(error) => tracing::error!(%error, "could not requeue interrupted deliveries"),
        }
        loop {
            match self.work_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::error!(%error, "dispatcher error; retrying shortly"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    /// Sends one batch of the oldest active campaign. Returns whether there was work.
    async fn work_once(&self) -> Result<bool, sqlx::Error> {
        let Some(campaign) = self.store.next_active_campaign().await? else {
            return Ok(false);
        };
        if campaign.status == "queued" {
            self.store.mark_campaign_sending(campaign.id).await?;
            tracing::info!(campaign = campaign.id, "sending campaign");
        }
        // Several batches' worth keeps every slot busy without holding many rows in memory.
        let batch_size = (self.concurrency * 4).max(64) as i64;
        let recipients = self.store.claim_deliveries(campaign.id, batch_size).await?;
        if recipients.is_empty() {
            if self.store.finish_campaign_if_done(campaign.id).await? {
                tracing::info!(campaign = campaign.id, "campaign sent");
            }
            return Ok(true);
        }
        let message = message_for(&campaign);
        let message = &message;
        let outcomes: Vec<_> = stream::iter(recipients)
            .map(|recipient| async move { self.client.send(&self.vapid, &recipient, message).await })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        self.store.record_outcomes(campaign.id, &outcomes).await?;
        Ok(true)
    }
}

fn message_for(campaign: &CampaignRow) -> PushMessage {
    let payload = NotificationPayload {
        campaign: campaign.id,
        title: campaign.title.clone(),
        body: campaign.body.clone(),
        url: campaign.url.clone(),
        icon: campaign.icon.clone(),
    };
    PushMessage {
        payload: payload.to_bytes(),
        ttl_secs: u32::try_from(campaign.ttl_secs).unwrap_or(0),
        urgency: Urgency::parse(&campaign.urgency).unwrap_or(Urgency::Normal),
        topic: format!("campaign{}", campaign.id),
    }
}
