//! Three `tidings` processes on one database share a campaign to 20,000 subscriptions; one
//! is killed with SIGKILL midway. The other two take over its deliveries after its lease:
//! every subscription ends with one recorded outcome, the push service sees every
//! subscription, and only what the dead instance had in flight is sent twice.

use crate::support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use support::push_service::Reply;
use support::{call, PushService, ADMIN_PASSWORD, ADMIN_USER};

const SUBSCRIBERS: usize = 20_000;
const INSTANCES: usize = 3;
const CONCURRENCY: usize = 8;
/// What one instance can have sent without recording it: the requests in flight, plus the
/// outcomes queued for and being written by its recorder (half the concurrency each).
const IN_FLIGHT_WINDOW: usize = CONCURRENCY * 2;

/// How soon the survivors take over the killed instance's deliveries.
const LEASE_SECS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_a_campaign_and_survive_one_being_killed() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let database = support::fresh_database_url(dir.path()).await;
    if !database.starts_with("postgres") {
        // Several instances are a PostgreSQL deployment; `make test` runs this test in its
        // PostgreSQL pass.
        eprintln!("skipped: needs TIDINGS_TEST_POSTGRES (the PostgreSQL pass of `make test`)");
        return;
    }
    // Slow enough replies that the campaign takes several seconds, so the kill lands midway.
    let push = PushService::start().await;
    let subscriptions: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(20))))
        .collect();

    // The first applies the migrations; the others then start on an up-to-date schema.
    let mut instances = vec![support::start_instance(&database, CONCURRENCY, LEASE_SECS).await];
    for _ in 1..INSTANCES {
        instances.push(support::start_instance(&database, CONCURRENCY, LEASE_SECS).await);
    }
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let base = instances[0].1.clone();
    call(&client, &base, "admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    let rows: Vec<_> = subscriptions
        .iter()
        .map(|s| json!({"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}}))
        .collect();
    let imported =
        client.post(format!("{base}/admin/subscribers/import")).body(json!(rows).to_string()).send().await.unwrap();
    assert_eq!(imported.status(), StatusCode::OK);
    let report: serde_json::Value = imported.json().await.unwrap();
    assert_eq!(report["added"], SUBSCRIBERS, "{report}");

    let imported_at = started.elapsed();
    // Signed in on the first instance, sending from the second: sessions live in the database.
    let second = instances[1].1.clone();
    let form =
        [("title", "Cluster"), ("body", "test"), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")];
    let response = call(&client, &second, "admin/send_campaign", &form).await;
    assert_eq!(response.status(), StatusCode::OK, "a session made on one instance works on another");
    let campaign_id: i64 = response.json().await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(120);
    while push.received().len() < SUBSCRIBERS / 3 {
        if Instant::now() > deadline {
            let list = call(&client, &base, "admin/list_campaigns", &[]).await.text().await.unwrap();
            panic!("only {} pushes after 120 s: {list}", push.received().len());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (mut victim, _) = instances.remove(2);
    victim.kill().await.unwrap(); // SIGKILL: it cannot hand its claims back
    let at_kill = push.received().len();
    assert!(at_kill < SUBSCRIBERS, "killed mid-campaign");

    let sending = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(240);
    let summary = loop {
        let response = call(&client, &base, "admin/list_campaigns", &[]).await;
        let list: Vec<tidings::campaign::CampaignSummary> = response.json().await.unwrap();
        let campaign = list.into_iter().find(|c| c.id == campaign_id).unwrap();
        if campaign.status == "sent" {
            break campaign;
        }
        assert!(Instant::now() < deadline, "campaign still {} after the kill", campaign.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let sent_in = sending.elapsed();
    assert_eq!(
        (summary.targeted, summary.sent, summary.failed, summary.expired),
        (SUBSCRIBERS as i64, SUBSCRIBERS as i64, 0, 0),
        "one recorded outcome per subscription, all sent"
    );

    let received = push.received();
    let mut per_client: HashMap<&str, usize> = HashMap::new();
    for r in &received {
        *per_client.entry(r.client.as_str()).or_default() += 1;
    }
    assert_eq!(per_client.len(), SUBSCRIBERS, "the push service saw every subscription");
    let duplicates = received.len() - SUBSCRIBERS;
    assert!(
        duplicates <= IN_FLIGHT_WINDOW,
        "{duplicates} pushes sent twice, more than the killed instance's in-flight window of {IN_FLIGHT_WINDOW}"
    );
    // Each delivery names the instance that sent it last: all three took part.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database).await.unwrap();
    let senders: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT claimed_by) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'",
    )
    .bind(campaign_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(senders, INSTANCES as i64, "every instance sent part of the campaign");
    eprintln!(
        "killed one of {INSTANCES} instances after {at_kill} of {SUBSCRIBERS} pushes; {duplicates} sent twice; \
         the others finished the campaign {sent_in:.1?} after the kill (set-up and import {imported_at:.1?})"
    );
}
