//! The background dispatcher: takes running campaigns and sends them to every recipient.
//!
//! All state is in the database (campaign and delivery status, attempts, next attempt
//! time), so a restart simply resumes: deliveries that were in flight are put back in the
//! queue on start.

mod outcome;

pub use outcome::{decide, RetryPolicy};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::sync::Notify;

use crate::campaign::{NotificationPayload, Urgency};
use crate::push::client::{PushClient, PushMessage};
use crate::push::vapid::VapidKeys;
use crate::store::{now_ms, CampaignRow, ClaimedDelivery, Store};

/// The longest the dispatcher sleeps without looking for work (another process may have
/// queued some, or a retry may have come due).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often a running batch checks whether its campaign was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(200);

pub struct Dispatcher {
    pub store: Store,
    pub client: PushClient,
    pub vapid: Arc<VapidKeys>,
    pub wake: Arc<Notify>,
    /// The most push requests in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
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
            let idle = match self.work_once().await {
                Ok(true) => continue,
                Ok(false) => self.time_until_next_due().await,
                Err(error) => {
                    tracing::error!(%error, "dispatcher error; retrying shortly");
                    IDLE_POLL
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Sends one batch of the oldest campaign with due work. Returns whether it did.
    async fn work_once(&self) -> Result<bool, sqlx::Error> {
        for id in self.store.finish_done_campaigns().await? {
            tracing::info!(campaign = id, "campaign finished");
        }
        let Some(campaign) = self.store.next_campaign_with_due_work(now_ms()).await? else {
            return Ok(false);
        };
        if campaign.status == "queued" {
            self.store.mark_campaign_sending(campaign.id).await?;
            tracing::info!(campaign = campaign.id, "sending campaign");
        }
        // Several rounds' worth keeps every slot busy without holding many rows in memory.
        let batch_size = (self.concurrency * 4).max(64) as i64;
        let claimed = self.store.claim_deliveries(campaign.id, batch_size, now_ms()).await?;
        self.send_and_record(&campaign, claimed).await?;
        Ok(true)
    }

    /// Sends to every claimed recipient, at most `concurrency` at a time, and records
    /// outcomes as they come in (so a crash can resend only what was in flight or being
    /// written: at most about twice `concurrency`). If the campaign is cancelled meanwhile,
    /// requests not yet started are not made.
    async fn send_and_record(&self, campaign: &CampaignRow, claimed: Vec<ClaimedDelivery>) -> Result<(), sqlx::Error> {
        let message = Arc::new(message_for(campaign));
        let cancelled = Arc::new(AtomicBool::new(false));
        let retry = self.retry;
        let mut outcomes = stream::iter(claimed)
            .map(|delivery| {
                let (client, vapid, message, cancelled) =
                    (self.client.clone(), self.vapid.clone(), message.clone(), cancelled.clone());
                // Each send is its own task so encryption (the costly part) runs on every
                // core; polled inside one stream, it would all land on one thread.
                tokio::spawn(async move {
                    if cancelled.load(Ordering::Relaxed) {
                        return outcome::untouched(delivery.recipient.id);
                    }
                    let result = client.send(&vapid, &delivery.recipient, &message).await;
                    decide(delivery.recipient.id, result, delivery.attempts, &retry, now_ms(), rand::random())
                })
            })
            .buffer_unordered(self.concurrency)
            .filter_map(|joined| {
                // A panicking send (a bug) loses only its own outcome: the delivery stays
                // claimed and is requeued on the next start, instead of stopping the dispatcher.
                std::future::ready(joined.map_err(|error| tracing::error!(%error, "a send task failed")).ok())
            })
            .ready_chunks(self.concurrency);
        let mut cancel_check = tokio::time::interval(CANCEL_CHECK);
        loop {
            tokio::select! {
                chunk = outcomes.next() => {
                    let Some(chunk) = chunk else { return Ok(()) };
                    self.store.record_outcomes(campaign.id, &chunk).await?;
                    if chunk.iter().any(|o| matches!(o.status_code, Some(401 | 403))) {
                        self.store.flag_vapid_rejections(campaign.id).await?;
                    }
                }
                _ = cancel_check.tick(), if !cancelled.load(Ordering::Relaxed) => {
                    if self.store.campaign_status(campaign.id).await?.as_deref() == Some("cancelled") {
                        tracing::info!(campaign = campaign.id, "cancelled: no new pushes for it");
                        cancelled.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    async fn time_until_next_due(&self) -> Duration {
        match self.store.next_due_at().await {
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)).min(IDLE_POLL),
            _ => IDLE_POLL,
        }
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
        // Derived from the campaign, so a copy resent after a crash replaces the first.
        topic: format!("campaign{}", campaign.id),
    }
}
