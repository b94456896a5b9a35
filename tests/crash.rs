//! `kill -9` in the middle of a campaign, then a restart: the campaign resumes by itself,
//! every subscriber gets it, and each delivery ends with exactly one recorded outcome.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::push_service::Reply;
use support::{call, PushService, ADMIN_PASSWORD, ADMIN_USER};

const SUBSCRIBERS: usize = 2000;
const CONCURRENCY: usize = 16;
/// Pushes that can have reached the push service without their outcome being recorded:
/// those in flight plus one chunk of outcomes being written. Only these can be sent twice.
const IN_FLIGHT_WINDOW: usize = CONCURRENCY * 2;

/// The restarted process takes over the killed one's deliveries after this.
const LEASE_SECS: u64 = 2;

/// How the first process is stopped mid-campaign.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// SIGKILL: no shutdown code runs.
    Kill,
    /// SIGTERM: Tidings finishes its pushes in flight, hands the rest back and signs off.
    Terminate,
}

/// Subscribes everyone, sends a campaign, stops the process a quarter of the way in, starts
/// another on the same database with `lease_secs`, and waits until the campaign is sent.
/// Returns the push service, the campaign and how many pushes had arrived at the stop.
async fn interrupted_campaign(stop: Stop, lease_secs: u64) -> (PushService, i64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let database = support::fresh_database_url(dir.path()).await;
    let push = PushService::start().await;
    let subscriptions: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(5))))
        .collect();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();

    let (mut first, base) = support::start_instance(&database, CONCURRENCY, lease_secs).await;
    support::subscribe_all(&client, &base, &subscriptions).await;
    call(&client, &base, "admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    let form =
        [("title", "Crash"), ("body", "test"), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")];
    let response = call(&client, &base, "admin/send_campaign", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let campaign_id: i64 = response.json().await.unwrap();

    while push.received().len() < SUBSCRIBERS / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    match stop {
        Stop::Kill => first.kill().await.unwrap(),
        Stop::Terminate => {
            let pid = first.id().unwrap().to_string();
            assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
            first.wait().await.unwrap();
        }
    }
    let at_stop = push.received().len();
    assert!(at_stop < SUBSCRIBERS, "stopped mid-campaign");

    let (_second, base) = support::start_instance(&database, CONCURRENCY, lease_secs).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // The session cookie from before the crash still works: sessions live in the database.
        let response = call(&client, &base, "admin/list_campaigns", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let list: Vec<tidings::campaign::CampaignSummary> = response.json().await.unwrap();
        let campaign = list.into_iter().find(|c| c.id == campaign_id).unwrap();
        if campaign.status == "sent" {
            assert_eq!((campaign.targeted, campaign.sent), (SUBSCRIBERS as i64, SUBSCRIBERS as i64));
            return (push, campaign_id, at_stop);
        }
        assert!(Instant::now() < deadline, "campaign still {} after restart", campaign.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_interrupted_by_sigkill_resumes_and_reaches_everyone_once_recorded() {
    let (push, campaign_id, at_kill) = interrupted_campaign(Stop::Kill, LEASE_SECS).await;
    let received = push.received();
    let mut clients: Vec<&str> = received.iter().map(|r| r.client.as_str()).collect();
    clients.sort_unstable();
    clients.dedup();
    assert_eq!(clients.len(), SUBSCRIBERS, "every subscriber received the campaign");
    let duplicates = received.len() - SUBSCRIBERS;
    assert!(duplicates <= IN_FLIGHT_WINDOW, "{duplicates} duplicates, more than the {IN_FLIGHT_WINDOW} in flight");
    let topic = format!("campaign{campaign_id}");
    assert!(
        received.iter().all(|r| r.topic.as_deref() == Some(topic.as_str())),
        "copies share a Topic, so a resend replaces"
    );
    eprintln!("killed after {at_kill} of {SUBSCRIBERS} pushes; {duplicates} sent twice after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_stopped_with_sigterm_is_taken_over_at_once_and_nothing_is_sent_twice() {
    // An hour's lease: the next start resumes within the test's two minutes only because
    // the stopped process signed off.
    let (push, _, at_stop) = interrupted_campaign(Stop::Terminate, 3600).await;
    let mut clients: Vec<String> = push.received().into_iter().map(|r| r.client).collect();
    clients.sort_unstable();
    clients.dedup();
    assert_eq!(clients.len(), SUBSCRIBERS, "every subscriber received the campaign");
    // The stop finished the pushes in flight and recorded them: none is sent again.
    assert_eq!(push.received().len(), SUBSCRIBERS, "a clean stop sends nothing twice (stopped after {at_stop})");
}
