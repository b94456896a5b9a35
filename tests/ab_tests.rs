//! A/B tests end to end: the audience split as `campaign::ab::assign` says (hold-out,
//! test group by variant, the rest), each recipient decrypting their own variant, the
//! winner going to the rest only once the chosen time has come on the scheduling clock
//! (which the tests move), and an admin's pick.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tidings::campaign::ab::{assign, AbReport, AbTest, Group, Pick};
use tidings::campaign::{AdminZone, CampaignReport};
use tidings::clock::Clock;
use tidings::subscription::history::SubscriptionHistory;

use crate::support;
use support::{spawn_app_with, PushService, TestApp, TestSubscription};

const VARIANT_B: &str = r#"[{"title": "Title B", "body": "Other words", "url": "/b"}]"#;

async fn report(app: &TestApp, id: i64) -> CampaignReport {
    let response = app.call("admin/campaign_report", &[("id", &id.to_string())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The test's report once every delivery of the test group has been sent.
async fn test_group_sent(app: &TestApp, id: i64) -> AbReport {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(ab) = report(app, id).await.ab {
            let (sent, targeted): (i64, i64) =
                ab.variants.iter().fold((0, 0), |(s, t), v| (s + v.sent, t + v.targeted));
            if targeted > 0 && sent == targeted {
                return ab;
            }
        }
        assert!(Instant::now() < deadline, "the test group was not sent in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `count` subscribers, one after another, with their subscription ids.
async fn subscribers(app: &TestApp, push: &PushService, count: usize) -> Vec<(i64, TestSubscription)> {
    let mut all = Vec::new();
    for _ in 0..count {
        let subscriber = push.subscription(StatusCode::CREATED);
        assert_eq!(app.subscribe(&subscriber).await.status(), StatusCode::OK);
        let found = app.call("admin/subscriber_deliveries", &[("to", &subscriber.endpoint)]).await;
        let found: Vec<SubscriptionHistory> = found.json().await.unwrap();
        all.push((found[0].id, subscriber));
    }
    all
}

/// What each subscriber received: titles and tracking tokens, by the push client.
fn received(push: &PushService) -> HashMap<String, Vec<(String, String)>> {
    let mut by_client: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for message in push.received() {
        let json = message.json();
        let (title, token) = (json["title"].as_str().unwrap().to_owned(), json["track"].as_str().unwrap().to_owned());
        by_client.entry(message.client.clone()).or_default().push((title, token));
    }
    by_client
}

#[tokio::test]
async fn the_winner_goes_to_the_rest_only_after_the_chosen_time_and_the_hold_out_gets_nothing() {
    let start = tidings::store::now() / 60 * 60;
    let app = spawn_app_with(|config| config.clock = Clock::manual(start)).await;
    let push = PushService::start().await;
    app.login_in_time_zone("UTC").await;
    let people = subscribers(&app, &push, 60).await;

    let send_at = AdminZone::named("UTC").unwrap().input_value(start + 60);
    let mut fields = support::plain_campaign("Title A").to_vec();
    fields.extend([
        ("when", "later"),
        ("send_at", send_at.as_str()),
        ("variants", VARIANT_B),
        ("ab_test_percent", "50"),
        ("ab_wait_minutes", "60"),
        ("ab_pick", "auto"),
        ("ab_holdout_percent", "10"),
    ]);
    let id = app.send_campaign(&fields).await;
    app.state.config.clock.set(start + 60);
    let ab = test_group_sent(&app, id).await;

    // Everyone is where `assign` puts them, and got exactly their variant (or nothing).
    let plan = AbTest { test_percent: 50, wait_minutes: 60, pick: Pick::Auto, holdout_percent: 10 };
    let group = |subscription: i64| assign(id, subscription, &plan, 2);
    let got = received(&push);
    let mut count = HashMap::<&str, i64>::new();
    for (subscription, person) in &people {
        let titles: Vec<&str> = got.get(&person.client).into_iter().flatten().map(|(t, _)| t.as_str()).collect();
        let (name, expected): (&str, &[&str]) = match group(*subscription) {
            Group::HeldOut => ("held out", &[]),
            Group::Rest => ("rest", &[]),
            Group::Test(0) => ("A", &["Title A"]),
            Group::Test(_) => ("B", &["Title B"]),
        };
        assert_eq!(titles, expected, "subscription {subscription} ({name})");
        *count.entry(name).or_default() += 1;
    }
    for name in ["held out", "rest", "A", "B"] {
        assert!(count.get(name).copied().unwrap_or(0) > 0, "nobody in {name}: {count:?}");
    }
    assert_eq!(ab.held_out, count["held out"]);
    assert_eq!(ab.waiting, count["rest"]);
    assert_eq!((ab.variants[0].sent, ab.variants[1].sent), (count["A"], count["B"]));
    assert_eq!(ab.winner, None);
    assert!(ab.decides_at.is_some());

    // Everyone who got B clicks it; nobody who got A does.
    for (title, token) in got.values().flatten() {
        if title == "Title B" {
            let click = app.call("track", &[("token", token), ("event", "click"), ("action", "")]).await;
            assert_eq!(click.status(), StatusCode::OK);
        }
    }

    // A second before the hour is up, the rest still waits.
    app.state.config.clock.set(start + 60 + 3599);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(push.received().len() as i64, count["A"] + count["B"], "sent to the rest before the time");
    assert_eq!(report(&app, id).await.ab.unwrap().winner, None);

    // On the hour, B (every click) goes to the rest; the hold-out still gets nothing.
    app.state.config.clock.set(start + 60 + 3600);
    app.wait_for_status(id, "sent").await;
    let got = received(&push);
    for (subscription, person) in &people {
        let titles: Vec<&str> = got.get(&person.client).into_iter().flatten().map(|(t, _)| t.as_str()).collect();
        match group(*subscription) {
            Group::Rest => assert_eq!(titles, ["Title B"], "subscription {subscription} (rest)"),
            Group::HeldOut => assert!(titles.is_empty(), "subscription {subscription} (held out)"),
            Group::Test(_) => assert_eq!(titles.len(), 1, "subscription {subscription} (tested) got more"),
        }
    }
    let done = report(&app, id).await;
    let ab = done.ab.unwrap();
    assert_eq!(ab.winner, Some('B'));
    assert_eq!(ab.variants[1].sent, count["B"] + count["rest"]);
    assert_eq!((ab.waiting, done.summary.sent), (0, 60 - count["held out"]));
    assert!(ab.verdict.sentence().contains("two-proportion z-test"), "{}", ab.verdict.sentence());

    // Support sees why a held-out subscriber got nothing.
    let (_, held) = people.iter().find(|(s, _)| group(*s) == Group::HeldOut).unwrap();
    let found = app.call("admin/subscriber_deliveries", &[("to", &held.endpoint)]).await;
    let found: Vec<SubscriptionHistory> = found.json().await.unwrap();
    assert_eq!(found[0].deliveries.len(), 1);
    assert_eq!(found[0].deliveries[0].status, "held_out");
}

#[tokio::test]
async fn an_admin_picks_the_winner_once_and_bad_picks_change_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let push = PushService::start().await;
    app.login().await;
    let people = subscribers(&app, &push, 20).await;
    let mut fields = support::plain_campaign("Title A").to_vec();
    fields.extend([("variants", VARIANT_B), ("ab_test_percent", "50"), ("ab_pick", "manual")]);
    let id = app.send_campaign(&fields).await;
    let ab = test_group_sent(&app, id).await;
    assert!(ab.may_pick && ab.decides_at.is_none(), "{ab:?}");
    let tested = push.received().len();

    for variant in ["E", "C", ""] {
        let pick = app.call("admin/pick_winner", &[("id", &id.to_string()), ("variant", variant)]).await;
        assert_eq!(pick.status(), StatusCode::UNPROCESSABLE_ENTITY, "{variant:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(push.received().len(), tested, "a refused pick sent something");

    let pick = app.call("admin/pick_winner", &[("id", &id.to_string()), ("variant", "A")]).await;
    assert_eq!(pick.status(), StatusCode::OK, "{}", pick.text().await.unwrap());
    let again = app.call("admin/pick_winner", &[("id", &id.to_string()), ("variant", "B")]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    app.wait_for_status(id, "sent").await;
    let got = received(&push);
    let plan = AbTest { test_percent: 50, wait_minutes: 60, pick: Pick::Manual, holdout_percent: 0 };
    for (subscription, person) in &people {
        let titles: Vec<&str> = got.get(&person.client).into_iter().flatten().map(|(t, _)| t.as_str()).collect();
        let expected = match assign(id, *subscription, &plan, 2) {
            Group::Test(1) => "Title B",
            _ => "Title A",
        };
        assert_eq!(titles, [expected], "subscription {subscription}");
    }
    assert_eq!(report(&app, id).await.ab.unwrap().winner, Some('A'));
}

#[tokio::test]
async fn bad_variants_and_test_settings_are_refused_and_save_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let push = PushService::start().await;
    app.login().await;
    app.subscribe(&push.subscription(StatusCode::CREATED)).await;
    let four = r#"[{"title": "B"}, {"title": "C"}, {"title": "D"}, {"title": "E"}]"#;
    let cases: [(&str, &str, &str, &str); 6] = [
        ("variants", r#"[{"title": " "}]"#, "", "Variant B"),
        ("variants", r#"[{"title": "B", "url": "javascript:alert(1)"}]"#, "", "Variant B"),
        ("variants", four, "", "at most four"),
        ("variants", "not json", "", ""),
        ("ab_holdout_percent", "60", VARIANT_B, "hold-out"),
        ("ab_test_percent", "0", VARIANT_B, "test group"),
    ];
    for (field, value, variants, says) in cases {
        let mut fields = support::plain_campaign("Title A").to_vec();
        if !variants.is_empty() {
            fields.push(("variants", variants));
        }
        fields.push((field, value));
        let response = app.send_campaign_response(&fields).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_client_error(), "{field}={value}: {status} {text}");
        assert!(text.contains(says), "{field}={value}: {text}");
    }
    assert!(app.campaigns().await.is_empty(), "a refused campaign was saved");
    assert!(push.received().is_empty());
}

#[tokio::test]
async fn an_api_key_runs_a_test_with_a_hold_out() {
    let app = spawn_app_with(|_| {}).await;
    let push = PushService::start().await;
    app.login().await;
    let people = subscribers(&app, &push, 30).await;
    let key = app.call("admin/create_api_key", &[("name", "shop"), ("scopes", "send,read"), ("sites", "")]).await;
    let key: tidings::api::NewApiKey = key.json().await.unwrap();
    let body = serde_json::json!({
        "title": "Title A",
        "variants": [{ "title": "Title B", "actions": [{ "label": "Shop", "url": "/shop" }] }],
        "ab_test": { "holdout_percent": 20 },
    });
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/campaigns", app.base))
        .bearer_auth(&key.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().await.unwrap());
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    app.wait_for_status(id, "sent").await;

    let plan = AbTest { test_percent: 100, wait_minutes: 60, pick: Pick::Auto, holdout_percent: 20 };
    let mut held_out = 0;
    for message in push.received() {
        let json = message.json();
        let subscription = people.iter().find(|(_, p)| p.client == message.client).unwrap().0;
        let (title, buttons) = match assign(id, subscription, &plan, 2) {
            Group::Test(0) => ("Title A", 0),
            Group::Test(_) => ("Title B", 1),
            other => panic!("subscription {subscription} ({other:?}) was sent to"),
        };
        assert_eq!((json["title"].as_str().unwrap(), json["actions"].as_array().map_or(0, Vec::len)), (title, buttons));
    }
    for (subscription, _) in &people {
        held_out += i64::from(assign(id, *subscription, &plan, 2) == Group::HeldOut);
    }
    let ab = report(&app, id).await.ab.unwrap();
    assert!(held_out > 0);
    assert_eq!((ab.held_out, push.received().len() as i64), (held_out, 30 - held_out));
}
