//! The background dispatcher: takes running campaigns and sends them to every recipient.
//!
//! All state is in the database (campaign and delivery status, attempts, next attempt
//! time), so a restart simply resumes, and several instances can share a campaign: each
//! claims its own deliveries, and the deliveries of an instance that stops beating go back
//! to the queue after its lease (see `store::instances`). An instance that cannot beat
//! stops sending before its lease runs out, every outcome it writes is fenced by its
//! claim, and a stop (SIGTERM) finishes the pushes in flight before it signs off.

mod lanes;
mod outcome;

pub use outcome::{decide, Attempt, RetryPolicy};

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::campaign::{CampaignStatus, NotificationPayload};
use crate::clock::Clock;
use crate::keys::ring::KeyRing;
use crate::push::client::{Admitted, PushClient, PushMessage, PushResult};
use crate::push::services::BUSY_RETRY;
use crate::store::{CampaignRow, ClaimedDelivery, DeliveryOutcome, InstanceId, OutcomeKind, Store};
use crate::tracking::token::{DeliveryId, TrackingKey};
use crate::webhook::WebhookEvent;
use lanes::Lanes;

/// The longest the dispatcher sleeps without looking for work (another process may have
/// queued some, or a retry may have come due).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often a running batch checks whether its campaign was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(200);
/// How often the claimer looks again for deliveries come due (a retry, one turned away
/// from a busy push service) while sends of the campaign are still out.
const RECLAIM_POLL: Duration = Duration::from_millis(50);
/// A failed database write (locked, deadlock, connection lost) is tried this often in
/// all, waiting 50 ms, 100 ms, … 3.2 s in between (about 6 s): the writes are idempotent.
const WRITE_ATTEMPTS: u32 = 8;

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
    /// Cancelled to stop: no more claims, the pushes in flight finish and are recorded,
    /// the rest goes back to the queue.
    pub stop: CancellationToken,
}

/// When [`Dispatcher::timed_steps`] last ran. They go by whole seconds of the scheduling
/// clock, so once a second is enough: a busy campaign's rounds, which can follow each
/// other in milliseconds while a push service fails, do not each pay their queries. They
/// run again when the clock shows another second, or a second of real time has passed (a
/// manual clock in tests may stand still while things change).
#[derive(Default)]
struct Steps {
    last: Option<(i64, Instant)>,
}

impl Steps {
    fn due(&mut self, now: i64) -> bool {
        let due = self.last.is_none_or(|(second, at)| second != now || at.elapsed() >= IDLE_POLL);
        if due {
            self.last = Some((now, Instant::now()));
        }
        due
    }
}

/// A task of the send pipeline; it ends with the database error that stopped it, if any.
/// Aborted with the task that awaits it: a dispatcher stopped at once (as a crash would)
/// leaves none of its helpers writing behind it.
type Worker = AbortOnDropHandle<Result<(), sqlx::Error>>;

/// When this instance's last heartbeat succeeded. Past its lease minus a margin, others
/// may take its claims over at any moment, so it must not send until it beats again; and
/// what it claimed before such a gap (its *term*) may be another's by then, so it is not
/// sent at all but handed back, fenced like every outcome.
#[derive(Clone)]
struct Lease {
    /// The last successful heartbeat, the term it belongs to, and when that term began.
    beat: Arc<Mutex<Beat>>,
    safe_for: Duration,
    lease: Duration,
}

#[derive(Clone, Copy)]
struct Beat {
    /// When the last successful heartbeat was sent: the database stamped it no earlier.
    at: Instant,
    term: i64,
    since: Instant,
}

impl Lease {
    fn new(lease: Duration) -> Self {
        let now = Instant::now();
        // A quarter of the lease in hand: a push started now is answered well before
        // another instance may take the delivery over.
        Self { beat: Arc::new(Mutex::new(Beat { at: now, term: 0, since: now })), safe_for: lease - lease / 4, lease }
    }

    /// Notes a heartbeat that succeeded, by when it was *sent*: its answer may come long
    /// after the database stamped it (this process frozen, a slow network), and counting
    /// from the answer would think the lease safe while others already see it expired.
    fn beat(&self, sent_at: Instant) {
        let mut beat = self.beat.lock().unwrap_or_else(|p| p.into_inner());
        *beat = if sent_at.saturating_duration_since(beat.at) < self.safe_for {
            Beat { at: beat.at.max(sent_at), ..*beat }
        } else {
            Beat { at: sent_at, term: beat.term + 1, since: sent_at }
        };
    }

    /// Sends a heartbeat and notes it if it succeeded.
    async fn renew(&self, store: &Store, me: &InstanceId) -> Result<(), sqlx::Error> {
        let sent_at = Instant::now();
        store.heartbeat(me).await?;
        self.beat(sent_at);
        Ok(())
    }

    /// Whether this instance has beaten without a gap for a whole lease, and so may judge
    /// others silent: after a gap of its own (a pause, a database it could not reach) the
    /// others' heartbeats may have been held up by the same cause, on SQLite even by this
    /// instance holding the write lock while it was frozen.
    fn steady(&self) -> bool {
        let beat = self.beat.lock().unwrap_or_else(|p| p.into_inner());
        beat.at.elapsed() < self.safe_for && beat.since.elapsed() >= self.lease
    }

    /// The current term, if the lease is held now.
    fn term(&self) -> Option<i64> {
        let beat = self.beat.lock().unwrap_or_else(|p| p.into_inner());
        (beat.at.elapsed() < self.safe_for).then_some(beat.term)
    }

    fn held(&self) -> bool {
        self.term().is_some()
    }
}

impl Dispatcher {
    /// Sends and beats in one task, so that stopping it (as a crash would) also stops the
    /// heartbeat.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let lease = Lease::new(self.lease);
            // Announced before the first claim, so no other instance takes it for dead.
            if let Err(error) = lease.renew(&self.store, &self.instance).await {
                tracing::error!(%error, "could not announce this instance");
            }
            // Sending ends only when stopped; the heartbeat goes on until then.
            tokio::select! {
                _ = self.keep_alive(&lease) => {}
                _ = self.run(&lease) => {}
            }
        })
    }

    /// Beats five times per lease, and puts the deliveries of instances that stopped
    /// beating (this one's predecessor after a crash, say) back in the queue. Both by the
    /// database's clock, so this instance's own clock cannot make a healthy peer look dead.
    async fn keep_alive(&self, lease: &Lease) {
        let mut beat = tokio::time::interval(self.lease / 5);
        loop {
            beat.tick().await;
            if let Err(error) = lease.renew(&self.store, &self.instance).await {
                tracing::error!(%error, "heartbeat failed; this instance stops sending until one succeeds");
            }
            if !lease.steady() {
                continue;
            }
            let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
            match self.store.reclaim_orphaned_deliveries(lease_ms).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(deliveries = n, "taking over deliveries claimed by an instance that stopped");
                    self.wake.notify_one();
                }
                Err(error) => tracing::error!(%error, "could not reclaim deliveries of stopped instances"),
            }
        }
    }

    async fn run(&self, lease: &Lease) {
        let mut steps = Steps::default();
        while !self.stop.is_cancelled() {
            let idle = if !lease.held() {
                // Others may be taking our claims over: wait for a heartbeat to succeed.
                self.lease / 10
            } else {
                match self.work_once(lease, &mut steps).await {
                    Ok(true) => continue,
                    Ok(false) => self.time_until_next_due().await,
                    Err(error) => {
                        tracing::error!(%error, "dispatcher error; retrying shortly");
                        IDLE_POLL
                    }
                }
            };
            tokio::select! {
                _ = self.stop.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Starts scheduled campaigns that are due, then sends the oldest campaign with due
    /// work until none of it is due. Returns whether there was any.
    async fn work_once(&self, lease: &Lease, steps: &mut Steps) -> Result<bool, sqlx::Error> {
        for id in self.store.start_due_campaigns(self.clock.now()).await? {
            tracing::info!(campaign = id, "scheduled campaign due: queued");
        }
        if steps.due(self.clock.now()) {
            self.timed_steps().await?;
        }
        for id in self.store.finish_done_campaigns().await? {
            tracing::info!(campaign = id, "campaign finished");
            self.store.emit_campaign_webhook(WebhookEvent::CampaignFinished, id).await;
        }
        let Some(campaign) = self.store.next_campaign_with_due_work(self.clock.now_ms(), self.clock.now()).await?
        else {
            return Ok(false);
        };
        if campaign.status == CampaignStatus::Queued
            && self.store.mark_campaign_sending(campaign.id, self.clock.now()).await?
        {
            tracing::info!(campaign = campaign.id, "sending campaign");
            self.store.emit_campaign_webhook(WebhookEvent::CampaignStarted, campaign.id).await;
        }
        let sent = self.send_campaign(&campaign, lease).await;
        // However the pipeline ended (an error, a panicked send, a stop), nothing this
        // instance still holds of the campaign waits for a restart.
        match retried("releasing claims", || self.store.release_claims(&self.instance, Some(campaign.id))).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(campaign = campaign.id, deliveries = n, "claims released unsent"),
            Err(error) => tracing::error!(%error, "could not release claims; they return after the lease"),
        }
        sent?;
        Ok(true)
    }

    /// What comes due by the scheduling clock besides scheduled starts: A/B winners,
    /// automations, local-time waves.
    async fn timed_steps(&self) -> Result<(), sqlx::Error> {
        for (id, variant) in self.store.pick_due_winners(self.clock.now()).await? {
            let winner = crate::campaign::ab::letter(usize::from(variant));
            tracing::info!(campaign = id, %winner, "A/B test decided: the winner goes to the rest");
        }
        let (welcomed, runs) = self.store.run_automations(self.clock.now()).await?;
        if welcomed > 0 {
            tracing::info!(subscriptions = welcomed, "welcome notifications queued");
        }
        for id in runs {
            tracing::info!(campaign = id, "recurring automation: run queued");
        }
        match self.store.release_local_waves(self.clock.now()).await? {
            0 => {}
            n => tracing::info!(deliveries = n, "local time reached: deliveries due"),
        }
        Ok(())
    }

    /// A pipeline, so that neither the database nor the network waits for the other:
    /// deliveries are claimed in batches as the senders need them, wait in one queue per
    /// push service until it takes a request (`lanes`), at most `concurrency` requests are
    /// in flight, and a recorder task writes outcomes as they come in. The
    /// queues between them are small, so a crash can resend only what was in flight or
    /// waiting to be written: at most twice `concurrency`. Once the campaign is cancelled,
    /// the instance is stopping or its lease is in doubt, nothing more is claimed and
    /// requests not yet started are not made (they go back to the queue); those in flight
    /// finish and are recorded.
    async fn send_campaign(&self, campaign: &CampaignRow, lease: &Lease) -> Result<(), sqlx::Error> {
        // The campaign's own content, then one per A/B variant or translation.
        let payloads: Arc<Vec<NotificationPayload>> = Arc::new(
            (0..=campaign.draft.alternatives().len()).map(|v| campaign.draft.payload_of(campaign.id, v)).collect(),
        );
        // Read once per batch of work: a rotation during a send tells the rest of the
        // audience on the next run.
        let current_key = match self.keys.current(&self.store).await {
            Ok(key) => Some(key.id),
            Err(error) => {
                tracing::warn!(%error, "no current key known: no subscription is asked to move");
                None
            }
        };
        let cancelled = Arc::new(AtomicBool::new(false));
        let half = (self.concurrency / 2).max(1);
        // Claimed and not yet out of the senders: while any are, the claimer keeps looking.
        let outstanding = Arc::new(AtomicUsize::new(0));
        let (mut claimed, claimer) =
            self.spawn_claimer(campaign.id, cancelled.clone(), lease.clone(), outstanding.clone());
        let (to_recorder, recorder) = self.spawn_recorder(campaign.id, half);
        let send = CampaignSend {
            client: self.client.clone(),
            keys: self.keys.clone(),
            store: self.store.clone(),
            message: Arc::new(message_for(campaign)),
            payloads,
            tracking_key: self.tracking_key.clone(),
            current_key,
            retry: self.retry,
            clock: self.clock.clone(),
            lease: lease.clone(),
            cancelled: cancelled.clone(),
        };
        // Deliveries waiting for their push service to take a request, beside those in
        // flight: enough to keep every service busy without reading far ahead.
        let hold = self.concurrency * 4;
        let mut waiting = Lanes::default();
        let mut running = FuturesUnordered::new();
        let mut not_sent = Vec::new();
        let mut more_claimed = true;
        let mut cancel_check = tokio::time::interval(CANCEL_CHECK);
        loop {
            if cancelled.load(Ordering::Relaxed) {
                not_sent.extend(waiting.take_all().into_iter().map(|d| outcome::untouched(d.recipient.id, d.term)));
            }
            while running.len() < self.concurrency && !cancelled.load(Ordering::Relaxed) {
                let next = waiting.next_admitted(&self.client, |delivery, result| {
                    not_sent.push(send.outcome(&delivery, result));
                });
                let Some((delivery, admitted)) = next else { break };
                running.push(send.start(delivery, admitted));
            }
            if waiting.len() >= hold && running.len() < self.concurrency {
                // The services with room took theirs and slots are free; what waits is the
                // backlog of services at their share. A stuck one's goes back to the queue,
                // so that the others' deliveries behind it in the claims are read.
                for delivery in waiting.take_stuck(&self.client) {
                    let busy = PushResult::OriginPaused(std::time::Instant::now() + BUSY_RETRY);
                    not_sent.push(send.outcome(&delivery, busy));
                }
            }
            let mut recorded = true;
            for outcome in not_sent.drain(..) {
                outstanding.fetch_sub(1, Ordering::Relaxed);
                // Only fails if the recorder stopped, with an error it returns below.
                recorded = recorded && to_recorder.send(outcome).await.is_ok();
            }
            if !recorded || (!more_claimed && waiting.is_empty() && running.is_empty()) {
                break;
            }
            tokio::select! {
                Some(done) = running.next() => {
                    outstanding.fetch_sub(1, Ordering::Relaxed);
                    // A panicking send (a bug) loses only its own outcome: the delivery
                    // goes back to the queue when the campaign's pipeline ends.
                    match done {
                        Ok(outcome) => if to_recorder.send(outcome).await.is_err() { break },
                        Err(error) => tracing::error!(%error, "a send task failed"),
                    }
                },
                // Its services are at their share with nothing of this campaign in flight
                // (requests of other sends), or the waiting room is full: look again shortly.
                _ = tokio::time::sleep(BUSY_RETRY), if !waiting.is_empty() && (running.is_empty() || waiting.len() >= hold) => {},
                next = claimed.recv(), if more_claimed && waiting.len() < hold => match next {
                    Some(delivery) => {
                        // All that is there, so the services take turns from the start.
                        waiting.push(delivery);
                        while waiting.len() < hold {
                            let Ok(delivery) = claimed.try_recv() else { break };
                            waiting.push(delivery);
                        }
                    }
                    None => more_claimed = false,
                },
                _ = cancel_check.tick(), if !cancelled.load(Ordering::Relaxed) => {
                    if self.store.campaign_status(campaign.id).await.ok().flatten() == Some(CampaignStatus::Cancelled) {
                        tracing::info!(campaign = campaign.id, "cancelled: no new pushes for it");
                        cancelled.store(true, Ordering::Relaxed);
                    }
                }
                _ = self.stop.cancelled(), if !cancelled.load(Ordering::Relaxed) => {
                    tracing::info!(campaign = campaign.id, "stopping: finishing the pushes in flight");
                    cancelled.store(true, Ordering::Relaxed);
                }
            }
        }
        drop((claimed, to_recorder));
        for task in [claimer, recorder] {
            task.await.unwrap_or_else(|error| {
                tracing::error!(%error, "a dispatcher task failed");
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Claims the campaign's due deliveries a batch at a time, as the senders take them,
    /// until none is due and no send is out, or the campaign is cancelled. Its own task, so
    /// that a claim is never left half-read (holding SQLite's write lock) while the senders
    /// wait.
    ///
    /// It does not stop at the first empty claim while sends are out: one request hanging
    /// until its timeout would otherwise hold back every retry that comes due meanwhile,
    /// and leave the push service's breaker with nothing but that request to judge by.
    fn spawn_claimer(
        &self,
        campaign_id: i64,
        cancelled: Arc<AtomicBool>,
        lease: Lease,
        outstanding: Arc<AtomicUsize>,
    ) -> (mpsc::Receiver<ClaimedDelivery>, Worker) {
        // Several rounds' worth per claim keeps the claims cheap without holding many
        // rows in memory.
        let batch_size = (self.concurrency * 4).max(64);
        let (sender, claimed) = mpsc::channel(batch_size);
        let (store, instance, clock) = (self.store.clone(), self.instance.clone(), self.clock.clone());
        let claimer = AbortOnDropHandle::new(tokio::spawn(async move {
            while !cancelled.load(Ordering::Relaxed) {
                // Taken before the claim: a gap in the heartbeats during it ends the term.
                let Some(term) = lease.term() else { break };
                // A campaign with a send rate takes only what this minute still allows; the
                // next minute's share comes on a later round (see `work_once`).
                let allowance =
                    retried("reading the send rate", || store.paced_allowance(campaign_id, clock.now())).await?;
                let limit = allowance.map_or(batch_size as i64, |left| left.min(batch_size as i64));
                if limit == 0 {
                    break;
                }
                let claim = || store.claim_deliveries(&instance, term, campaign_id, limit, clock.now_ms());
                let batch = retried("claiming deliveries", claim).await?;
                if batch.is_empty() {
                    if outstanding.load(Ordering::Relaxed) == 0 || sender.is_closed() {
                        break;
                    }
                    tokio::time::sleep(RECLAIM_POLL).await;
                    continue;
                }
                outstanding.fetch_add(batch.len(), Ordering::Relaxed);
                if allowance.is_some() {
                    let n = batch.len() as i64;
                    retried("counting paced claims", || store.count_paced_claims(campaign_id, n)).await?;
                }
                for delivery in batch {
                    if sender.send(delivery).await.is_err() {
                        // The senders stopped; what is still claimed goes back to the queue
                        // when the pipeline ends.
                        return Ok(());
                    }
                }
            }
            Ok(())
        }));
        (claimed, claimer)
    }

    /// Writes outcomes in chunks of up to `chunk` as they arrive, until the sender is dropped.
    fn spawn_recorder(&self, campaign_id: i64, chunk: usize) -> (mpsc::Sender<DeliveryOutcome>, Worker) {
        // One less than a chunk: with the outcome in the pipeline's hand, a chunk waits and
        // another is being written, so what was sent but not yet recorded (and could be sent
        // again after a crash) stays within twice the concurrency.
        let (sender, mut outcomes) = mpsc::channel(chunk.saturating_sub(1).max(1));
        let (store, instance) = (self.store.clone(), self.instance.clone());
        let recorder = AbortOnDropHandle::new(tokio::spawn(async move {
            let mut batch = Vec::with_capacity(chunk);
            while outcomes.recv_many(&mut batch, chunk).await > 0 {
                let lost =
                    retried("recording outcomes", || store.record_outcomes(&instance, campaign_id, &batch)).await?;
                if lost > 0 {
                    // Another instance took these over while this one stalled: its
                    // outcomes count, not ours.
                    tracing::warn!(campaign = campaign_id, deliveries = lost, "lease lost: outcomes not recorded");
                }
                if batch.iter().any(|o| matches!(o.status_code, Some(401 | 403 | 413))) {
                    store.explain_rejections(campaign_id).await?;
                }
                let errors = error_counts(&batch);
                if let Err(error) = store.note_delivery_errors(&instance, campaign_id, &errors).await {
                    // Only the dashboard's list misses them; the deliveries are recorded.
                    tracing::warn!(%error, "could not note delivery errors for the dashboard");
                }
                batch.clear();
            }
            Ok(())
        }));
        (sender, recorder)
    }

    /// Until the next retry or scheduled start, at most [`IDLE_POLL`]. Scheduled starts are
    /// in whole seconds, so a campaign starts within a second of its time.
    async fn time_until_next_due(&self) -> Duration {
        let retry = match self.store.next_due_at().await {
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - self.clock.now_ms()).unwrap_or(0)),
            _ => IDLE_POLL,
        };
        let start = match self.store.next_scheduled_at().await {
            Ok(Some(at)) => Duration::from_secs(u64::try_from(at - self.clock.now()).unwrap_or(0)),
            _ => IDLE_POLL,
        };
        retry.min(start).min(IDLE_POLL)
    }
}

/// What every send of one campaign run needs.
struct CampaignSend {
    client: PushClient,
    keys: Arc<KeyRing>,
    store: Store,
    message: Arc<PushMessage>,
    /// The campaign's own content, then one per A/B variant or translation.
    payloads: Arc<Vec<NotificationPayload>>,
    tracking_key: Arc<TrackingKey>,
    /// The key subscriptions should move to, if known.
    current_key: Option<i64>,
    retry: RetryPolicy,
    clock: Clock,
    lease: Lease,
    cancelled: Arc<AtomicBool>,
}

impl CampaignSend {
    /// Sends one admitted delivery in its own task, so encryption (the costly part) runs
    /// on every core; polled inside one loop, it would all land on one thread.
    fn start(&self, delivery: ClaimedDelivery, admitted: Admitted) -> AbortOnDropHandle<DeliveryOutcome> {
        let (client, keys, store, message) =
            (self.client.clone(), self.keys.clone(), self.store.clone(), self.message.clone());
        let (payloads, tracking_key, lease, cancelled) =
            (self.payloads.clone(), self.tracking_key.clone(), self.lease.clone(), self.cancelled.clone());
        let (current_key, retry, clock) = (self.current_key, self.retry, self.clock.clone());
        AbortOnDropHandle::new(tokio::spawn(async move {
            if cancelled.load(Ordering::Relaxed) || lease.term() != Some(delivery.term) {
                return outcome::untouched(delivery.recipient.id, delivery.term);
            }
            let payload = payloads.get(usize::from(delivery.variant)).unwrap_or(&payloads[0]);
            let delivery_id = DeliveryId { campaign: payload.campaign, subscription: delivery.recipient.id };
            let plaintext = NotificationPayload {
                track: Some(tracking_key.sign(delivery_id)),
                rekey: current_key.is_some_and(|id| id != delivery.recipient.key_id),
                ..payload.clone()
            };
            // Signed with the key the browser subscribed with.
            let result = match keys.key(&store, delivery.recipient.key_id).await {
                Ok(vapid) => {
                    client.send_admitted(admitted, &vapid, &delivery.recipient, &message, &plaintext.to_bytes()).await
                }
                Err(why) => PushResult::NoAnswer(why),
            };
            let outcome = decide(attempt_of(&delivery, &message), result, &retry, clock.now_ms(), rand::random());
            count_push(payload.campaign, &delivery.recipient.endpoint, &outcome);
            outcome
        }))
    }

    /// What becomes of a delivery that was not sent (its service paused or busy, its
    /// endpoint refused).
    fn outcome(&self, delivery: &ClaimedDelivery, result: PushResult) -> DeliveryOutcome {
        let outcome =
            decide(attempt_of(delivery, &self.message), result, &self.retry, self.clock.now_ms(), rand::random());
        count_push(self.payloads[0].campaign, &delivery.recipient.endpoint, &outcome);
        outcome
    }
}

fn attempt_of(delivery: &ClaimedDelivery, message: &PushMessage) -> Attempt {
    Attempt {
        subscription_id: delivery.recipient.id,
        attempts: delivery.attempts,
        first_failed_at: delivery.first_failed_at,
        ttl: Duration::from_secs(message.ttl_secs.into()),
        term: delivery.term,
    }
}

/// `write` again after a failure, with backoff, up to [`WRITE_ATTEMPTS`] times in all.
async fn retried<T, F, Fut>(what: &str, mut write: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut wait = Duration::from_millis(50);
    for attempt in 1.. {
        match write().await {
            Ok(done) => return Ok(done),
            Err(error) if attempt < WRITE_ATTEMPTS => {
                tracing::warn!(%error, attempt, "{what} failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(error) => return Err(error),
        }
    }
    unreachable!("the loop returns")
}

/// `tidings_pushes_total{service, outcome}`: what became of each delivery this instance
/// handled ("deferred": not sent, its service was paused or busy; it comes back).
fn count_push(campaign: i64, endpoint: &str, outcome: &DeliveryOutcome) {
    let label = match outcome.kind {
        OutcomeKind::Sent => "sent",
        OutcomeKind::Expired => "expired",
        OutcomeKind::Failed => "failed",
        OutcomeKind::Retry { .. } if outcome.attempted => "retry",
        OutcomeKind::Retry { .. } => "deferred",
    };
    let service = crate::push::endpoint::service_of(endpoint).to_owned();
    metrics::counter!("tidings_pushes_total", "service" => service, "outcome" => label).increment(1);
    if label != "sent" {
        tracing::debug!(
            campaign,
            subscription = outcome.subscription_id,
            endpoint = %crate::push::endpoint::LoggedEndpoint(endpoint),
            outcome = label,
            error = outcome.error.as_deref(),
            "delivery not sent"
        );
    }
}

/// The batch's failures and retries by error text and status code (a subscription that
/// expired is not an error: browsers unsubscribe every day).
fn error_counts(batch: &[DeliveryOutcome]) -> std::collections::BTreeMap<(String, Option<u16>), i64> {
    let mut counts = std::collections::BTreeMap::new();
    for outcome in batch {
        if let (Some(error), OutcomeKind::Failed | OutcomeKind::Retry { .. }) = (&outcome.error, &outcome.kind) {
            *counts.entry((error.clone(), outcome.status_code)).or_insert(0) += 1;
        }
    }
    counts
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lease_beaten_at(at: Instant) -> Lease {
        let lease = Lease::new(Duration::from_secs(4));
        *lease.beat.lock().unwrap() = Beat { at, term: 0, since: at };
        lease
    }

    #[test]
    fn a_heartbeat_answered_late_counts_from_when_it_was_sent() {
        // Sent just before this process froze for ten seconds, answered after it thawed:
        // the database stamped it ten seconds ago, so the lease is long gone.
        let frozen_at = Instant::now() - Duration::from_secs(10);
        let lease = lease_beaten_at(frozen_at);
        lease.beat(frozen_at + Duration::from_millis(200));
        assert_eq!(lease.term(), None);
        // The first heartbeat sent after thawing starts a new term.
        lease.beat(Instant::now());
        assert_eq!(lease.term(), Some(1));
        assert!(!lease.steady(), "a new term is not steady until it has lasted a lease");
    }

    #[test]
    fn heartbeats_without_a_gap_keep_the_term() {
        let start = Instant::now() - Duration::from_secs(5);
        let lease = lease_beaten_at(start);
        for second in 1..=5 {
            lease.beat(start + Duration::from_secs(second));
        }
        assert_eq!(lease.term(), Some(0));
        assert!(lease.steady());
    }
}
