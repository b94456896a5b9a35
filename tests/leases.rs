//! Leases on the real internet's machines: an instance paused past its lease (SIGSTOP, a
//! frozen VM), a host whose clock is wrong, a database write that fails. Each ends with one
//! recorded outcome per subscription and nothing stranded.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::push_service::Reply;
use support::{call, spawn_app_with, PushService, ADMIN_PASSWORD, ADMIN_USER};
use tidings::clock::Clock;
use tidings::store::{DeliveryOutcome, InstanceId, OutcomeKind, Store};

/// Deliveries of `campaign` in each state, as (status, count).
async fn states(pool: &sqlx::AnyPool, campaign: i64) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT status, COUNT(*) FROM deliveries WHERE campaign_id = $1 GROUP BY status ORDER BY status")
        .bind(campaign)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_clock_runs_ahead_takes_nothing_over_from_a_healthy_peer() {
    let healthy = spawn_app_with(|config| config.lease = Duration::from_secs(2)).await;
    let push = PushService::start().await;
    // Slow answers: the healthy instance holds its claims for seconds.
    let subscriptions: Vec<_> = (0..40)
        .map(|_| push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(1500))))
        .collect();
    for subscription in &subscriptions {
        healthy.subscribe(subscription).await;
    }
    healthy.login().await;
    let id = healthy.send_plain("One clock").await;
    while push.received().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Five minutes ahead: by its own clock, the healthy peer has been silent for minutes.
    let skewed = healthy.another_instance_with(|config| config.clock = Clock::Skewed(5 * 60 * 1000)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let known: Vec<String> =
        sqlx::query_scalar("SELECT id FROM instances").fetch_all(healthy.state.store.pool()).await.unwrap();
    assert!(known.contains(&healthy.server_instance()), "the healthy instance was taken for dead");

    let campaign = healthy.wait_until_sent(id).await;
    assert_eq!(campaign.sent, 40);
    let received = push.received();
    for subscription in &subscriptions {
        let copies = received.iter().filter(|r| r.client == subscription.client).count();
        assert_eq!(copies, 1, "a delivery taken over from a healthy instance was sent twice");
    }
    drop(skewed);
}

#[tokio::test]
async fn failed_outcome_writes_are_retried_and_the_campaign_finishes_without_a_restart() {
    let app = support::spawn_app().await;
    let push = PushService::start().await;
    let subscriptions: Vec<_> = (0..30).map(|_| push.subscription(StatusCode::CREATED)).collect();
    for subscription in &subscriptions {
        app.subscribe(subscription).await;
    }
    app.login().await;
    // As a dropped connection or a lock timeout would, three writes in a row.
    app.state.store.faults().fail_next_writes(3);

    let id = app.send_plain("Written at last").await;
    let campaign = app.wait_until_sent(id).await;

    assert_eq!((campaign.sent, campaign.failed), (30, 0));
    for subscription in &subscriptions {
        assert_eq!(push.requests_for(&subscription.client), 1, "sent once, recorded once");
    }
    assert_eq!(states(app.state.store.pool(), id).await, [("sent".to_owned(), 30)]);
}

/// The fence the paused-instance test below relies on, step by step: an instance taken for
/// dead claims the same delivery again once it beats again, and an outcome from its
/// earlier term (a send it skipped on thawing, a failure) must leave the new claim alone.
#[tokio::test]
async fn an_outcome_from_an_earlier_lease_term_leaves_a_newer_claim_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&support::fresh_database_url(dir.path()).await).await.unwrap();
    let pool = store.pool();
    sqlx::query(
        "INSERT INTO subscriptions (endpoint, p256dh, auth, created_at) VALUES ('https://push.test/a', 'k', 'a', 1)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO campaigns (title, ttl_secs, urgency, status, created_at) VALUES ('Fenced', 60, 'normal', 'sending', 1)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO deliveries (campaign_id, subscription_id, status) VALUES (1, 1, 'pending')")
        .execute(pool)
        .await
        .unwrap();
    let (me, now_ms) = (InstanceId::generate(), tidings::clock::now_ms());
    store.heartbeat(&me).await.unwrap();
    assert_eq!(store.claim_deliveries(&me, 0, 1, 10, now_ms).await.unwrap().len(), 1);
    // Silent past its lease: a peer forgets it and puts its claim back in the queue.
    store.retire_instance(&me).await.unwrap();
    assert_eq!(store.reclaim_orphaned_deliveries(1_000).await.unwrap(), 1);
    store.heartbeat(&me).await.unwrap();
    let again = store.claim_deliveries(&me, 1, 1, 10, now_ms).await.unwrap();
    assert_eq!(again.iter().map(|d| d.term).collect::<Vec<_>>(), [1]);

    let handed_back = |term| DeliveryOutcome {
        subscription_id: 1,
        kind: OutcomeKind::Retry { at_ms: 0 },
        attempted: false,
        status_code: None,
        error: None,
        term,
    };
    assert_eq!(store.record_outcomes(&me, 1, &[handed_back(0)]).await.unwrap(), 1, "the old term's outcome is lost");
    let state = || async {
        sqlx::query_as::<_, (String, i64)>("SELECT status, claim_term FROM deliveries").fetch_one(pool).await.unwrap()
    };
    assert_eq!(state().await, ("sending".to_owned(), 1), "the new claim stands");
    assert_eq!(store.record_outcomes(&me, 1, &[handed_back(1)]).await.unwrap(), 0, "the new term's outcome counts");
    assert_eq!(state().await.0, "pending");
}

const SUBSCRIBERS: usize = 1500;
const CONCURRENCY: usize = 8;
/// What one instance can have sent without recording it: in flight, plus queued for and
/// being written by its recorder.
const IN_FLIGHT_WINDOW: usize = CONCURRENCY * 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_paused_past_its_lease_neither_strands_nor_double_counts_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::fresh_database_url(dir.path()).await;
    let push = PushService::start().await;
    let subscriptions: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(5))))
        .collect();
    let (paused, base) = support::start_instance(&database, CONCURRENCY, 1).await;
    let (_peer, _) = support::start_instance(&database, CONCURRENCY, 1).await;
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    support::subscribe_all(&client, &base, &subscriptions).await;
    call(&client, &base, "admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    let form =
        [("title", "Paused"), ("body", ""), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")];
    let id: i64 = call(&client, &base, "admin/send_campaign", &form).await.json().await.unwrap();

    while push.received().len() < SUBSCRIBERS / 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Frozen for three leases, with its claims in hand, then thawed.
    let pid = paused.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap().success());

    let store = Store::open(&database).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        if status == "sent" {
            break;
        }
        assert!(Instant::now() < deadline, "campaign still {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        states(store.pool(), id).await,
        [("sent".to_owned(), SUBSCRIBERS as i64)],
        "one recorded outcome each, nothing left pending or sending"
    );
    let received = push.received();
    let mut clients: Vec<&str> = received.iter().map(|r| r.client.as_str()).collect();
    clients.sort_unstable();
    clients.dedup();
    assert_eq!(clients.len(), SUBSCRIBERS);
    let duplicates = received.len() - SUBSCRIBERS;
    assert!(duplicates <= IN_FLIGHT_WINDOW, "{duplicates} sent twice, more than the {IN_FLIGHT_WINDOW} in flight");
    eprintln!("paused instance: {duplicates} sent twice");
}
