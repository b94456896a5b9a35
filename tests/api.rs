//! The REST API (`/api/v1`): keys and scopes on every route, problem documents naming the
//! field, idempotent POSTs, the per-key rate limit, transactional messages, and answers
//! that match the OpenAPI document's own schemas.

use crate::support;

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{add_site, from_site, spawn_app, spawn_app_with, PushService, TestApp, TestSubscription};
use tidings::api::NewApiKey;
use tidings::subscription::consent::sign_user;

/// The scope each route needs. Every route of the OpenAPI document must be here (and so
/// be tested): a new route fails this test until it is.
const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/campaigns", "send"),
    ("GET", "/campaigns", "read"),
    ("GET", "/campaigns/{id}", "read"),
    ("POST", "/campaigns/{id}/cancel", "send"),
    ("POST", "/campaigns/{id}/duplicate", "send"),
    ("POST", "/messages", "send"),
    ("GET", "/messages/{id}", "read"),
    ("GET", "/topics", "read"),
    ("POST", "/topics", "manage"),
    ("GET", "/subscribers/{id}", "subscribers"),
    ("DELETE", "/subscribers/{id}", "subscribers"),
    ("DELETE", "/subscribers", "subscribers"),
    ("POST", "/subscribers/import", "subscribers"),
];
const SCOPES: [&str; 4] = ["send", "read", "subscribers", "manage"];

/// A key made in the admin (signed in) with `scopes`, limited to `sites` ("" for all).
async fn make_key(app: &TestApp, scopes: &[&str], sites: &str) -> String {
    let response =
        app.call("admin/create_api_key", &[("name", "backend"), ("scopes", &scopes.join(",")), ("sites", sites)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let key: NewApiKey = response.json().await.unwrap();
    assert!(key.token.starts_with("tdk_"));
    key.token
}

/// A request to the API with `token` (if any) and a JSON body (if any).
async fn api(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
    // A client without the admin's cookies: the API must not care about sessions.
    let mut request = reqwest::Client::new()
        .request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{}/api/v1{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// The body of a problem document, after checking it is one.
async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status.as_u16());
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    problem
}

fn campaign(title: &str) -> Value {
    json!({ "title": title, "body": "From the API", "ttl_secs": 60 })
}

#[tokio::test]
async fn every_route_refuses_a_missing_wrong_or_revoked_key_and_needs_its_scope() {
    let app = spawn_app().await;
    app.login().await;
    let (_, doc) = tidings::api::routes::api(app.state.clone());
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, operation) in
            [("GET", &item.get), ("POST", &item.post), ("DELETE", &item.delete), ("PUT", &item.put)]
        {
            if operation.is_some() {
                documented.push((method.to_owned(), path.clone()));
            }
        }
    }
    let mut listed: Vec<(String, String)> = ROUTES.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    documented.sort();
    listed.sort();
    assert_eq!(documented, listed, "every documented route is tested here, and only those");

    // A draft: there is nobody to send to here, and a campaign to nobody is refused.
    let campaign_id = {
        let token = make_key(&app, &["send"], "").await;
        let seed = json!({ "title": "Seed", "send": "draft" });
        api(&app, "POST", "/campaigns", Some(&token), Some(seed)).await.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let revoked = make_key(&app, &SCOPES, "").await;
    let revoked_id = app.call("admin/api_keys", &[]).await.json::<Vec<Value>>().await.unwrap()[0]["id"].to_string();
    assert_eq!(app.call("admin/revoke_api_key", &[("id", &revoked_id)]).await.status(), StatusCode::OK);
    let mut keys_without: BTreeMap<&str, String> = BTreeMap::new();
    let mut keys_with: BTreeMap<&str, String> = BTreeMap::new();
    for scope in SCOPES {
        let others: Vec<&str> = SCOPES.into_iter().filter(|s| *s != scope).collect();
        keys_without.insert(scope, make_key(&app, &others, "").await);
        keys_with.insert(scope, make_key(&app, &[scope], "").await);
    }
    let body = |method: &str, path: &str| match (method, path) {
        ("POST", "/campaigns") => Some(campaign("Scoped")),
        ("POST", "/messages") => Some(json!({ "subscription_id": 999_999, "title": "Hi" })),
        ("POST", "/topics") => Some(json!({ "name": format!("Topic {}", rand_suffix()) })),
        ("POST", "/subscribers/import") => Some(json!([])),
        _ => None,
    };
    for (method, path, scope) in ROUTES {
        let path = path.replace("{id}", &campaign_id.to_string());
        let path = if path == "/subscribers" { "/subscribers?user_id=nobody".to_owned() } else { path };
        let missing = api(&app, method, &path, None, body(method, &path)).await;
        let missing = problem(missing, StatusCode::UNAUTHORIZED).await;
        assert!(missing["detail"].as_str().unwrap().contains("Bearer"), "{method} {path}");
        for token in ["tdk_not-a-key", revoked.as_str()] {
            problem(api(&app, method, &path, Some(token), body(method, &path)).await, StatusCode::UNAUTHORIZED).await;
        }
        let refused = api(&app, method, &path, Some(&keys_without[scope]), body(method, &path)).await;
        let refused = problem(refused, StatusCode::FORBIDDEN).await;
        assert!(refused["detail"].as_str().unwrap().contains(scope), "{method} {path}: {refused}");
        let allowed = api(&app, method, &path, Some(&keys_with[scope]), body(method, &path)).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&allowed.status()),
            "{method} {path} with the {scope} scope: {}",
            allowed.status()
        );
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 % 1_000_000_007
}

#[tokio::test]
async fn bad_input_is_a_problem_document_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    app.login().await;
    let token = make_key(&app, &SCOPES, "").await;
    let cases = [
        (json!({ "body": "no title" }), StatusCode::UNPROCESSABLE_ENTITY, "title"),
        (json!({ "title": "" }), StatusCode::UNPROCESSABLE_ENTITY, "title"),
        (json!({ "title": "x", "colour": "red" }), StatusCode::UNPROCESSABLE_ENTITY, "colour"),
        (json!({ "title": "x", "url": "javascript:alert(1)" }), StatusCode::UNPROCESSABLE_ENTITY, "url"),
        (
            json!({ "title": "x", "actions": [{ "label": "Open", "url": "ftp://x" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "actions[0].url",
        ),
        (json!({ "title": "x", "topics": [424242] }), StatusCode::UNPROCESSABLE_ENTITY, "topics"),
        (json!({ "title": "x", "send": "yesterday" }), StatusCode::UNPROCESSABLE_ENTITY, "send"),
        (json!({ "title": "x", "send": "2001-01-01T00:00:00Z" }), StatusCode::UNPROCESSABLE_ENTITY, "send"),
        (json!({ "title": "x", "variants": [{ "title": " " }] }), StatusCode::UNPROCESSABLE_ENTITY, "variants"),
        (
            json!({ "title": "x", "variants": [{ "title": "B" }], "ab_test": { "holdout_percent": 60 } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ab_test.holdout_percent",
        ),
        (
            json!({ "title": "x", "variants": [{ "title": "B" }], "ab_test": { "pick": "coin" } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ab_test.pick",
        ),
        (
            json!({ "title": "x", "translations": [{ "language": "de!", "content": { "title": "Hallo" } }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "translations",
        ),
    ];
    for (body, status, field) in cases {
        let answer = problem(api(&app, "POST", "/campaigns", Some(&token), Some(body.clone())).await, status).await;
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let not_json = reqwest::Client::new()
        .post(format!("{}/api/v1/campaigns", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    problem(not_json, StatusCode::BAD_REQUEST).await;
    problem(api(&app, "GET", "/campaigns/abc", Some(&token), None).await, StatusCode::NOT_FOUND).await;
    problem(api(&app, "GET", "/campaigns?limit=0", Some(&token), None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    problem(api(&app, "GET", "/campaigns/999999", Some(&token), None).await, StatusCode::NOT_FOUND).await;
    assert!(app.campaigns().await.is_empty(), "nothing was made");
}

#[tokio::test]
async fn a_campaign_to_nobody_is_a_problem_and_is_not_saved() {
    let app = spawn_app().await;
    app.login().await;
    let token = make_key(&app, &["send", "read"], "").await;
    let refused = api(&app, "POST", "/campaigns", Some(&token), Some(campaign("To nobody"))).await;
    let problem = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["detail"].as_str().unwrap().contains("Nobody would receive this"), "{problem}");
    assert!(app.campaigns().await.is_empty(), "no campaign was saved");
    let draft = json!({ "title": "For later", "send": "draft" });
    assert_eq!(api(&app, "POST", "/campaigns", Some(&token), Some(draft)).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = spawn_app().await;
    app.login().await;
    let token = make_key(&app, &["send", "read"], "").await;
    let post = |body: Value, key: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{}/api/v1/campaigns", app.base))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let draft = json!({ "title": "Once", "send": "draft" });
    let first = post(draft.clone(), "order-42").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post(draft.clone(), "order-42").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let other =
        problem(post(json!({ "title": "Twice", "send": "draft" }), "order-42").await, StatusCode::CONFLICT).await;
    assert_eq!(other["field"], "Idempotency-Key");
    assert_eq!(app.campaigns().await.len(), 1, "one campaign for the three requests");

    // Another key is another request, and racing copies of one make one campaign.
    let racing =
        futures::future::join_all((0..5).map(|_| post(json!({ "title": "Race", "send": "draft" }), "race"))).await;
    let made: Vec<StatusCode> = racing.iter().map(|r| r.status()).collect();
    assert!(made.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{made:?}");
    assert_eq!(app.campaigns().await.len(), 2);
}

#[tokio::test]
async fn each_key_is_held_to_its_rate_with_retry_after() {
    let app = spawn_app_with(|config| config.api_rate_per_sec = 2).await;
    app.login().await;
    let (busy, calm) = (make_key(&app, &["read"], "").await, make_key(&app, &["read"], "").await);
    // All at once: one after another, a slow (loaded, debug) build could take long enough
    // per request for the bucket to refill between them.
    let statuses = futures::future::join_all((0..10).map(|_| api(&app, "GET", "/topics", Some(&busy), None))).await;
    let limited: Vec<_> = statuses.into_iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).collect();
    assert!(limited.len() >= 5, "a burst of 4 then 2/s: {} of 10 refused", limited.len());
    let retry_after: u64 = limited[0].headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after));
    assert_eq!(
        api(&app, "GET", "/topics", Some(&calm), None).await.status(),
        StatusCode::OK,
        "another key is not held back"
    );
}

const SHOP: &str = "https://shop.example";

/// The shop's site (the admin signed in) and its secret for signing user ids.
async fn shop(app: &TestApp) -> String {
    let id = add_site(app, "Shop", SHOP).await;
    app.call("admin/rotate_site_secret", &[("id", &id.to_string())]).await.json().await.unwrap()
}

/// A subscription on the shop's page, with the user id the shop signed.
async fn subscribe_as(app: &TestApp, secret: &str, s: &TestSubscription, user: &str) {
    let signature = sign_user(secret, user);
    let form = [
        ("endpoint", s.endpoint.as_str()),
        ("p256dh", &s.p256dh),
        ("auth", &s.auth),
        ("user", user),
        ("user_signature", &signature),
    ];
    let response = from_site(app, SHOP, "subscribe", &form).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_message_to_a_user_id_reaches_exactly_that_users_subscriptions_and_is_counted() {
    let app = spawn_app().await;
    app.login().await;
    let secret = shop(&app).await;
    let push = PushService::start().await;
    let (phone, laptop, someone_else) = (
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::CREATED),
    );
    subscribe_as(&app, &secret, &phone, "ana").await;
    subscribe_as(&app, &secret, &laptop, "ana").await;
    subscribe_as(&app, &secret, &someone_else, "ben").await;
    let token = make_key(&app, &["send", "read"], "").await;

    let message = json!({ "user_id": "ana", "title": "Your order shipped", "url": "https://shop.example/orders/7", "ttl_secs": 3600, "urgency": "high" });
    let sent = api(&app, "POST", "/messages", Some(&token), Some(message)).await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["recipients"], 2);
    let id = sent["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        let status: Value =
            api(&app, "GET", &format!("/messages/{id}"), Some(&token), None).await.json().await.unwrap();
        if status["status"] == "sent" {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the message is sent: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!((status["targeted"].as_i64(), status["sent"].as_i64()), (Some(2), Some(2)));
    let mut reached: Vec<String> = push.received().iter().map(|r| r.client.clone()).collect();
    reached.sort();
    let mut ana = vec![phone.client.clone(), laptop.client.clone()];
    ana.sort();
    assert_eq!(reached, ana, "exactly ana's devices");
    let received = push.received();
    assert_eq!(received[0].json()["title"], "Your order shipped");
    assert_eq!(received[0].urgency.as_deref(), Some("high"));
    assert!(app.campaigns().await.is_empty(), "a message is not a campaign in the admin's list");
    problem(api(&app, "GET", &format!("/campaigns/{id}"), Some(&token), None).await, StatusCode::NOT_FOUND).await;

    let nobody = json!({ "user_id": "carl", "title": "Hi" });
    problem(api(&app, "POST", "/messages", Some(&token), Some(nobody)).await, StatusCode::NOT_FOUND).await;
    let both = json!({ "user_id": "ana", "subscription_id": 1, "title": "Hi" });
    let both =
        problem(api(&app, "POST", "/messages", Some(&token), Some(both)).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(both["field"], "subscription_id");
}

#[tokio::test]
async fn erasing_a_user_deletes_every_one_of_their_subscriptions_and_nothing_else() {
    let app = spawn_app().await;
    app.login().await;
    let secret = shop(&app).await;
    let push = PushService::start().await;
    for (i, user) in ["ana", "ana", "ben"].iter().enumerate() {
        subscribe_as(&app, &secret, &push.subscription(StatusCode::CREATED), user).await;
        assert_eq!(app.subscription_count().await, i as i64 + 1);
    }
    let token = make_key(&app, &["subscribers"], "").await;
    let erased: Value = api(&app, "DELETE", "/subscribers?user_id=ana", Some(&token), None).await.json().await.unwrap();
    assert_eq!(erased["deleted"], 2);
    assert_eq!(app.subscription_count().await, 1);
}

#[tokio::test]
async fn a_key_limited_to_a_site_sees_and_sends_only_there() {
    let app = spawn_app().await;
    app.login().await;
    let blog = add_site(&app, "Blog", "https://blog.example").await;
    let token = make_key(&app, &["send", "read"], &blog.to_string()).await;
    let everyone = make_key(&app, &["send", "read"], "").await;
    // Drafts: neither site has subscribers, and a campaign to nobody is refused.
    let draft = |title: &str| json!({ "title": title, "send": "draft" });
    let other = api(&app, "POST", "/campaigns", Some(&everyone), Some(draft("For all sites"))).await;
    let other = other.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    problem(api(&app, "GET", &format!("/campaigns/{other}"), Some(&token), None).await, StatusCode::NOT_FOUND).await;
    let own = api(&app, "POST", "/campaigns", Some(&token), Some(draft("Blog only"))).await;
    assert_eq!(own.status(), StatusCode::CREATED);
    let own = own.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let listed: Value = api(&app, "GET", "/campaigns", Some(&token), None).await.json().await.unwrap();
    let ids: Vec<i64> = listed["campaigns"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [own]);
    let elsewhere = json!({ "title": "x", "sites": [1] });
    let refused =
        problem(api(&app, "POST", "/campaigns", Some(&token), Some(elsewhere)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["field"], "sites");
}

#[tokio::test]
async fn answers_match_the_schemas_of_the_openapi_document_it_serves() {
    let app = spawn_app().await;
    app.login().await;
    let served = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let doc: Value = served.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let schema = |name: &str| {
        let root = json!({ "$ref": format!("#/components/schemas/{name}"), "components": doc["components"] });
        jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let check = |name: &str, value: &Value| {
        let errors: Vec<String> = schema(name).iter_errors(value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name} does not match its schema: {errors:?}\n{value}");
    };
    let token = make_key(&app, &SCOPES, "").await;
    let push = PushService::start().await;
    assert_eq!(app.subscribe(&push.subscription(StatusCode::CREATED)).await.status(), StatusCode::OK);
    let made: Value =
        api(&app, "POST", "/campaigns", Some(&token), Some(campaign("Schema"))).await.json().await.unwrap();
    check("CampaignResponse", &made);
    let page: Value = api(&app, "GET", "/campaigns?limit=1", Some(&token), None).await.json().await.unwrap();
    check("CampaignPage", &page);
    let topic: Value =
        api(&app, "POST", "/topics", Some(&token), Some(json!({ "name": "News" }))).await.json().await.unwrap();
    check("TopicResponse", &topic);
    let problem: Value = api(&app, "GET", "/campaigns/12345", Some(&token), None).await.json().await.unwrap();
    check("Problem", &problem);
    let subscriber: Value = api(&app, "GET", "/subscribers/1", Some(&token), None).await.json().await.unwrap();
    check("SubscriberResponse", &subscriber);
    let message: Value =
        api(&app, "POST", "/messages", Some(&token), Some(json!({ "subscription_id": 1, "title": "Hi" })))
            .await
            .json()
            .await
            .unwrap();
    check("MessageResponse", &message);
}

#[tokio::test]
async fn subscribers_are_imported_through_the_api_larger_than_a_normal_body() {
    let app = spawn_app().await;
    app.login().await;
    let token = make_key(&app, &["subscribers"], "").await;
    let keys = json!({
        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    });
    // About 400 KB: past the 256 KiB other requests may send.
    let mut rows: Vec<Value> = (0..1500)
        .map(|n| json!({ "endpoint": format!("http://127.0.0.1:1/push/imported-{n:06}-{}", "x".repeat(100)), "keys": keys }))
        .collect();
    rows.push(json!({ "endpoint": "not a url", "keys": keys }));
    let file = serde_json::to_string(&rows).unwrap();
    assert!(file.len() > 300 * 1024);
    let import = |token: String, file: String| {
        let base = app.base.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/subscribers/import"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(file)
                .send()
                .await
                .unwrap()
        }
    };
    let report: Value = import(token.clone(), file.clone()).await.json().await.unwrap();
    assert_eq!(
        (report["added"].as_u64(), report["merged"].as_u64(), report["rejected"].as_u64()),
        (Some(1500), Some(0), Some(1))
    );
    assert_eq!(report["problems"][0]["row"], 1501);
    let again: Value = import(token, file.clone()).await.json().await.unwrap();
    assert_eq!((again["added"].as_u64(), again["merged"].as_u64()), (Some(0), Some(1500)), "sending it again merges");

    // A key for another site only cannot add to site 1; neither can one without the scope.
    let site = app.call("admin/create_site", &[("name", "Blog"), ("origin", "https://blog.example")]).await;
    let site: i64 = site.json().await.unwrap();
    let elsewhere = make_key(&app, &["subscribers"], &site.to_string()).await;
    problem(import(elsewhere, "[]".into()).await, StatusCode::FORBIDDEN).await;
    let reader = make_key(&app, &["read"], "").await;
    problem(import(reader, file).await, StatusCode::FORBIDDEN).await;
    let log: Value = app.call("admin/audit_log", &[("action", "subscriber.import")]).await.json().await.unwrap();
    assert!(log[0]["actor"].as_str().unwrap().starts_with("key "), "{log}");
}
