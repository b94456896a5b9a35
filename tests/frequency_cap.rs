//! The frequency cap: a site's limit on campaign pushes per subscriber in any 24 hours and
//! any 7 days, counted across campaigns by when each went out (the scheduling clock, which
//! the test moves). Exactly the over-cap deliveries are skipped and counted as capped;
//! transactional API messages are neither capped nor counted.

use reqwest::StatusCode;
use serde_json::json;
use tidings::api::NewApiKey;
use tidings::audit::AuditEntry;
use tidings::campaign::{AdminZone, CampaignSummary};
use tidings::clock::Clock;
use tidings::site::{FrequencyCap, SiteDetail};
use tidings::subscription::history::SubscriptionHistory;

use crate::support;
use support::{spawn_app_with, PushService, TestApp, TestSubscription};

/// Tidings' own page: the site every test subscriber joins through.
const OWN_SITE: &str = "1";

async fn set_cap(app: &TestApp, per_day: &str, per_week: &str) -> reqwest::Response {
    app.call("admin/set_site_cap", &[("id", OWN_SITE), ("per_day", per_day), ("per_week", per_week)]).await
}

async fn site_cap(app: &TestApp) -> FrequencyCap {
    let response = app.call("admin/site", &[("id", OWN_SITE)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<SiteDetail>().await.unwrap().cap
}

/// A campaign scheduled for `at` (to `topic` only, if given), started by moving the clock
/// there; returns it once it has finished.
async fn campaign_at(app: &TestApp, at: i64, title: &str, topic: Option<i64>) -> CampaignSummary {
    let send_at = AdminZone::named("UTC").unwrap().input_value(at);
    let audience = topic.map(|t| t.to_string()).unwrap_or_default();
    let mut fields = support::plain_campaign(title).to_vec();
    fields.extend([("when", "later"), ("send_at", send_at.as_str()), ("audience", audience.as_str())]);
    let response = app.call("admin/send_campaign", &fields).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let id: i64 = response.json().await.unwrap();
    app.state.config.clock.set(at);
    app.wait_for_status(id, "sent").await;
    app.wait_until_sent(id).await
}

/// Titles of what `subscriber` was sent, oldest first.
fn titles(push: &PushService, subscriber: &TestSubscription) -> Vec<String> {
    push.received()
        .iter()
        .filter(|r| r.client == subscriber.client)
        .map(|r| r.json()["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn history(app: &TestApp, subscriber: &TestSubscription) -> SubscriptionHistory {
    let response = app.call("admin/subscriber_deliveries", &[("to", &subscriber.endpoint)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let mut found: Vec<SubscriptionHistory> = response.json().await.unwrap();
    assert_eq!(found.len(), 1);
    found.remove(0)
}

#[tokio::test]
async fn the_cap_counts_across_campaigns_skips_exactly_the_over_cap_deliveries_and_spares_api_messages() {
    let start = tidings::store::now() / 60 * 60;
    let app = spawn_app_with(|config| config.clock = Clock::manual(start)).await;
    let push = PushService::start().await;
    app.login_in_time_zone("UTC").await;
    let response = app.call("admin/create_topic", &[("name", "News")]).await;
    let news: i64 = response.json().await.unwrap();
    let (ana, ben) = (push.subscription(StatusCode::CREATED), push.subscription(StatusCode::CREATED));
    for (subscriber, topics) in [(&ana, news.to_string()), (&ben, String::new())] {
        let form = [
            ("endpoint", subscriber.endpoint.as_str()),
            ("p256dh", &subscriber.p256dh),
            ("auth", &subscriber.auth),
            ("topics", &topics),
        ];
        assert_eq!(app.call("subscribe", &form).await.status(), StatusCode::OK);
    }

    // Two a day, three a week.
    let saved = set_cap(&app, " 2", "3 ").await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap());
    assert_eq!(site_cap(&app).await, FrequencyCap { per_day: Some(2), per_week: Some(3) });

    // Ana has two campaigns (one to everyone, one to her topic) when the third comes: she
    // is skipped. Ben has had one, so he gets it.
    let first = campaign_at(&app, start + 60, "First", None).await;
    let second = campaign_at(&app, start + 120, "Second", Some(news)).await;
    assert_eq!((first.sent, first.capped, second.sent, second.capped), (2, 0, 1, 0));
    let third = campaign_at(&app, start + 180, "Third", None).await;
    assert_eq!((third.targeted, third.sent, third.capped), (1, 1, 1), "{third:?}");
    assert_eq!(titles(&push, &ana), ["First", "Second"]);
    assert_eq!(titles(&push, &ben), ["First", "Third"]);

    // An API message still reaches her, and does not count towards the cap.
    let key = app.call("admin/create_api_key", &[("name", "shop"), ("scopes", "send"), ("sites", "")]).await;
    let key: NewApiKey = key.json().await.unwrap();
    let ana_id = history(&app, &ana).await.id;
    let message = reqwest::Client::new()
        .post(format!("{}/api/v1/messages", app.base))
        .bearer_auth(&key.token)
        .json(&json!({ "subscription_id": ana_id, "title": "Your order shipped" }))
        .send()
        .await
        .unwrap();
    assert!(message.status().is_success(), "{}", message.text().await.unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while titles(&push, &ana).len() < 3 {
        assert!(std::time::Instant::now() < deadline, "the API message never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(titles(&push, &ana)[2], "Your order shipped");

    // A day later the day's count starts again, the week's does not: both get the fourth
    // (their third this week), and nobody the fifth, which is a campaign all the same.
    let fourth = campaign_at(&app, start + 86_400 + 120, "Fourth", None).await;
    assert_eq!((fourth.sent, fourth.capped), (2, 0), "{fourth:?}");
    let fifth = campaign_at(&app, start + 86_400 + 180, "Fifth", None).await;
    assert_eq!((fifth.status.as_str(), fifth.sent, fifth.capped), ("sent", 0, 2), "{fifth:?}");
    assert_eq!(titles(&push, &ana), ["First", "Second", "Your order shipped", "Fourth"]);
    assert_eq!(titles(&push, &ben), ["First", "Third", "Fourth"]);

    // "Why didn't they get it?" names the cap, for exactly the skipped campaigns.
    let ana_history = history(&app, &ana).await;
    let capped: Vec<i64> =
        ana_history.deliveries.iter().filter(|d| d.status == "capped").map(|d| d.campaign_id).collect();
    assert_eq!(capped, [fifth.id, third.id]);
    assert!(ana_history.deliveries[0].explanation().contains("frequency cap"));
    assert_eq!(ana_history.deliveries.len(), 6, "five campaigns and the message");

    // Without a cap, everyone gets everything again.
    assert_eq!(set_cap(&app, "", "").await.status(), StatusCode::OK);
    let sixth = campaign_at(&app, start + 86_400 + 240, "Sixth", None).await;
    assert_eq!((sixth.sent, sixth.capped), (2, 0));

    // Each change is in the audit log, with what it was before: newest first.
    let log = app.call("admin/audit_log", &[("action", "site.cap")]).await;
    let log: Vec<AuditEntry> = log.json().await.unwrap();
    let json = |text: &Option<String>| serde_json::from_str::<serde_json::Value>(text.as_deref().unwrap()).unwrap();
    let (none, two_and_three) = (json!({ "per_day": null, "per_week": null }), json!({ "per_day": 2, "per_week": 3 }));
    assert_eq!(log.len(), 2);
    assert_eq!((json(&log[1].before), json(&log[1].after)), (none.clone(), two_and_three.clone()));
    assert_eq!((json(&log[0].before), json(&log[0].after)), (two_and_three, none));
}

#[tokio::test]
async fn a_bad_cap_is_refused_with_its_field_and_changes_nothing() {
    let app = spawn_app_with(|_| {}).await;
    app.login().await;
    assert_eq!(set_cap(&app, "5", "20").await.status(), StatusCode::OK);
    for (per_day, per_week, field) in [
        ("0", "", "per_day"),
        ("101", "", "per_day"),
        ("a few", "", "per_day"),
        ("", "501", "per_week"),
        ("5", "4", "per_week"),
    ] {
        let refused = set_cap(&app, per_day, per_week).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{per_day:?} {per_week:?}");
        let error: tidings::error::AppError = refused.json().await.unwrap();
        assert_eq!(error.field_name(), Some(field));
    }
    assert_eq!(site_cap(&app).await, FrequencyCap { per_day: Some(5), per_week: Some(20) });

    // Only owners set it.
    let editor = app.signed_in_as("eddie", "editor").await;
    let refused = support::call(
        &editor,
        &app.base,
        "admin/set_site_cap",
        &[("id", OWN_SITE), ("per_day", "1"), ("per_week", "")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(site_cap(&app).await.per_day, Some(5));
}

/// Two campaigns taking their audiences at the same moment: each must count the other's
/// pushes, or both slip under the cap. (SQLite has one writer at a time; PostgreSQL needs
/// the lock `create_deliveries` takes.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_campaigns_sent_at_the_same_moment_cannot_both_pass_the_cap() {
    let app = spawn_app_with(|_| {}).await;
    let push = PushService::start().await;
    app.login().await;
    assert_eq!(set_cap(&app, "1", "").await.status(), StatusCode::OK);
    for round in 0..8 {
        // A newcomer with nothing sent yet; everyone from earlier rounds is at the cap.
        let newcomer = push.subscription(StatusCode::CREATED);
        assert_eq!(app.subscribe(&newcomer).await.status(), StatusCode::OK);
        let (a, b) = (format!("Round {round}, first"), format!("Round {round}, second"));
        let (a, b) = (support::plain_campaign(&a), support::plain_campaign(&b));
        let (first, second) = tokio::join!(app.send_campaign(&a), app.send_campaign(&b));
        let (first, second) = (app.wait_until_sent(first).await, app.wait_until_sent(second).await);
        assert_eq!(first.sent + second.sent, 1, "round {round}: {first:?} {second:?}");
        assert_eq!(first.capped + second.capped, 2 * round + 1, "round {round}");
        assert_eq!(titles(&push, &newcomer).len(), 1, "round {round}");
    }
}
