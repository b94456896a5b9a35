//! Automations on the manual clock: a welcome reaches each new subscriber once, after its
//! delay and not before, never an imported one, and not while paused; a recurring campaign
//! starts a run at each of its times and the list counts what they sent.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tidings::automation::AutomationSummary;
use tidings::clock::Clock;

use crate::support;
use support::{spawn_app_with, PushService, TestApp, TestSubscription};

async fn automations(app: &TestApp) -> Vec<AutomationSummary> {
    let response = app.call("admin/automations", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn titles_for(push: &PushService, who: &TestSubscription) -> Vec<String> {
    push.received()
        .iter()
        .filter(|r| r.client == who.client)
        .map(|r| r.json()["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_for_titles(push: &PushService, who: &TestSubscription, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while titles_for(push, who).len() < count {
        assert!(Instant::now() < deadline, "{} of {count} arrived", titles_for(push, who).len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Moves the clock and gives the dispatcher time to act on it.
async fn move_to(app: &TestApp, at: i64) {
    app.state.config.clock.set(at);
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn a_welcome_goes_to_each_new_subscriber_once_after_its_delay_and_never_to_imports() {
    let start = tidings::store::now();
    let app = spawn_app_with(|config| config.clock = Clock::manual(start)).await;
    let push = PushService::start().await;
    app.login().await;
    let before = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&before).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let fields = [("name", "Welcome"), ("kind", "welcome"), ("title", "Welcome aboard"), ("delay_minutes", "10")];
    let created = app.call("admin/create_automation", &fields).await;
    assert_eq!(created.status(), StatusCode::OK, "{}", created.text().await.unwrap());
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let ana = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&ana).await.status(), StatusCode::OK);
    let imported = push.subscription(StatusCode::CREATED);
    let file = json!([{ "endpoint": imported.endpoint, "keys": { "p256dh": imported.p256dh, "auth": imported.auth } }]);
    let import = app.client.post(format!("{}/admin/subscribers/import", app.base)).body(file.to_string()).send().await;
    assert_eq!(import.unwrap().status(), StatusCode::OK);

    // Nine minutes on: nobody yet. Ten (and a little): Ana, once, however long we wait.
    move_to(&app, start + 9 * 60).await;
    assert!(push.received().is_empty());
    app.state.config.clock.set(start + 12 * 60);
    wait_for_titles(&push, &ana, 1).await;
    move_to(&app, start + 60 * 60).await;
    assert_eq!(titles_for(&push, &ana), ["Welcome aboard"]);
    assert!(titles_for(&push, &imported).is_empty(), "an imported subscription was welcomed");
    assert!(titles_for(&push, &before).is_empty(), "someone from before the automation was welcomed");

    // Paused, a new subscriber waits; resumed, they get it.
    let id = automations(&app).await[0].id.to_string();
    let pause = app.call("admin/pause_automation", &[("id", &id), ("paused", "true")]).await;
    assert_eq!(pause.status(), StatusCode::OK);
    let ben = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&ben).await.status(), StatusCode::OK);
    move_to(&app, start + 3 * 60 * 60).await;
    assert!(titles_for(&push, &ben).is_empty(), "a paused welcome was sent");
    assert_eq!(app.call("admin/pause_automation", &[("id", &id), ("paused", "false")]).await.status(), StatusCode::OK);
    wait_for_titles(&push, &ben, 1).await;

    // The push service has it; its outcome is recorded a moment later.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = automations(&app).await;
        if listed[0].sent == 2 || Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((listed[0].kind.as_str(), listed[0].campaigns, listed[0].sent), ("welcome", 1, 2), "{listed:?}");
    assert_eq!(listed[0].trigger, "10 minutes after someone subscribes");
    assert_eq!(push.received().len(), 2);
}

#[tokio::test]
async fn a_recurring_campaign_runs_at_each_of_its_times() {
    let utc = |raw: &str| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").unwrap().and_utc().timestamp();
    let app = spawn_app_with(|config| config.clock = Clock::manual(utc("2027-03-27T06:00"))).await;
    let push = PushService::start().await;
    app.login_in_time_zone("Europe/Berlin").await;
    let reader = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&reader).await.status(), StatusCode::OK);
    let fields = [
        ("name", "Morning digest"),
        ("kind", "recurring"),
        ("title", "Your morning digest"),
        ("every", "day"),
        ("at_time", "09:00"),
    ];
    let created = app.call("admin/create_automation", &fields).await;
    assert_eq!(created.status(), StatusCode::OK, "{}", created.text().await.unwrap());
    let listed = automations(&app).await;
    assert_eq!(listed[0].trigger, "Every day at 09:00 (Europe/Berlin)");
    assert!(listed[0].next_run.as_deref().unwrap().starts_with("27 Mar 2027, 09:00"), "{listed:?}");

    // 09:00 in Berlin is 08:00 UTC today, 07:00 UTC tomorrow (summer time).
    move_to(&app, utc("2027-03-27T07:59")).await;
    assert!(push.received().is_empty());
    app.state.config.clock.set(utc("2027-03-27T08:00"));
    wait_for_titles(&push, &reader, 1).await;
    move_to(&app, utc("2027-03-28T06:59")).await;
    assert_eq!(titles_for(&push, &reader).len(), 1, "one run a day");
    app.state.config.clock.set(utc("2027-03-28T07:00"));
    wait_for_titles(&push, &reader, 2).await;
    // The push service has it; its outcome is recorded a moment later.
    let second = automations(&app).await[0].latest_campaign.expect("the second run's campaign");
    app.wait_until_sent(second).await;

    let listed = automations(&app).await;
    assert_eq!((listed[0].campaigns, listed[0].sent), (2, 2), "{listed:?}");
    assert!(listed[0].next_run.as_deref().unwrap().starts_with("29 Mar 2027, 09:00"), "{listed:?}");
    let bad = [("name", "x"), ("kind", "recurring"), ("title", "x"), ("every", "hourly"), ("at_time", "09:00")];
    assert_eq!(app.call("admin/create_automation", &bad).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(automations(&app).await.len(), 1);
}
