//! The background dispatcher: takes running campaigns and sends them to every recipient.
//!
//! All state is in the database (campaign and delivery status, attempts, next attempt
//! time), so a restart simply resumes, and several instances can share a campaign: each
//! claims its own deliveries, and the deliveries of an instance that stops beating go back
//! to the queue after its lease (see `store::instances`).

mod outcome;

pub use outcome::{decide, RetryPolicy};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::sync::{mpsc, Notify};

use crate::campaign::{CampaignStatus, NotificationPayload};
use crate::clock::now_ms;
use crate::clock::Clock;
use crate::keys::ring::KeyRing;
use crate::push::client::PushResult;
use crate::push::client::{PushClient, PushMessage};
use crate::store::{CampaignRow, ClaimedDelivery, DeliveryOutcome, InstanceId, Store};
use crate::tracking::token::{DeliveryId, TrackingKey};

/// The longest the dispatcher sleeps without looking for work (another process may have
/// queued some, or a retry may have come due).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often a running batch checks whether its campaign was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(200);

pub struct Dispatcher {
    pub store: Store,
    pub client: PushClient,
    pub keys: Arc<KeyRing>,
    pub tracking_key: Arc<TrackingKey>,
    pub wake: Arc<Notify>,
    /// When scheduled campaigns are due.
    pub clock: Clock,
    /// The most push requests in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// This process, as its claims name it.
    pub instance: InstanceId,
    /// How long this instance may stay silent before others take its claims over.
    pub lease: Duration,
}

impl Dispatcher {
    /// Sends and beats in one task, so that stopping it (as a crash would) also stops the
    /// heartbeat.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            // Announced before the first claim, so no other instance takes it for dead.
            if let Err(error) = self.store.heartbeat(&self.instance, now_ms()).await {
                tracing::error!(%error, "could not announce this instance");
            }
            tokio::join!(self.keep_alive(), self.run());
        })
    }

    /// Beats five times per lease, and puts the deliveries of instances that stopped
    /// beating (this one's predecessor after a crash, say) back in the queue.
    async fn keep_alive(&self) {
        let mut beat = tokio::time::interval(self.lease / 5);
        loop {
            beat.tick().await;
            if let Err(error) = self.store.heartbeat(&self.instance, now_ms()).await {
                tracing::error!(%error, "heartbeat failed; other instances may take over this one's deliveries");
            }
            let silent_since = now_ms() - i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
            match self.store.reclaim_orphaned_deliveries(silent_since).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(deliveries = n, "taking over deliveries claimed by an instance that stopped");
                    self.wake.notify_one();
                }
                Err(error) => tracing::error!(%error, "could not reclaim deliveries of stopped instances"),
            }
        }
    }

    async fn run(&self) {
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

    /// Starts scheduled campaigns that are due, then sends the oldest campaign with due
    /// work until none of it is due. Returns whether there was any.
    async fn work_once(&self) -> Result<bool, sqlx::Error> {
        for id in self.store.start_due_campaigns(self.clock.now()).await? {
            tracing::info!(campaign = id, "scheduled campaign due: queued");
        }
        for id in self.store.finish_done_campaigns().await? {
            tracing::info!(campaign = id, "campaign finished");
        }
        let Some(campaign) = self.store.next_campaign_with_due_work(now_ms()).await? else {
            return Ok(false);
        };
        if campaign.status == CampaignStatus::Queued {
            self.store.mark_campaign_sending(campaign.id).await?;
            tracing::info!(campaign = campaign.id, "sending campaign");
        }
        self.send_campaign(&campaign).await?;
        Ok(true)
    }

    /// A pipeline, so that neither the database nor the network waits for the other:
    /// deliveries are claimed in batches as the senders need them, at most `concurrency`
    /// requests are in flight, and a recorder task writes outcomes as they come in. The
    /// queues between them are small, so a crash can resend only what was in flight or
    /// waiting to be written: at most twice `concurrency`. Once the campaign is cancelled,
    /// nothing more is claimed and requests not yet started are not made.
    async fn send_campaign(&self, campaign: &CampaignRow) -> Result<(), sqlx::Error> {
        let message = Arc::new(message_for(campaign));
        let payload = Arc::new(campaign.draft.payload(campaign.id));
        let cancelled = Arc::new(AtomicBool::new(false));
        let retry = self.retry;
        let half = (self.concurrency / 2).max(1);
        let (claimed, claimer) = self.spawn_claimer(campaign.id, cancelled.clone());
        let (to_recorder, recorder) = self.spawn_recorder(campaign.id, half);
        let claimed = stream::unfold(claimed, |mut claimed| async { claimed.recv().await.map(|d| (d, claimed)) });
        let outcomes = claimed
            .map(|delivery| {
                let (client, keys, store, message, cancelled) =
                    (self.client.clone(), self.keys.clone(), self.store.clone(), message.clone(), cancelled.clone());
                let (payload, tracking_key) = (payload.clone(), self.tracking_key.clone());
                async move {
                    // Each send is its own task so encryption (the costly part) runs on
                    // every core; polled inside one stream, it would all land on one thread.
                    let sent = tokio::spawn(async move {
                        if cancelled.load(Ordering::Relaxed) {
                            return outcome::untouched(delivery.recipient.id);
                        }
                        let delivery_id =
                            DeliveryId { campaign: payload.campaign, subscription: delivery.recipient.id };
                        let plaintext =
                            NotificationPayload { track: Some(tracking_key.sign(delivery_id)), ..(*payload).clone() };
                        // Signed with the key the browser subscribed with.
                        let result = match keys.key(&store, delivery.recipient.key_id).await {
                            Ok(vapid) => {
                                client.send(&vapid, &delivery.recipient, &message, &plaintext.to_bytes()).await
                            }
                            Err(why) => PushResult::NoAnswer(why),
                        };
                        decide(delivery.recipient.id, result, delivery.attempts, &retry, now_ms(), rand::random())
                    });
                    // A panicking send (a bug) loses only its own outcome: the delivery
                    // stays claimed until this instance stops.
                    sent.await.map_err(|error| tracing::error!(%error, "a send task failed")).ok()
                }
            })
            .buffer_unordered(self.concurrency);
        // Boxed rather than pinned in place, so that dropping it below releases the claimer.
        let mut outcomes = Box::pin(outcomes);
        let mut cancel_check = tokio::time::interval(CANCEL_CHECK);
        loop {
            tokio::select! {
                next = outcomes.next() => match next {
                    None => break,
                    Some(None) => {}
                    // Only fails if the recorder stopped, with an error it returns below.
                    Some(Some(outcome)) => if to_recorder.send(outcome).await.is_err() { break },
                },
                _ = cancel_check.tick(), if !cancelled.load(Ordering::Relaxed) => {
                    if self.store.campaign_status(campaign.id).await? == Some(CampaignStatus::Cancelled) {
                        tracing::info!(campaign = campaign.id, "cancelled: no new pushes for it");
                        cancelled.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        drop((outcomes, to_recorder));
        for task in [claimer, recorder] {
            task.await.unwrap_or_else(|error| {
                tracing::error!(%error, "a dispatcher task failed");
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Claims the campaign's due deliveries a batch at a time, as the senders take them,
    /// until none is due or the campaign is cancelled. Its own task, so that a claim is
    /// never left half-read (holding SQLite's write lock) while the senders wait.
    fn spawn_claimer(
        &self,
        campaign_id: i64,
        cancelled: Arc<AtomicBool>,
    ) -> (mpsc::Receiver<ClaimedDelivery>, tokio::task::JoinHandle<Result<(), sqlx::Error>>) {
        // Several rounds' worth per claim keeps the claims cheap without holding many
        // rows in memory.
        let batch_size = (self.concurrency * 4).max(64);
        let (sender, claimed) = mpsc::channel(batch_size);
        let (store, instance) = (self.store.clone(), self.instance.clone());
        let claimer = tokio::spawn(async move {
            while !cancelled.load(Ordering::Relaxed) {
                let batch = store.claim_deliveries(&instance, campaign_id, batch_size as i64, now_ms()).await?;
                if batch.is_empty() {
                    break;
                }
                for delivery in batch {
                    if sender.send(delivery).await.is_err() {
                        // The senders stopped; what is still claimed goes back to the queue
                        // when this instance stops.
                        return Ok(());
                    }
                }
            }
            Ok(())
        });
        (claimed, claimer)
    }

    /// Writes outcomes in chunks of up to `chunk` as they arrive, until the sender is dropped.
    fn spawn_recorder(
        &self,
        campaign_id: i64,
        chunk: usize,
    ) -> (mpsc::Sender<DeliveryOutcome>, tokio::task::JoinHandle<Result<(), sqlx::Error>>) {
        let (sender, mut outcomes) = mpsc::channel(chunk);
        let store = self.store.clone();
        let recorder = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(chunk);
            while outcomes.recv_many(&mut batch, chunk).await > 0 {
                store.record_outcomes(campaign_id, &batch).await?;
                if batch.iter().any(|o| matches!(o.status_code, Some(401 | 403))) {
                    store.flag_vapid_rejections(campaign_id).await?;
                }
                batch.clear();
            }
            Ok(())
        });
        (sender, recorder)
    }

    /// Until the next retry or scheduled start, at most [`IDLE_POLL`]. Scheduled starts are
    /// in whole seconds, so a campaign starts within a second of its time.
    async fn time_until_next_due(&self) -> Duration {
        let retry = match self.store.next_due_at().await {
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
            _ => IDLE_POLL,
        };
        let start = match self.store.next_scheduled_at().await {
            Ok(Some(at)) => Duration::from_secs(u64::try_from(at - self.clock.now()).unwrap_or(0)),
            _ => IDLE_POLL,
        };
        retry.min(start).min(IDLE_POLL)
    }
}

fn message_for(campaign: &CampaignRow) -> PushMessage {
    let draft = &campaign.draft;
    PushMessage {
        ttl_secs: draft.ttl.seconds(),
        urgency: draft.urgency.as_str(),
        // The admin's collapse topic, or one derived from the campaign: either way a copy
        // resent after a crash replaces the first.
        topic: draft
            .topic
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_else(|| format!("campaign{}", campaign.id)),
    }
}
