//! The admin's subscriber list, export and import: search by host, topic and date; pages;
//! a full export → wipe → import round trip; malformed rows reported, never stored.

use crate::support;

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{spawn_app, PushService, TestApp};
use tidings::subscription::{ImportReport, SubscriberPage, PAGE_SIZE};

/// A real key pair (from the stand-in) on an endpoint at one of the known push services.
fn at_push_service(push: &PushService, host: &str, n: usize) -> Value {
    let keys = push.subscription(StatusCode::CREATED);
    json!({ "endpoint": format!("https://{host}/send/{n}-{}", keys.client), "expirationTime": null,
            "keys": { "p256dh": keys.p256dh, "auth": keys.auth } })
}

async fn import(app: &TestApp, body: String) -> reqwest::Response {
    app.client.post(format!("{}/admin/subscribers/import", app.base)).body(body).send().await.unwrap()
}

async fn import_ok(app: &TestApp, body: String) -> ImportReport {
    let response = import(app, body).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn search(app: &TestApp, filters: &[(&str, &str)]) -> SubscriberPage {
    let response = app.call("admin/subscribers", filters).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn export(app: &TestApp, format: &str) -> String {
    let response = app.client.get(format!("{}/admin/subscribers/export.{format}", app.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// (endpoint, p256dh, auth, topics) of every subscription in the database.
async fn everything(app: &TestApp) -> BTreeSet<(String, String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT endpoint, p256dh, auth, (SELECT string_agg(t.name, '|' ORDER BY t.name) FROM subscription_topics st
            JOIN topics t ON t.id = st.topic_id WHERE st.subscription_id = s.id) FROM subscriptions s",
    )
    .fetch_all(app.state.store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test]
async fn export_then_wipe_then_import_gives_back_the_same_subscriptions_in_json_and_csv() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let mut rows: Vec<Value> = (0..6).map(|n| at_push_service(&push, "fcm.googleapis.com", n)).collect();
    rows[0]["topics"] = json!(["Releases", "Offers, weekly"]);
    rows[1]["topics"] = json!(["Releases"]);
    assert_eq!(import_ok(&app, Value::from(rows).to_string()).await.added, 6);
    let before = everything(&app).await;

    for format in ["json", "csv"] {
        let file = export(&app, format).await;
        sqlx::query("DELETE FROM subscriptions").execute(app.state.store.pool()).await.unwrap();
        let report = import_ok(&app, file).await;
        assert_eq!((report.added, report.merged, report.rejected), (6, 0, 0), "{format}");
        assert_eq!(everything(&app).await, before, "{format}: the same endpoints, keys and topics");
    }
    // The JSON export is the browser's PushSubscription shape.
    let exported: Vec<Value> = serde_json::from_str(&export(&app, "json").await).unwrap();
    assert_eq!(exported.len(), 6);
    assert!(exported[0]["keys"]["p256dh"].is_string() && exported[0].get("expirationTime").is_some());

    // Importing the same again merges everything.
    let again = import_ok(&app, export(&app, "csv").await).await;
    assert_eq!((again.added, again.merged), (0, 6));
}

/// The import takes a batch of rows at once; the outcome must be what taking them one by
/// one gives.
#[tokio::test]
async fn an_endpoint_named_twice_in_a_file_ends_as_its_rows_taken_in_order_would_leave_it() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let known = at_push_service(&push, "fcm.googleapis.com", 1);
    let mut first = known.clone();
    first["topics"] = json!(["Releases"]);
    assert_eq!(import_ok(&app, json!([first]).to_string()).await.added, 1);

    // `known` again with new keys and new topics, then with newer keys and no topics
    // (which keeps the topics); `twice` new, named twice; then rows in the file's order.
    let rekeyed = at_push_service(&push, "fcm.googleapis.com", 0);
    let mut known_new_topics = known.clone();
    known_new_topics["keys"] = rekeyed["keys"].clone();
    known_new_topics["topics"] = json!(["Offers", "News"]);
    let newest = at_push_service(&push, "fcm.googleapis.com", 0);
    let mut known_newest_keys = known.clone();
    known_newest_keys["keys"] = newest["keys"].clone();
    let twice = at_push_service(&push, "updates.push.services.mozilla.com", 2);
    let mut twice_with_topic = twice.clone();
    twice_with_topic["topics"] = json!(["News"]);
    let later: Vec<Value> = (3..6).map(|n| at_push_service(&push, "fcm.googleapis.com", n)).collect();
    let mut file = vec![twice_with_topic, known_new_topics, twice.clone(), known_newest_keys];
    file.extend(later.iter().cloned());

    let report = import_ok(&app, Value::from(file).to_string()).await;
    assert_eq!((report.added, report.merged, report.rejected), (4, 3, 0), "{report:?}");
    let all = everything(&app).await;
    let row = |endpoint: &Value| all.iter().find(|r| r.0 == endpoint.as_str().unwrap()).unwrap().clone();
    let known_now = row(&known["endpoint"]);
    assert_eq!(
        (known_now.1.as_str(), known_now.3.as_deref()),
        (newest["keys"]["p256dh"].as_str().unwrap(), Some("News|Offers"))
    );
    assert_eq!(row(&twice["endpoint"]).3.as_deref(), Some("News"), "a later row without topics keeps them");
    // New subscriptions are numbered in the file's order.
    let ids: Vec<String> = sqlx::query_scalar("SELECT endpoint FROM subscriptions ORDER BY id")
        .fetch_all(app.state.store.pool())
        .await
        .unwrap();
    let expected: Vec<&str> =
        [&known, &twice, &later[0], &later[1], &later[2]].iter().map(|r| r["endpoint"].as_str().unwrap()).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn malformed_rows_are_rejected_with_their_reason_and_the_rest_imported() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let good = at_push_service(&push, "updates.push.services.mozilla.com", 1);
    let mut bad_key = at_push_service(&push, "fcm.googleapis.com", 2);
    bad_key["keys"]["p256dh"] = json!("not-a-key");
    let mut wrong_host = at_push_service(&push, "fcm.googleapis.com", 3);
    wrong_host["endpoint"] = json!("https://intranet.example/push/3");
    let mut bad_topic = at_push_service(&push, "fcm.googleapis.com", 4);
    bad_topic["topics"] = json!(["a|b"]);
    let file = json!([good, bad_key, wrong_host, {"endpoint": "https://fcm.googleapis.com/x"}, good, bad_topic]);

    let report = import_ok(&app, file.to_string()).await;
    assert_eq!((report.added, report.merged, report.rejected), (1, 1, 4), "{report:?}");
    let rows: Vec<usize> = report.problems.iter().map(|p| p.row).collect();
    assert_eq!(rows, vec![2, 3, 4, 6]);
    assert!(report.problems[1].reason.contains("not a known push service"), "{:?}", report.problems[1]);
    assert!(report.problems[2].reason.contains("keys.p256dh"), "{:?}", report.problems[2]);
    assert_eq!(app.subscription_count().await, 1, "only the valid row is stored");

    // A file that is none of the shapes changes nothing.
    let response = import(&app, "name,email\nAda,ada@example.com\n".into()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("endpoint, p256dh and auth"));
    assert_eq!(app.subscription_count().await, 1);
}

#[tokio::test]
async fn export_and_import_are_for_signed_in_admins_on_this_site_only() {
    let app = spawn_app().await;
    let anonymous = support::spawn_client();
    for format in ["json", "csv"] {
        let response = anonymous.get(format!("{}/admin/subscribers/export.{format}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = anonymous.post(format!("{}/admin/subscribers/import", app.base)).body("[]").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    app.login().await;
    let cross_site = app
        .client
        .post(format!("{}/admin/subscribers/import", app.base))
        .header("Sec-Fetch-Site", "cross-site")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_list_searches_by_host_topic_and_date_pages_newest_first_and_deletes() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let mut rows: Vec<Value> =
        (0..PAGE_SIZE as usize + 10).map(|n| at_push_service(&push, "fcm.googleapis.com", n)).collect();
    for n in 0..3 {
        let mut row = at_push_service(&push, "updates.push.services.mozilla.com", n);
        row["topics"] = json!(["Offers"]);
        rows.push(row);
    }
    import_ok(&app, Value::from(rows).to_string()).await;

    let all = search(&app, &[]).await;
    assert_eq!((all.total, all.rows.len()), (PAGE_SIZE + 13, PAGE_SIZE as usize));
    assert!(all.rows.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let before = all.next_before.unwrap().to_string();
    let second = search(&app, &[("before", &before)]).await;
    assert_eq!(second.rows.len(), 13);
    assert_eq!(second.next_before, None, "the last page");
    assert!(second.rows[0].id < all.rows.last().unwrap().id, "no overlap");

    let mozilla = search(&app, &[("host", "updates.push.services.mozilla.com")]).await;
    assert_eq!(mozilla.total, 3);
    assert!(mozilla.rows.iter().all(|r| r.host == "updates.push.services.mozilla.com" && r.topics == "Offers"));
    let topic: i64 = sqlx::query_scalar("SELECT id FROM topics WHERE name = 'Offers'")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(search(&app, &[("topic", &topic.to_string())]).await.total, 3);

    let today = chrono::Utc::now().date_naive();
    let (today, yesterday) = (today.to_string(), today.pred_opt().unwrap().to_string());
    assert_eq!(search(&app, &[("joined_from", &today), ("joined_to", &today)]).await.total, PAGE_SIZE + 13);
    assert_eq!(search(&app, &[("joined_to", &yesterday)]).await.total, 0);
    let response = app.call("admin/subscribers", &[("joined_from", "23.11.2026")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = mozilla.rows[0].id.to_string();
    assert_eq!(app.call("admin/delete_subscriber", &[("id", &id)]).await.status(), StatusCode::OK);
    assert_eq!(search(&app, &[("host", "updates.push.services.mozilla.com")]).await.total, 2);
    assert_eq!(app.call("admin/delete_subscriber", &[("id", &id)]).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn export_and_import_refuse_with_the_same_json_errors_as_every_endpoint() {
    let app = spawn_app().await;
    let anonymous = support::spawn_client();
    let refused = anonymous.get(format!("{}/admin/subscribers/export.csv", app.base)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["content-type"], "application/json");
    let error: tidings::error::AppError = refused.json().await.unwrap();
    assert_eq!(error, tidings::error::AppError::Unauthorized);

    app.login().await;
    let bad = import(&app, "name,email\nAda,ada@example.com\n".into()).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: tidings::error::AppError = bad.json().await.unwrap();
    assert!(error.to_string().contains("endpoint, p256dh and auth"), "{error}");
}

/// The "why didn't they get it?" lookup for `to`.
async fn deliveries_to(app: &TestApp, to: &str) -> Vec<tidings::subscription::history::SubscriptionHistory> {
    let response = app.call("admin/subscriber_deliveries", &[("to", to)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_subscribers_deliveries_are_found_by_number_or_endpoint_with_the_push_services_answer() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let (fine, gone, refused) = (
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::GONE),
        push.subscription(StatusCode::BAD_REQUEST),
    );
    for subscription in [&fine, &gone, &refused] {
        assert_eq!(app.subscribe(subscription).await.status(), StatusCode::OK);
    }
    let ids: std::collections::HashMap<String, i64> =
        search(&app, &[]).await.rows.into_iter().map(|r| (r.endpoint, r.id)).collect();
    let first = app.send_plain("First").await;
    app.wait_until_sent(first).await;
    // Only the two still subscribed get the second, and the newcomer only the second.
    let newcomer = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&newcomer).await.status(), StatusCode::OK);
    let second = app.send_plain("Second").await;
    app.wait_until_sent(second).await;

    let by_number = deliveries_to(&app, &ids[&fine.endpoint].to_string()).await;
    assert_eq!(by_number, deliveries_to(&app, &fine.endpoint).await, "the endpoint finds the same");
    let [history] = by_number.as_slice() else { panic!("one subscription: {by_number:?}") };
    assert!(!history.gone);
    let campaigns: Vec<i64> = history.deliveries.iter().map(|d| d.campaign_id).collect();
    assert_eq!(campaigns, [second, first], "exactly its deliveries, newest first");
    assert!(history.deliveries.iter().all(|d| d.status == "sent" && d.status_code == Some(201) && d.sent.is_some()));
    assert!(history.last_success.is_some(), "{history:?}");

    // Expired: the subscription is gone (its endpoint with it), its delivery is not.
    let gone_id = ids[&gone.endpoint];
    assert!(deliveries_to(&app, &gone.endpoint).await.is_empty());
    let [history] = deliveries_to(&app, &format!("#{gone_id}")).await.try_into().unwrap();
    assert!(history.gone);
    let [delivery] = history.deliveries.as_slice() else { panic!("{history:?}") };
    assert_eq!((delivery.campaign_id, delivery.status.as_str(), delivery.status_code), (first, "expired", Some(410)));
    assert!(delivery.explanation().contains("no longer exists"));

    let [history] = deliveries_to(&app, &refused.endpoint).await.try_into().unwrap();
    assert!(history.deliveries.iter().all(|d| d.status == "failed" && d.status_code == Some(400)));
    assert_eq!(history.last_success, None, "never a success");
    let [history] = deliveries_to(&app, &newcomer.endpoint).await.try_into().unwrap();
    assert_eq!(history.deliveries.iter().map(|d| d.campaign_id).collect::<Vec<_>>(), [second]);

    assert!(deliveries_to(&app, "999999").await.is_empty(), "an unknown number finds nothing");
    assert!(deliveries_to(&app, "nobody-by-this-id").await.is_empty());
    let empty = app.call("admin/subscriber_deliveries", &[("to", " ")]).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
