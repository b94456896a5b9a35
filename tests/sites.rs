//! Several sites in one Tidings: cross-origin access only for registered origins, the
//! site a subscription belongs to proven by `Origin` (never by a body field), signed user
//! ids, per-site topics and campaigns, and the consent receipt.

use crate::support;

use reqwest::StatusCode;
use support::{add_site, from_site, spawn_app, spawn_client, PushService, TestApp, TestSubscription};
use tidings::subscription::consent::sign_user;

const BLOG: &str = "http://127.0.0.1:9101";
const SHOP: &str = "http://localhost:9102";
const EVIL: &str = "http://127.0.0.1:9666";

/// A browser page on `origin` calling a public endpoint, as the widget does: no cookies,
/// `Origin` and `Sec-Fetch-Site` as a browser sets them.
async fn preflight(app: &TestApp, origin: &str, function: &str) -> reqwest::Response {
    spawn_client()
        .request(reqwest::Method::OPTIONS, format!("{}/api/{function}", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn keys(subscription: &TestSubscription) -> [(&'static str, &str); 3] {
    [("endpoint", &subscription.endpoint), ("p256dh", &subscription.p256dh), ("auth", &subscription.auth)]
}

async fn site_of(app: &TestApp, subscription: &TestSubscription) -> Option<i64> {
    sqlx::query_scalar("SELECT site_id FROM subscriptions WHERE endpoint = $1")
        .bind(&subscription.endpoint)
        .fetch_optional(app.state.store.pool())
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn only_registered_origins_are_answered_across_origins_and_others_store_nothing() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let blog = add_site(&app, "Blog", BLOG).await;

    // Preflights: the registered origin exactly; not another port, not `null`.
    let ok = preflight(&app, BLOG, "subscribe").await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(allowed_origin(&ok).as_deref(), Some(BLOG));
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    for refused in [EVIL, "null", "http://127.0.0.1:91011", "https://127.0.0.1:9101"] {
        let response = preflight(&app, refused, "subscribe").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(allowed_origin(&response), None, "{refused}");
    }
    // Admin endpoints are never opened to other origins, registered or not.
    let admin = from_site(&app, BLOG, "admin/sites", &[]).await;
    assert_eq!(admin.status(), StatusCode::FORBIDDEN);
    assert_eq!(allowed_origin(&admin), None);

    // The real requests.
    let visitor = push.subscription(StatusCode::CREATED);
    let stored = from_site(&app, BLOG, "subscribe", &keys(&visitor)).await;
    assert_eq!(stored.status(), StatusCode::OK, "{:?}", stored.text().await);
    assert_eq!(site_of(&app, &visitor).await, Some(blog));
    let answered = from_site(&app, BLOG, "site_widget", &[]).await;
    assert_eq!(allowed_origin(&answered).as_deref(), Some(BLOG));
    assert!(answered.headers()["vary"].to_str().unwrap().to_ascii_lowercase().contains("origin"));
    let widget: serde_json::Value = answered.json().await.unwrap();
    assert_eq!(widget["site"], blog);
    assert_eq!(widget["vapid_public_key"], app.vapid_public_key().await);

    for refused in [EVIL, "null"] {
        let stranger = push.subscription(StatusCode::CREATED);
        let response = from_site(&app, refused, "subscribe", &keys(&stranger)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(allowed_origin(&response), None);
        assert_eq!(site_of(&app, &stranger).await, None, "nothing stored for {refused}");
        assert_eq!(from_site(&app, refused, "site_widget", &[]).await.status(), StatusCode::FORBIDDEN);
    }

    // An archived site is a stranger again; its subscriptions are kept.
    let archived = app.call("admin/archive_site", &[("id", &blog.to_string()), ("archived", "true")]).await;
    assert_eq!(archived.status(), StatusCode::OK);
    let late = push.subscription(StatusCode::CREATED);
    assert_eq!(from_site(&app, BLOG, "subscribe", &keys(&late)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(site_of(&app, &late).await, None);
    assert_eq!(site_of(&app, &visitor).await, Some(blog));
}

#[tokio::test]
async fn a_subscription_stays_with_the_site_its_origin_proved() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let blog = add_site(&app, "Blog", BLOG).await;
    let shop = add_site(&app, "Shop", SHOP).await;
    let visitor = push.subscription(StatusCode::CREATED);

    // A body naming another site is ignored: the Origin decides.
    let mut form = keys(&visitor).to_vec();
    let shop_id = shop.to_string();
    form.push(("site", &shop_id));
    form.push(("site_id", &shop_id));
    assert_eq!(from_site(&app, BLOG, "subscribe", &form).await.status(), StatusCode::OK);
    assert_eq!(site_of(&app, &visitor).await, Some(blog));

    // Another site (or the own page) cannot take it over, change its topics or remove it.
    assert_eq!(from_site(&app, SHOP, "subscribe", &keys(&visitor)).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.subscribe(&visitor).await.status(), StatusCode::CONFLICT);
    assert_eq!(site_of(&app, &visitor).await, Some(blog));
    let topic: i64 = app.call("admin/create_topic", &[("name", "News")]).await.json().await.unwrap();
    let choose = [("endpoint", visitor.endpoint.as_str()), ("topics", &topic.to_string())];
    assert_eq!(from_site(&app, SHOP, "choose_topics", &choose).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        from_site(&app, SHOP, "my_topics", &[("endpoint", &visitor.endpoint)]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(from_site(&app, SHOP, "unsubscribe", &[("endpoint", &visitor.endpoint)]).await.status(), StatusCode::OK);
    assert_eq!(site_of(&app, &visitor).await, Some(blog), "another site's unsubscribe removes nothing");

    // Its own site can.
    assert_eq!(from_site(&app, BLOG, "choose_topics", &choose).await.status(), StatusCode::OK);
    assert_eq!(from_site(&app, BLOG, "unsubscribe", &[("endpoint", &visitor.endpoint)]).await.status(), StatusCode::OK);
    assert_eq!(site_of(&app, &visitor).await, None);
}

#[tokio::test]
async fn a_user_id_is_stored_only_with_the_sites_signature() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let blog = add_site(&app, "Blog", BLOG).await;
    let with_user = |s: &TestSubscription, user: &str, signature: &str| {
        let mut form: Vec<(&'static str, String)> = keys(s).iter().map(|(k, v)| (*k, v.to_string())).collect();
        form.push(("user", user.to_owned()));
        form.push(("user_signature", signature.to_owned()));
        form
    };
    let subscribe = |form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            from_site(app, BLOG, "subscribe", &form).await.status()
        }
    };

    // Without a secret there is nothing to check a signature with.
    let early = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe(with_user(&early, "u-1", &"0".repeat(64))).await, StatusCode::FORBIDDEN);

    let secret: String = app.call("admin/rotate_site_secret", &[("id", &blog.to_string())]).await.json().await.unwrap();
    let signed = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe(with_user(&signed, "u-1", &sign_user(&secret, "u-1"))).await, StatusCode::OK);
    let user: Option<String> = sqlx::query_scalar("SELECT user_id FROM subscriptions WHERE endpoint = $1")
        .bind(&signed.endpoint)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(user.as_deref(), Some("u-1"));

    // Claiming to be someone else, or signing with another key, stores nothing.
    let impostor = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe(with_user(&impostor, "u-2", &sign_user(&secret, "u-1"))).await, StatusCode::FORBIDDEN);
    assert_eq!(subscribe(with_user(&impostor, "u-2", &sign_user("guessed", "u-2"))).await, StatusCode::FORBIDDEN);
    assert_eq!(site_of(&app, &impostor).await, None);

    // A new secret retires the old one.
    let _: String = app.call("admin/rotate_site_secret", &[("id", &blog.to_string())]).await.json().await.unwrap();
    assert_eq!(subscribe(with_user(&impostor, "u-2", &sign_user(&secret, "u-2"))).await, StatusCode::FORBIDDEN);

    // The subscriber list finds people by their id.
    let page: serde_json::Value = app.call("admin/subscribers", &[("user", "u-1")]).await.json().await.unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["rows"][0]["receipt"]["user_id"], "u-1");
}

#[tokio::test]
async fn campaigns_and_topics_follow_their_sites() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let blog = add_site(&app, "Blog", BLOG).await;
    let own_page = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&own_page).await.status(), StatusCode::OK);
    let reader = push.subscription(StatusCode::CREATED);
    assert_eq!(from_site(&app, BLOG, "subscribe", &keys(&reader)).await.status(), StatusCode::OK);

    // A topic of the blog only: offered there, refused elsewhere.
    let recipes: i64 =
        app.call("admin/create_topic", &[("name", "Recipes"), ("site", &blog.to_string())]).await.json().await.unwrap();
    let offered = |origin: Option<&'static str>| {
        let app = &app;
        async move {
            let response = match origin {
                Some(origin) => from_site(app, origin, "topics", &[]).await,
                None => app.call("topics", &[]).await,
            };
            let topics: Vec<serde_json::Value> = response.json().await.unwrap();
            topics.iter().map(|t| t["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(offered(Some(BLOG)).await, vec![recipes]);
    assert_eq!(offered(None).await, Vec::<i64>::new());
    let mut form = keys(&own_page).to_vec();
    let recipes_id = recipes.to_string();
    form.push(("topics", &recipes_id));
    assert_eq!(app.call("subscribe", &form).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The audience size follows the chosen sites; the campaign reaches only them.
    let size = |sites: &'static str| {
        let app = &app;
        async move { app.call("admin/audience_size", &[("sites", sites)]).await.json::<i64>().await.unwrap() }
    };
    assert_eq!(size("").await, 2);
    let blog_text: &'static str = Box::leak(blog.to_string().into_boxed_str());
    assert_eq!(size(blog_text).await, 1);
    assert_eq!(size("1").await, 1);
    let mut fields = support::plain_campaign("Blog only").to_vec();
    fields.push(("sites", blog_text));
    let id = app.send_campaign(&fields).await;
    let done = app.wait_until_sent(id).await;
    assert_eq!((done.targeted, done.sent), (1, 1));
    assert_eq!(push.requests_for(&reader.client), 1);
    assert_eq!(push.requests_for(&own_page.client), 0);
    let report: serde_json::Value =
        app.call("admin/campaign_report", &[("id", &id.to_string())]).await.json().await.unwrap();
    assert_eq!(report["sites"], serde_json::json!(["Blog"]));

    // An archived site can no longer be aimed at, and "every site" skips it.
    app.call("admin/archive_site", &[("id", blog_text), ("archived", "true")]).await;
    assert_eq!(size("").await, 1);
    let refused = app.call("admin/send_campaign", &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_consent_receipt_is_kept_shown_and_exported() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    add_site(&app, "Blog", BLOG).await;
    let visitor = push.subscription(StatusCode::CREATED);
    let mut form = keys(&visitor).to_vec();
    form.extend([
        ("page", "http://127.0.0.1:9101/posts/hello?ref=home"),
        ("prompt", "Hear from us first [Subscribe]"),
        ("language", "de-AT"),
        ("time_zone", "Europe/Vienna"),
    ]);
    let response = from_site(&app, BLOG, "subscribe", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    // A page of another origin is no receipt of this site.
    let other = push.subscription(StatusCode::CREATED);
    let mut forged = keys(&other).to_vec();
    forged.push(("page", "https://elsewhere.example/"));
    assert_eq!(from_site(&app, BLOG, "subscribe", &forged).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let page: serde_json::Value = app.call("admin/subscribers", &[]).await.json().await.unwrap();
    let row = &page["rows"][0];
    assert_eq!(row["site"], "Blog");
    assert_eq!(row["receipt"]["page"], "http://127.0.0.1:9101/posts/hello?ref=home");
    assert_eq!(row["receipt"]["prompt"], "Hear from us first [Subscribe]");
    assert_eq!(row["receipt"]["language"], "de-AT");
    assert_eq!(row["receipt"]["time_zone"], "Europe/Vienna");
    assert_eq!(row["receipt"]["browser"], "Firefox");

    let csv = app.client.get(format!("{}/admin/subscribers/export.csv", app.base)).send().await.unwrap();
    let csv = csv.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with("site,consent_page,consent_text,browser,language,time_zone,user_id"));
    let line = lines.next().unwrap();
    assert!(line.ends_with(",Blog,http://127.0.0.1:9101/posts/hello?ref=home,Hear from us first [Subscribe],Firefox,de-AT,Europe/Vienna,"), "{line}");
    let json: serde_json::Value = app
        .client
        .get(format!("{}/admin/subscribers/export.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json[0]["site"], "Blog");
    assert_eq!(json[0]["consent"]["time_zone"], "Europe/Vienna");
    assert_eq!(json[0]["consent"]["page"], "http://127.0.0.1:9101/posts/hello?ref=home");
}

#[tokio::test]
async fn sites_are_validated_and_the_worker_for_them_points_here() {
    let app = spawn_app().await;
    app.login().await;
    for (origin, why) in [
        ("http://www.example.org", "https"),
        ("https://www.example.org/blog", "path"),
        ("https://user:pw@example.org", "password"),
        ("javascript:alert(1)", "https"),
    ] {
        let response = app.call("admin/create_site", &[("name", "X"), ("origin", origin)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{origin}");
        assert!(response.text().await.unwrap().contains(why), "{origin}");
    }
    add_site(&app, "Blog", "https://www.example.org").await;
    let again = app.call("admin/create_site", &[("name", "Blog 2"), ("origin", "https://WWW.example.org/")]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(app.state.store.sites().await.unwrap().len(), 2);

    // Unauthenticated: refused before anything is read.
    let anonymous = spawn_client()
        .post(format!("{}/api/admin/create_site", app.base))
        .form(&[("name", "X"), ("origin", "https://x.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let worker = app.client.get(format!("{}/embed/sw.js", app.base)).send().await.unwrap();
    assert_eq!(worker.status(), StatusCode::OK);
    assert!(worker.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let body = worker.text().await.unwrap();
    assert!(body.starts_with("self.TIDINGS_ORIGIN = \"http://127.0.0.1\";\n"), "{}", &body[..80]);
    assert!(body.contains("pushsubscriptionchange"));
}

#[tokio::test]
async fn the_public_page_is_the_widget_without_the_app_and_uses_the_own_worker() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"src="/embed.js""#) && html.contains(r#"data-tidings="inline""#), "{html}");
    // Not hydrated: neither the app's script nor its wasm is named (the stylesheet is).
    assert!(!html.contains("/pkg/tidings.js") && !html.contains(".wasm"), "{html}");
    let admin = app.client.get(format!("{}/admin/login", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(admin.contains("/pkg/tidings.js"), "the admin pages hydrate");

    // The widget on the own page registers the worker Tidings serves itself.
    let config: serde_json::Value = app.call("site_widget", &[]).await.json().await.unwrap();
    assert_eq!(config["site"], 1);
    assert_eq!(config["worker_path"], "/sw.js");
    // A registered site's widget registers the site's own worker file.
    app.login().await;
    add_site(&app, "Blog", BLOG).await;
    let blog: serde_json::Value = from_site(&app, BLOG, "site_widget", &[]).await.json().await.unwrap();
    assert_eq!(blog["worker_path"], "/tidings-sw.js");
}
