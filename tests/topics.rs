//! Topics: visitors choose them (by their browser's subscription), admins manage them,
//! and a campaign aimed at topics reaches exactly their subscribers.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app, PushService, TestApp, TestSubscription};
use tidings::topic::{Topic, TopicChoice};

async fn create_topic(app: &TestApp, name: &str) -> i64 {
    let response = app.call("admin/create_topic", &[("name", name)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn subscribe_to(app: &TestApp, subscriber: &TestSubscription, topics: &str) -> reqwest::Response {
    app.call(
        "subscribe",
        &[
            ("endpoint", &subscriber.endpoint),
            ("p256dh", &subscriber.p256dh),
            ("auth", &subscriber.auth),
            ("topics", topics),
        ],
    )
    .await
}

async fn my_topics(app: &TestApp, subscriber: &TestSubscription) -> Vec<i64> {
    let response = app.call("my_topics", &[("endpoint", &subscriber.endpoint)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn send_to(app: &TestApp, audience: &str) -> reqwest::Response {
    app.call(
        "admin/send_campaign",
        &[
            ("title", "News"),
            ("body", ""),
            ("url", ""),
            ("icon", ""),
            ("ttl_secs", "60"),
            ("urgency", "normal"),
            ("audience", audience),
        ],
    )
    .await
}

#[tokio::test]
async fn a_campaign_to_topics_reaches_exactly_their_subscribers_and_one_to_everyone_reaches_all() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let (releases, offers) = (create_topic(&app, "Releases").await, create_topic(&app, "Offers").await);
    let only_releases = push.subscription(StatusCode::CREATED);
    let only_offers = push.subscription(StatusCode::CREATED);
    let both = push.subscription(StatusCode::CREATED);
    let neither = push.subscription(StatusCode::CREATED);
    for (subscriber, topics) in [
        (&only_releases, releases.to_string()),
        (&only_offers, offers.to_string()),
        (&both, format!("{offers},{releases}")),
        (&neither, String::new()),
    ] {
        assert_eq!(subscribe_to(&app, subscriber, &topics).await.status(), StatusCode::OK);
    }

    for (audience, expected) in [
        (releases.to_string(), vec![&only_releases, &both]),
        (format!("{releases},{offers}"), vec![&only_releases, &only_offers, &both]),
        (String::new(), vec![&only_releases, &only_offers, &both, &neither]),
    ] {
        let size: i64 = app.call("admin/audience_size", &[("audience", &audience)]).await.json().await.unwrap();
        assert_eq!(size, expected.len() as i64, "audience size of [{audience}]");
        let before = push.received().len();
        let response = send_to(&app, &audience).await;
        assert_eq!(response.status(), StatusCode::OK);
        let id: i64 = response.json().await.unwrap();
        let sent = app.wait_until_sent(id).await;
        assert_eq!(sent.targeted, expected.len() as i64, "targeted for [{audience}]");
        let mut reached: Vec<String> = push.received()[before..].iter().map(|r| r.client.clone()).collect();
        reached.sort();
        let mut wanted: Vec<String> = expected.iter().map(|s| s.client.clone()).collect();
        wanted.sort();
        assert_eq!(reached, wanted, "who got the campaign to [{audience}]");
    }
}

#[tokio::test]
async fn visitors_see_and_change_their_topics_through_their_subscription() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let (releases, offers) = (create_topic(&app, "Releases").await, create_topic(&app, "Offers").await);
    let visitor = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_to(&app, &visitor, &releases.to_string()).await.status(), StatusCode::OK);
    assert_eq!(my_topics(&app, &visitor).await, vec![releases]);

    // The page re-sends a known subscription on every visit without topics: the choice stays.
    assert_eq!(app.subscribe(&visitor).await.status(), StatusCode::OK);
    assert_eq!(my_topics(&app, &visitor).await, vec![releases]);

    let both = format!("{offers},{releases}");
    let response = app.call("choose_topics", &[("endpoint", &visitor.endpoint), ("topics", &both)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(my_topics(&app, &visitor).await, vec![releases, offers]);

    // Bad choices change nothing.
    for bad in ["999", "abc", &format!("{releases},-1")] {
        let response = app.call("choose_topics", &[("endpoint", &visitor.endpoint), ("topics", bad)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(my_topics(&app, &visitor).await, vec![releases, offers]);
    let stranger = app.call("choose_topics", &[("endpoint", "https://push.example/unknown"), ("topics", "")]).await;
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.call("my_topics", &[("endpoint", "https://push.example/unknown")]).await.status(),
        StatusCode::NOT_FOUND
    );

    // Choosing none is a choice too.
    assert_eq!(
        app.call("choose_topics", &[("endpoint", &visitor.endpoint), ("topics", "")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(my_topics(&app, &visitor).await, Vec::<i64>::new());
}

#[tokio::test]
async fn admins_add_rename_and_archive_topics_and_archived_ones_are_no_longer_offered() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let releases = create_topic(&app, "Releases").await;
    let offers = create_topic(&app, "Offers").await;
    assert_eq!(
        app.call("admin/create_topic", &[("name", "  releases ")]).await.status(),
        StatusCode::CONFLICT,
        "names ignore case"
    );
    assert_eq!(app.call("admin/create_topic", &[("name", " ")]).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let id = releases.to_string();
    assert_eq!(app.call("admin/rename_topic", &[("id", &id), ("name", "Offers")]).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.call("admin/rename_topic", &[("id", &id), ("name", "Product releases")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call("admin/rename_topic", &[("id", "999"), ("name", "Ghost")]).await.status(),
        StatusCode::NOT_FOUND
    );

    let visitor = push.subscription(StatusCode::CREATED);
    subscribe_to(&app, &visitor, &format!("{releases},{offers}")).await;
    let response = app.call("admin/archive_topic", &[("id", &offers.to_string()), ("archived", "true")]).await;
    assert_eq!(response.status(), StatusCode::OK);

    let offered: Vec<TopicChoice> = app.call("topics", &[]).await.json().await.unwrap();
    assert_eq!(offered, vec![TopicChoice { id: releases, name: "Product releases".into() }]);
    let all: Vec<Topic> = app.call("admin/topics", &[]).await.json().await.unwrap();
    assert_eq!(
        all.iter().map(|t| (t.name.as_str(), t.archived, t.subscribers)).collect::<Vec<_>>(),
        vec![("Product releases", false, 1), ("Offers", true, 1)],
        "the archived topic keeps who chose it"
    );
    // An archived topic can be neither chosen nor aimed at; nothing is queued.
    let response = app.call("choose_topics", &[("endpoint", &visitor.endpoint), ("topics", &offers.to_string())]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = send_to(&app, &offers.to_string()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("audience"));
    assert!(app.campaigns().await.is_empty());

    let response = app.call("admin/archive_topic", &[("id", &offers.to_string()), ("archived", "false")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.call("topics", &[]).await.json::<Vec<TopicChoice>>().await.unwrap().len(), 2, "restored");
}

#[tokio::test]
async fn a_renewed_browser_subscription_keeps_its_topics() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let releases = create_topic(&app, "Releases").await;
    let old = push.subscription(StatusCode::CREATED);
    subscribe_to(&app, &old, &releases.to_string()).await;
    let new = push.subscription(StatusCode::CREATED);
    let response = app.resubscribe(&old, &new).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(my_topics(&app, &new).await, vec![releases]);
    assert_eq!(app.call("my_topics", &[("endpoint", &old.endpoint)]).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_campaign_that_would_reach_nobody_is_refused_and_nothing_is_saved() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let (empty, chosen) = (create_topic(&app, "Nobody yet").await, create_topic(&app, "Chosen").await);
    let subscriber = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_to(&app, &subscriber, &chosen.to_string()).await.status(), StatusCode::OK);

    let refused = send_to(&app, &empty.to_string()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("Nobody would receive this"));
    assert!(app.campaigns().await.is_empty(), "no campaign was saved");

    // A draft or a schedule may wait for subscribers to come.
    let draft = app
        .call(
            "admin/send_campaign",
            &[
                ("title", "Later"),
                ("ttl_secs", "60"),
                ("urgency", "normal"),
                ("audience", &empty.to_string()),
                ("intent", "draft"),
            ],
        )
        .await;
    assert_eq!(draft.status(), StatusCode::OK, "{}", draft.text().await.unwrap());
    assert_eq!(app.campaigns().await.len(), 1);

    // With someone in the audience it goes, to exactly them.
    let sent = send_to(&app, &chosen.to_string()).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let campaign = app.wait_until_sent(sent.json().await.unwrap()).await;
    assert_eq!((campaign.targeted, campaign.sent), (1, 1));
}
