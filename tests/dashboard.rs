//! The dashboard's audience figures: subscribers now, and who joined and left each day.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app, PushService};
use tidings::operations::{OperationsStatus, QueueDepth};
use tidings::subscription::{AudienceGrowth, GROWTH_DAYS};

#[tokio::test]
async fn joins_and_losses_are_counted_per_day_including_unsubscribes_and_expiries() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let staying = push.subscription(StatusCode::CREATED);
    let leaving = push.subscription(StatusCode::CREATED);
    let expired = push.subscription(StatusCode::GONE);
    for subscriber in [&staying, &leaving, &expired] {
        assert_eq!(app.subscribe(subscriber).await.status(), StatusCode::OK);
    }
    // Subscribing again with the same endpoint is not a new subscriber.
    assert_eq!(app.subscribe(&staying).await.status(), StatusCode::OK);
    assert_eq!(app.call("unsubscribe", &[("endpoint", &leaving.endpoint)]).await.status(), StatusCode::OK);
    app.login().await;
    let id = app.send_plain("Hello").await;
    assert_eq!(app.wait_until_sent(id).await.expired, 1, "the push service said 410 Gone");

    let response = app.call("admin/subscriber_growth", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let growth: AudienceGrowth = response.json().await.unwrap();
    assert_eq!(growth.total, 1);
    assert_eq!(growth.days.len(), GROWTH_DAYS);
    // Summed over the days, so a run across midnight counts the same.
    assert_eq!((growth.joined(), growth.lost()), (3, 2));
    assert_eq!(growth.days.last().unwrap().total, 1);
    assert_eq!(growth.days[0].total, 0, "nobody a month ago");
}

#[tokio::test]
async fn the_operations_card_shows_this_instance_the_queue_and_the_latest_errors() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let fine = push.subscription(StatusCode::CREATED);
    let failing = push.subscription(StatusCode::INTERNAL_SERVER_ERROR);
    for subscriber in [&fine, &failing] {
        assert_eq!(app.subscribe(subscriber).await.status(), StatusCode::OK);
    }
    assert_eq!(app.call("admin/operations", &[]).await.status(), StatusCode::UNAUTHORIZED);
    app.login().await;
    let id = app.send_plain("Hello").await;
    let campaign = app.wait_until_sent(id).await;
    assert_eq!((campaign.sent, campaign.failed), (1, 1));

    let response = app.call("admin/operations", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let status: OperationsStatus = response.json().await.unwrap();
    let me = status.instances.iter().find(|i| i.this_one).expect("this instance is listed");
    assert_eq!(me.id, app.server_instance());
    assert_eq!(me.version, env!("CARGO_PKG_VERSION"));
    assert!(!me.host.is_empty());
    assert_eq!(me.sending, 0, "idle once the campaign is sent");
    assert_eq!(status.queue, QueueDepth::default());
    // Three attempts (the tests' retry policy): two retries and the final failure.
    let failures: i64 = status.errors.iter().filter(|e| e.error.starts_with("HTTP 500")).map(|e| e.count).sum();
    assert_eq!(failures, 3, "{:?}", status.errors);
    assert!(status.errors.iter().all(|e| e.campaign_id == id && e.status_code == Some(500)));
    assert!(status.errors.iter().all(|e| !e.error.contains(&failing.endpoint)), "no endpoint in the errors");
}
