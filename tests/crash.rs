//! `kill -9` in the middle of a campaign, then a restart: the campaign resumes by itself,
//! every subscriber gets it, and each delivery ends with exactly one recorded outcome.
#![cfg(feature = "ssr")]

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use support::push_service::Reply;
use support::{PushService, ADMIN_PASSWORD, ADMIN_USER};

const SUBSCRIBERS: usize = 2000;
const CONCURRENCY: usize = 16;
/// Pushes that can have reached the push service without their outcome being recorded:
/// those in flight plus one chunk of outcomes being written. Only these can be sent twice.
const IN_FLIGHT_WINDOW: usize = CONCURRENCY * 2;

/// The restarted process takes over the killed one's deliveries after this.
const LEASE_SECS: u64 = 2;

async fn call(client: &reqwest::Client, base: &str, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(format!("{base}/api/{function}")).form(form).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_interrupted_by_sigkill_resumes_and_reaches_everyone_once_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::fresh_database_url(dir.path()).await;
    let push = PushService::start().await;
    let subscriptions: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(5))))
        .collect();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();

    let (mut first, base) = support::start_instance(&database, CONCURRENCY, LEASE_SECS).await;
    futures::stream::iter(&subscriptions)
        .for_each_concurrent(32, |s| {
            let (client, base) = (&client, &base);
            async move {
                let form = [("endpoint", s.endpoint.as_str()), ("p256dh", &s.p256dh), ("auth", &s.auth)];
                assert_eq!(call(client, base, "subscribe", &form).await.status(), StatusCode::OK);
            }
        })
        .await;
    call(&client, &base, "admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    let form = [("title", "Crash"), ("body", "test"), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")];
    let response = call(&client, &base, "admin/send_campaign", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let campaign_id: i64 = response.json().await.unwrap();

    while push.received().len() < SUBSCRIBERS / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().await.unwrap(); // SIGKILL: no shutdown code runs
    let at_kill = push.received().len();
    assert!(at_kill < SUBSCRIBERS, "killed mid-campaign");

    let (_second, base) = support::start_instance(&database, CONCURRENCY, LEASE_SECS).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // The session cookie from before the crash still works: sessions live in the database.
        let response = call(&client, &base, "admin/list_campaigns", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let list: Vec<tidings::campaign::CampaignSummary> = response.json().await.unwrap();
        let campaign = list.into_iter().find(|c| c.id == campaign_id).unwrap();
        if campaign.status == "sent" {
            assert_eq!((campaign.targeted, campaign.sent), (SUBSCRIBERS as i64, SUBSCRIBERS as i64));
            break;
        }
        assert!(Instant::now() < deadline, "campaign still {} after restart", campaign.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let received = push.received();
    let mut clients: Vec<&str> = received.iter().map(|r| r.client.as_str()).collect();
    clients.sort_unstable();
    clients.dedup();
    assert_eq!(clients.len(), SUBSCRIBERS, "every subscriber received the campaign");
    let duplicates = received.len() - SUBSCRIBERS;
    assert!(duplicates <= IN_FLIGHT_WINDOW, "{duplicates} duplicates, more than the {IN_FLIGHT_WINDOW} in flight");
    let topic = format!("campaign{campaign_id}");
    assert!(received.iter().all(|r| r.topic.as_deref() == Some(topic.as_str())), "copies share a Topic, so a resend replaces");
    eprintln!("killed after {at_kill} of {SUBSCRIBERS} pushes; {duplicates} sent twice after the restart");
}
