//! The audit log: each kind of change is recorded with who, from where and what changed;
//! it can be filtered and exported; and nothing can change an entry.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{spawn_app, PushService, TestApp, ADMIN_PASSWORD, ADMIN_USER};
use tidings::api::NewApiKey;
use tidings::audit::AuditEntry;

async fn entries(app: &TestApp, actor: &str, action: &str) -> Vec<AuditEntry> {
    let response = app.call("admin/audit_log", &[("actor", actor), ("action", action)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn each_kind_of_change_is_recorded_with_who_from_where_and_what_changed() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let subscriber = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&subscriber).await.status(), StatusCode::OK);
    let wrong = app.call("admin/login", &[("username", ADMIN_USER), ("password", "not the password")]).await;
    assert!(wrong.status().is_client_error());
    app.login().await;

    ok(app
        .call("admin/create_admin", &[("username", "grace"), ("password", ADMIN_PASSWORD), ("confirm", ADMIN_PASSWORD)])
        .await)
    .await;
    ok(app.call("admin/create_topic", &[("name", "News")]).await).await;
    let site = ok(app.call("admin/create_site", &[("name", "Blog"), ("origin", "https://blog.example")]).await).await;
    ok(app.call("admin/rotate_site_secret", &[("id", &site.to_string())]).await).await;
    let key = ok(app.call("admin/generate_key", &[("label", "2027")]).await).await;
    ok(app.call("admin/make_key_current", &[("id", &key.to_string())]).await).await;
    let mut draft = support::plain_campaign("First title").to_vec();
    draft.push(("intent", "draft"));
    let id = ok(app.call("admin/send_campaign", &draft).await).await.as_i64().unwrap().to_string();
    let mut edited = support::plain_campaign("Second title").to_vec();
    edited.extend([("campaign_id", id.as_str()), ("intent", "draft")]);
    ok(app.call("admin/send_campaign", &edited).await).await;
    let copy = ok(app.call("admin/duplicate_campaign", &[("id", &id)]).await).await.to_string();
    ok(app.call("admin/delete_draft", &[("id", &copy)]).await).await;
    let subscription = app.state.store.subscription_by_endpoint(&subscriber.endpoint).await.unwrap().unwrap().id;
    let import = app
        .client
        .post(format!("{}/admin/subscribers/import", app.base))
        .body(r#"[{"endpoint": "http://127.0.0.1:1/push/x", "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), StatusCode::OK, "{}", import.text().await.unwrap());
    ok(app.call("admin/delete_subscriber", &[("id", &subscription.to_string())]).await).await;
    let api_key: NewApiKey = serde_json::from_value(
        ok(app.call("admin/create_api_key", &[("name", "backend"), ("scopes", "send,manage")]).await).await,
    )
    .unwrap();
    let made = reqwest::Client::new()
        .post(format!("{}/api/v1/campaigns", app.base))
        .bearer_auth(&api_key.token)
        .json(&json!({ "title": "From code", "send": "draft" }))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    ok(app.call("admin/revoke_api_key", &[("id", &api_key.id.to_string())]).await).await;

    let all = entries(&app, "", "").await;
    let actions: Vec<&str> = all.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "sign_in.failed",
            "sign_in",
            "admin.create",
            "topic.create",
            "site.create",
            "site.rotate_secret",
            "vapid_key.generate",
            "vapid_key.make_current",
            "campaign.create",
            "campaign.edit",
            "campaign.duplicate",
            "campaign.delete_draft",
            "subscriber.import",
            "subscriber.delete",
            "api_key.create",
            "campaign.create",
            "api_key.revoke",
        ]
    );
    assert!(all.iter().all(|e| e.address.as_deref() == Some("127.0.0.1")), "every entry says where from");
    let by = |action: &str| all.iter().find(|e| e.action == action).unwrap();
    assert_eq!(by("sign_in.failed").actor, "someone");
    assert_eq!(by("sign_in.failed").target, "admin admin");
    assert_eq!(by("admin.create").actor, "admin admin");
    assert_eq!(all[1].actor, format!("key {} (backend)", api_key.id), "the API's change names its key");
    let edit = by("campaign.edit");
    let (before, after): (Value, Value) = (
        serde_json::from_str(edit.before.as_deref().unwrap()).unwrap(),
        serde_json::from_str(edit.after.as_deref().unwrap()).unwrap(),
    );
    assert_eq!((before["title"].as_str(), after["title"].as_str()), (Some("First title"), Some("Second title")));
    let imported: Value = serde_json::from_str(by("subscriber.import").after.as_deref().unwrap()).unwrap();
    assert_eq!(imported["added"], 1);
    let path = format!("/push/{}", subscriber.client);
    assert!(!all.iter().any(|e| format!("{e:?}").contains(&path)), "no endpoint in the log");
}

#[tokio::test]
async fn the_log_filters_exports_and_cannot_be_changed() {
    let app = spawn_app().await;
    app.login().await;
    ok(app.call("admin/create_topic", &[("name", "News")]).await).await;
    ok(app.call("admin/create_topic", &[("name", "Offers")]).await).await;
    let topics = entries(&app, "", "topic.").await;
    assert_eq!(topics.len(), 2);
    assert!(entries(&app, "ADMIN ad", "").await.len() >= 3, "the actor filter ignores case");
    assert!(entries(&app, "key", "").await.is_empty());
    assert_eq!(entries(&app, "", "sign_in").await.len(), 1);

    let csv = app.client.get(format!("{}/admin/audit.csv?action=topic.", app.base)).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("tidings-audit.csv"));
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,at,actor,address,action,target,before,after");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains("topic.create") && lines[1].contains("News"), "oldest first: {}", lines[1]);
    let anonymous = support::spawn_client().get(format!("{}/admin/audit.csv", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Not even SQL through Tidings' own connection can rewrite history.
    let pool = app.state.store.pool();
    assert!(sqlx::query("UPDATE audit_log SET actor = 'nobody'").execute(pool).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log").execute(pool).await.is_err());
    assert_eq!(entries(&app, "", "topic.").await, topics, "unchanged");
}
