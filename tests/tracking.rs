//! Clicks and dismissals reported by the service worker: counted once per delivery, only
//! for genuine tokens of sent deliveries, and rate-limited.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app, PushService};

const CAMPAIGN: &[(&str, &str)] =
    &[("title", "Launch"), ("body", ""), ("url", ""), ("icon", ""), ("ttl_secs", "3600"), ("urgency", "normal")];

/// Sends a campaign to one reachable and one failing subscriber; returns the campaign id
/// and the delivery token each subscriber's message carried (the failing one: none).
async fn sent_campaign(app: &support::TestApp, push: &PushService) -> (i64, String) {
    let reachable = push.subscription(StatusCode::CREATED);
    let failing = push.subscription(StatusCode::BAD_REQUEST);
    app.subscribe(&reachable).await;
    app.subscribe(&failing).await;
    app.login().await;
    let id = app.send_campaign(CAMPAIGN).await;
    app.wait_until_sent(id).await;
    let received = push.received();
    let message = received.iter().find(|r| r.client == reachable.client).expect("the message arrived");
    (id, message.json()["track"].as_str().expect("a token").to_owned())
}

async fn report(app: &support::TestApp, token: &str, event: &str) -> reqwest::Response {
    app.call("track", &[("token", token), ("event", event), ("action", "")]).await
}

#[tokio::test]
async fn a_click_and_a_dismissal_count_once_each() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let (id, token) = sent_campaign(&app, &push).await;

    let first = report(&app, &token, "click").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.json::<bool>().await.unwrap());
    assert!(!report(&app, &token, "click").await.json::<bool>().await.unwrap(), "a repeat is not counted");
    assert!(report(&app, &token, "close").await.json::<bool>().await.unwrap());

    let campaign = app.campaigns().await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!((campaign.clicked, campaign.dismissed, campaign.sent), (1, 1, 1));
    assert_eq!(campaign.click_through_percent(), Some(100.0));
}

#[tokio::test]
async fn forged_tokens_and_unsent_deliveries_are_not_counted() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let (id, token) = sent_campaign(&app, &push).await;
    let (ids, mac) = token.rsplit_once('.').unwrap();
    let (_, subscription) = ids.split_once('.').unwrap();
    let subscription: i64 = subscription.parse().unwrap();

    // The same MAC for the other (failed) delivery, another campaign, or no MAC at all.
    for forged in [
        format!("{id}.{}.{mac}", subscription + 1),
        format!("{}.{subscription}.{mac}", id + 1),
        ids.to_owned(),
        "x".repeat(500),
    ] {
        let refused = report(&app, &forged, "click").await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{forged}");
    }
    assert_eq!(report(&app, &token, "hover").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_action = app.call("track", &[("token", &token), ("event", "click"), ("action", "7")]).await;
    assert_eq!(bad_action.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A genuine token of a delivery that failed: signed by us, but nothing was shown.
    let failed = app
        .state
        .tracking_key
        .sign(tidings::tracking::token::DeliveryId { campaign: id, subscription: subscription + 1 });
    assert!(!report(&app, &failed, "click").await.json::<bool>().await.unwrap());

    let campaign = app.campaigns().await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!((campaign.clicked, campaign.dismissed), (0, 0));
}

#[tokio::test]
async fn a_flood_of_reports_from_one_address_is_cut_off() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let (_, token) = sent_campaign(&app, &push).await;
    let mut statuses = Vec::new();
    for _ in 0..260 {
        statuses.push(report(&app, &token, "click").await.status());
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "no report was refused");
}
