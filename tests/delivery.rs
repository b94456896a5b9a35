//! A campaign goes out to every subscriber, encrypted and signed, and each outcome is kept.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{spawn_app, PushService, VAPID_SUBJECT};

const CAMPAIGN: &[(&str, &str)] = &[
    ("title", "Spring sale"),
    ("body", "Everything 20% off — until Sunday ✨"),
    ("url", "https://shop.example/sale"),
    ("icon", "https://shop.example/icon.png"),
    ("ttl_secs", "3600"),
    ("urgency", "high"),
];

#[tokio::test]
async fn a_campaign_reaches_every_subscriber_with_exactly_the_composed_payload() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let subscribers: Vec<_> = (0..5).map(|_| push.subscription(StatusCode::CREATED)).collect();
    for subscriber in &subscribers {
        assert_eq!(app.subscribe(subscriber).await.status(), StatusCode::OK);
    }
    app.login().await;

    let id = app.send_campaign(CAMPAIGN).await;
    let campaign = app.wait_until_sent(id).await;

    assert_eq!(push.rejected(), Vec::<String>::new(), "every request must verify and decrypt");
    assert_eq!((campaign.status.as_str(), campaign.targeted, campaign.sent), ("sent", 5, 5));
    let received = push.received();
    let mut clients: Vec<_> = received.iter().map(|r| r.client.clone()).collect();
    clients.sort();
    let mut expected: Vec<_> = subscribers.iter().map(|s| s.client.clone()).collect();
    expected.sort();
    assert_eq!(clients, expected, "each subscriber exactly once");

    let vapid_key = app.vapid_public_key().await;
    for message in received {
        let mut json = message.json();
        let token = json.as_object_mut().unwrap().remove("track").expect("a delivery token for click tracking");
        assert!(token.as_str().unwrap().starts_with(&format!("{id}.")), "{token}");
        assert_eq!(
            json,
            serde_json::json!({
                "campaign": id,
                "title": "Spring sale",
                "body": "Everything 20% off — until Sunday ✨",
                "url": "https://shop.example/sale",
                "icon": "https://shop.example/icon.png",
            })
        );
        assert_eq!(message.ttl.as_deref(), Some("3600"));
        assert_eq!(message.urgency.as_deref(), Some("high"));
        assert_eq!(message.topic, Some(format!("campaign{id}")));
        assert_eq!(message.claims["aud"], push.base, "aud is the endpoint origin with its port");
        assert_eq!(message.claims["sub"], VAPID_SUBJECT);
        assert_eq!(message.vapid_key, vapid_key, "signed with the key browsers subscribed with");
    }
}

/// Each subscription's last successful push, as (subscription, Unix seconds), by id.
async fn last_successes(app: &support::TestApp) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT subscription_id, at FROM subscription_last_success ORDER BY subscription_id")
        .fetch_all(app.state.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_subscription_keeps_the_time_of_its_last_successful_push_until_it_is_deleted() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let subscriptions = [
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::BAD_REQUEST),
    ];
    for subscription in &subscriptions {
        assert_eq!(app.subscribe(subscription).await.status(), StatusCode::OK);
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM subscriptions ORDER BY id").fetch_all(app.state.store.pool()).await.unwrap();
    app.login().await;
    let started = tidings::clock::now_ms() / 1000;
    let first = app.send_plain("First").await;
    app.wait_until_sent(first).await;
    let recorded = last_successes(&app).await;
    assert_eq!(recorded.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids[..2], "the refused one never succeeded");
    assert!(recorded.iter().all(|(_, at)| *at >= started), "{recorded:?}");

    // A later success replaces the time.
    sqlx::query("UPDATE subscription_last_success SET at = 1").execute(app.state.store.pool()).await.unwrap();
    let second = app.send_plain("Second").await;
    app.wait_until_sent(second).await;
    let recorded = last_successes(&app).await;
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|(_, at)| *at >= started), "{recorded:?}");

    // A deleted subscription takes its time with it.
    sqlx::query("DELETE FROM subscriptions WHERE id = $1").bind(ids[0]).execute(app.state.store.pool()).await.unwrap();
    assert_eq!(last_successes(&app).await.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [ids[1]]);
}

/// The claim at the store: due deliveries with their recipients, each taken once, and one
/// whose subscription is gone marked expired instead of handed out.
#[tokio::test]
async fn a_claim_hands_out_due_deliveries_with_their_recipients_once_and_expires_the_unsubscribed() {
    let dir = tempfile::tempdir().unwrap();
    let store = tidings::store::Store::open(&support::fresh_database_url(dir.path()).await).await.unwrap();
    let pool = store.pool();
    for (endpoint, p256dh, auth) in
        [("https://push.test/a", "key-a", "auth-a"), ("https://push.test/b", "key-b", "auth-b")]
    {
        sqlx::query("INSERT INTO subscriptions (endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, 1)")
            .bind(endpoint)
            .bind(p256dh)
            .bind(auth)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO campaigns (title, ttl_secs, urgency, status, created_at) VALUES ('Claimed', 60, 'normal', 'sending', 1)")
        .execute(pool)
        .await
        .unwrap();
    // Subscription 3 never existed by the time of the claim (unsubscribed after queueing);
    // subscription 2's delivery is a retry, not due yet.
    let now_ms = tidings::clock::now_ms();
    for (subscription, attempts, next_attempt_at) in [(1, 2, 0), (2, 0, now_ms + 60_000), (3, 0, 0)] {
        sqlx::query(
            "INSERT INTO deliveries (campaign_id, subscription_id, status, attempts, next_attempt_at, variant)
             VALUES (1, $1, 'pending', $2, $3, 1)",
        )
        .bind(subscription)
        .bind(attempts)
        .bind(next_attempt_at)
        .execute(pool)
        .await
        .unwrap();
    }
    let me = tidings::store::InstanceId::generate();
    store.heartbeat(&me).await.unwrap();

    let claimed = store.claim_deliveries(&me, 7, 1, 10, now_ms).await.unwrap();
    let [delivery] = claimed.as_slice() else { panic!("only the due one with a subscriber: {claimed:?}") };
    assert_eq!(
        (delivery.recipient.id, delivery.recipient.endpoint.as_str(), delivery.recipient.p256dh.as_str()),
        (1, "https://push.test/a", "key-a")
    );
    assert_eq!(
        (delivery.recipient.auth.as_str(), delivery.attempts, delivery.term, delivery.variant),
        ("auth-a", 2, 7, 1)
    );
    let states: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT subscription_id, status, last_error FROM deliveries ORDER BY subscription_id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        [
            (1, "sending".to_owned(), None),
            (2, "pending".to_owned(), None),
            (3, "expired".to_owned(), Some("unsubscribed before sending".to_owned())),
        ]
    );
    assert!(store.claim_deliveries(&me, 7, 1, 10, now_ms).await.unwrap().is_empty(), "nothing is handed out twice");
    let later = store.claim_deliveries(&me, 7, 1, 10, now_ms + 60_000).await.unwrap();
    assert_eq!(later.iter().map(|d| d.recipient.id).collect::<Vec<_>>(), [2], "the retry once it is due");
}

#[tokio::test]
async fn a_rich_campaign_carries_its_image_badge_buttons_and_collapse_topic() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.subscribe(&push.subscription(StatusCode::CREATED)).await;
    app.login().await;
    let id = app
        .send_campaign(&[
            ("title", "Flash sale"),
            ("body", "Two hours only"),
            ("url", "https://shop.example/flash"),
            ("icon", "https://shop.example/icon.png"),
            ("image", "https://shop.example/banner.jpg"),
            ("badge", "/badge.png"),
            ("action1_label", "Shop now"),
            ("action1_url", "https://shop.example/flash?from=button"),
            ("action2_label", "Not today"),
            ("action2_url", "/"),
            ("require_interaction", "on"),
            ("topic", "flash-sale"),
            ("ttl_secs", "3600"),
            ("urgency", "normal"),
        ])
        .await;
    app.wait_until_sent(id).await;
    let received = push.received();
    assert_eq!(received.len(), 1);
    let mut json = received[0].json();
    json.as_object_mut().unwrap().remove("track");
    assert_eq!(
        json,
        serde_json::json!({
            "campaign": id,
            "title": "Flash sale",
            "body": "Two hours only",
            "url": "https://shop.example/flash",
            "icon": "https://shop.example/icon.png",
            "image": "https://shop.example/banner.jpg",
            "badge": "/badge.png",
            "actions": [
                {"title": "Shop now", "url": "https://shop.example/flash?from=button"},
                {"title": "Not today", "url": "/"},
            ],
            "require_interaction": true,
            "topic": "flash-sale",
        })
    );
    assert_eq!(
        received[0].topic.as_deref(),
        Some("flash-sale"),
        "the admin's topic replaces older ones at the push service"
    );
}

#[tokio::test]
async fn a_test_send_reaches_only_the_admins_own_subscription_and_stores_nothing() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let mine = push.subscription(StatusCode::CREATED);
    let someone_else = push.subscription(StatusCode::CREATED);
    app.subscribe(&mine).await;
    app.subscribe(&someone_else).await;
    let form = |endpoint: &str| {
        vec![
            ("endpoint", endpoint.to_owned()),
            ("form[title]", "Does this look right?".to_owned()),
            ("form[body]", "A test".to_owned()),
            ("form[ttl_secs]", "60".to_owned()),
            ("form[urgency]", "high".to_owned()),
        ]
    };
    let call = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>();
        let request = app.client.post(format!("{}/api/admin/send_test", app.base)).form(&fields);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(call(form(&mine.endpoint)).await.status(), StatusCode::UNAUTHORIZED);
    app.login().await;

    let sent = call(form(&mine.endpoint)).await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.unwrap().contains("Sent to this browser"));
    let received = push.received();
    assert_eq!(received.len(), 1, "only the admin's own browser");
    assert_eq!(received[0].client, mine.client);
    assert_eq!(received[0].json()["title"], "Does this look right?");
    assert!(app.campaigns().await.is_empty(), "a test is not a campaign");

    let unknown = call(form("https://fcm.googleapis.com/fcm/send/not-ours")).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut invalid = form(&mine.endpoint);
    invalid[1].1 = " ".into();
    assert_eq!(call(invalid).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(push.received().len(), 1);
}

#[tokio::test]
async fn a_bad_field_is_named_in_the_error_and_nothing_is_queued() {
    let app = spawn_app().await;
    app.login().await;
    let response = app
        .call(
            "admin/send_campaign",
            &[
                ("title", "T"),
                ("body", ""),
                ("url", ""),
                ("icon", ""),
                ("action1_label", "Go"),
                ("action1_url", "javascript:alert(1)"),
                ("ttl_secs", "3600"),
                ("urgency", "normal"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["InvalidField"]["field"], "action1_url", "{error}");
    assert!(app.campaigns().await.is_empty());
}

#[tokio::test]
async fn a_410_deletes_the_subscription_and_counts_it_expired() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let gone = push.subscription(StatusCode::GONE);
    let fine = push.subscription(StatusCode::CREATED);
    app.subscribe(&gone).await;
    app.subscribe(&fine).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.expired, campaign.failed), (1, 1, 0));
    assert_eq!(app.subscription_count().await, 1, "the expired subscription is deleted");
    let next = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;
    assert_eq!((next.targeted, next.sent), (1, 1), "the next campaign no longer targets it");
}

#[tokio::test]
async fn a_404_also_expires_the_subscription() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.subscribe(&push.subscription(StatusCode::NOT_FOUND)).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!(campaign.expired, 1);
    assert_eq!(app.subscription_count().await, 0);
}

#[tokio::test]
async fn a_500_keeps_the_subscription_and_counts_it_failed() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.subscribe(&push.subscription(StatusCode::INTERNAL_SERVER_ERROR)).await;
    app.subscribe(&push.subscription(StatusCode::CREATED)).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.failed, campaign.expired), (1, 1, 0));
    assert_eq!(app.subscription_count().await, 2, "a server error is no reason to drop a subscriber");
}

#[tokio::test]
async fn a_redirect_from_a_push_service_is_not_followed() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.subscribe(&push.subscription(StatusCode::TEMPORARY_REDIRECT)).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!(push.redirects_followed(), 0, "a redirect could point the sender at an internal address");
    assert_eq!((campaign.sent, campaign.failed), (0, 1));
}

#[tokio::test]
async fn an_unreachable_push_service_fails_the_delivery_and_keeps_the_subscription() {
    let app = spawn_app().await;
    // Bind and drop a listener: nothing accepts connections on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let push = PushService::start().await;
    let mut subscription = push.subscription(StatusCode::CREATED);
    subscription.endpoint = format!("http://127.0.0.1:{port}/push/{}", subscription.client);
    app.subscribe(&subscription).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.failed), (0, 1));
    assert_eq!(app.subscription_count().await, 1);
}

// Sending now to nobody is refused (tests/topics.rs); a scheduled campaign that finds
// nobody when it starts finishes at once (tests/scheduling.rs).

/// The `silent` switch, from the form to the payload, through a saved draft, its edit form
/// and a duplicate: the path every notification option takes (`NotificationOptions`).
#[tokio::test]
async fn a_silent_campaign_says_so_in_its_payload_and_keeps_it_through_drafts_and_copies() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    assert_eq!(app.subscribe(&push.subscription(StatusCode::CREATED)).await.status(), StatusCode::OK);
    app.login().await;
    let fields = [("title", "Quiet news"), ("silent", "on"), ("ttl_secs", "3600"), ("urgency", "normal")];

    let draft: i64 =
        app.call("admin/send_campaign", &[&fields[..], &[("intent", "draft")]].concat()).await.json().await.unwrap();
    let report: tidings::campaign::CampaignReport =
        app.call("admin/campaign_report", &[("id", &draft.to_string())]).await.json().await.unwrap();
    assert!(report.form.options.silent, "the edit form shows the switch as saved");
    let copy: i64 = app.call("admin/duplicate_campaign", &[("id", &draft.to_string())]).await.json().await.unwrap();
    let report: tidings::campaign::CampaignReport =
        app.call("admin/campaign_report", &[("id", &copy.to_string())]).await.json().await.unwrap();
    assert!(report.form.options.silent, "a duplicate keeps it");

    let sent = app.send_campaign(&fields).await;
    app.wait_until_sent(sent).await;
    let loud = app.send_campaign(&[("title", "Loud news"), ("ttl_secs", "3600"), ("urgency", "normal")]).await;
    app.wait_until_sent(loud).await;
    let payloads: Vec<serde_json::Value> = push.received().iter().map(|r| r.json()).collect();
    let of = |id: i64| payloads.iter().find(|p| p["campaign"] == id).expect("a push for the campaign").clone();
    assert_eq!(of(sent)["silent"], true);
    assert!(of(loud).get("silent").is_none(), "an unticked switch is left out of the payload");
}

/// PostgreSQL only: once a large audience is queued, the queue's statistics are refreshed at
/// once. Without them the planner takes 10,000 new deliveries for a handful and reads the
/// whole queue for every batch of outcomes (318 msg/s at 20,000 in the benchmark).
#[tokio::test]
async fn a_large_queue_gets_fresh_statistics_at_once_on_postgresql() {
    let app = spawn_app().await;
    if !app.config().database_url.starts_with("postgres") {
        eprintln!("skipped: needs TIDINGS_TEST_POSTGRES (the PostgreSQL pass of `make test`)");
        return;
    }
    // A push service outside the allowed list: each delivery fails at once, nothing is sent.
    sqlx::query(
        "INSERT INTO subscriptions (endpoint, p256dh, auth, created_at)
         SELECT 'https://push.example.invalid/' || g, 'k', 'a', 0 FROM generate_series(1, 10000) g",
    )
    .execute(app.state.store.pool())
    .await
    .unwrap();
    app.login().await;
    app.send_plain("Ten thousand").await;

    // Only an explicit ANALYZE sets last_analyze (autovacuum's is last_autoanalyze).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let analyzed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = 'deliveries' AND last_analyze IS NOT NULL",
        )
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
        if analyzed == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the delivery queue was not analyzed after queueing 10,000");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
