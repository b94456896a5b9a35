//! Webhooks against a receiver stand-in that checks every signature the way the Standard
//! Webhooks libraries do: retried after 500s with the same id, queued across a restart of
//! Tidings, and nothing more once an endpoint that kept failing is turned off.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use support::{spawn_app_with, PushService};
use tidings::webhook::sender::WebhookTiming;

/// One post as the receiver saw it.
#[derive(Debug, Clone)]
struct Post {
    id: String,
    event: String,
    body: serde_json::Value,
    answered: StatusCode,
}

#[derive(Clone, Default)]
struct Receiver {
    /// The secret to check signatures with, once known.
    secret: Arc<Mutex<Option<String>>>,
    /// Answers for the next posts, then 200.
    script: Arc<Mutex<Vec<StatusCode>>>,
    /// Answer this to everything (after the script), if set.
    always: Arc<Mutex<Option<StatusCode>>>,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Self::default();
        let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    async fn wait_for(&self, what: &str, done: impl Fn(&[Post]) -> bool) -> Vec<Post> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let posts = self.posts();
            if done(&posts) {
                return posts;
            }
            assert!(Instant::now() < deadline, "waited in vain for {what}: {posts:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Checks the signature as a receiver must, then answers as scripted.
async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (id, timestamp, signature) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    let secret = receiver.secret.lock().unwrap().clone().expect("the test set the secret first");
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", &body].concat();
    let given = STANDARD.decode(signature.strip_prefix("v1,").expect("a v1 signature")).unwrap();
    ring::hmac::verify(&key, &signed, &given).expect("the signature checks");
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..=5).contains(&age), "the timestamp is of the post, not of the event: {age} s old");
    assert_eq!(headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let answered = {
        let mut script = receiver.script.lock().unwrap();
        if script.is_empty() {
            receiver.always.lock().unwrap().unwrap_or(StatusCode::OK)
        } else {
            script.remove(0)
        }
    };
    let event = body["type"].as_str().unwrap().to_owned();
    receiver.posts.lock().unwrap().push(Post { id, event, body, answered });
    answered
}

fn quick(config: &mut tidings::config::Config) {
    config.webhooks = WebhookTiming {
        first_retry: Duration::from_millis(100),
        give_up_after: Duration::from_secs(600),
        disable_after: Duration::from_secs(3600),
    };
}

async fn add_webhook(app: &support::TestApp, url: &str, events: &str) -> (i64, String) {
    let made = app.call("admin/create_webhook", &[("url", url), ("events", events)]).await;
    assert_eq!(made.status(), StatusCode::OK, "{}", made.text().await.unwrap());
    let made: serde_json::Value = made.json().await.unwrap();
    (made["id"].as_i64().unwrap(), made["secret"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn signed_events_are_retried_after_500s_and_survive_a_restart() {
    let app = spawn_app_with(quick).await;
    let push = PushService::start().await;
    let (receiver, url) = Receiver::start().await;
    app.login().await;
    // Only a public https address, outside of tests.
    let inside =
        app.call("admin/create_webhook", &[("url", "https://10.1.2.3/hook"), ("events", "campaign.started")]).await;
    assert_eq!(inside.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(inside.text().await.unwrap().contains("not a public address"));
    let events = "subscription.created,subscription.removed,campaign.started,campaign.finished";
    let (hook, secret) = add_webhook(&app, &url, events).await;
    *receiver.secret.lock().unwrap() = Some(secret);

    // Two 500s, then accepted: three posts of one message, with the same id.
    *receiver.script.lock().unwrap() = vec![StatusCode::INTERNAL_SERVER_ERROR, StatusCode::INTERNAL_SERVER_ERROR];
    let subscriber = push.subscription(StatusCode::CREATED);
    assert!(app.subscribe(&subscriber).await.status().is_success());
    let posts =
        receiver.wait_for("subscription.created accepted", |p| p.iter().any(|p| p.answered == StatusCode::OK)).await;
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.id == posts[0].id && p.event == "subscription.created"));
    assert_eq!(posts[0].body["data"]["site_id"], 1);
    let list: serde_json::Value = app.call("admin/webhooks", &[]).await.json().await.unwrap();
    let log = &list[0]["deliveries"][0];
    assert_eq!(
        (log["status"].as_str(), log["attempts"].as_i64(), log["last_status"].as_i64()),
        (Some("delivered"), Some(3), Some(200))
    );

    // The receiver is down while a campaign runs, and Tidings restarts: what was queued
    // arrives afterwards.
    *receiver.always.lock().unwrap() = Some(StatusCode::SERVICE_UNAVAILABLE);
    let id = app.send_plain("Heard about").await;
    app.wait_until_sent(id).await;
    receiver.wait_for("a failed campaign.finished", |p| p.iter().any(|p| p.event == "campaign.finished")).await;
    let app = app.restart_with(|_| {}).await;
    *receiver.always.lock().unwrap() = None;
    let posts = receiver
        .wait_for("both campaign events accepted", |posts| {
            ["campaign.started", "campaign.finished"]
                .iter()
                .all(|e| posts.iter().any(|p| p.event == *e && p.answered == StatusCode::OK))
        })
        .await;
    let finished = posts.iter().find(|p| p.event == "campaign.finished" && p.answered == StatusCode::OK).unwrap();
    assert_eq!(
        (finished.body["data"]["campaign_id"].as_i64(), finished.body["data"]["sent"].as_i64()),
        (Some(id), Some(1))
    );

    // Resend posts a logged event again, with its id.
    app.login().await;
    let list: serde_json::Value = app.call("admin/webhooks", &[]).await.json().await.unwrap();
    let first = list[0]["deliveries"].as_array().unwrap().last().unwrap().clone();
    let before = receiver.posts().len();
    let resent = app.call("admin/resend_webhook", &[("id", &first["id"].to_string())]).await;
    assert!(resent.status().is_success());
    let posts = receiver.wait_for("the resent event", |p| p.len() > before).await;
    assert_eq!(posts.last().unwrap().id, first["message_id"].as_str().unwrap());
    let deleted = app.call("admin/delete_webhook", &[("id", &hook.to_string())]).await;
    assert!(deleted.status().is_success());
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_turned_off_and_hears_nothing_more() {
    let app = spawn_app_with(|config| {
        config.webhooks = WebhookTiming {
            first_retry: Duration::from_millis(50),
            give_up_after: Duration::from_secs(600),
            disable_after: Duration::from_secs(1),
        };
    })
    .await;
    let push = PushService::start().await;
    let (receiver, url) = Receiver::start().await;
    *receiver.always.lock().unwrap() = Some(StatusCode::INTERNAL_SERVER_ERROR);
    app.login().await;
    let (_, secret) = add_webhook(&app, &url, "subscription.created").await;
    *receiver.secret.lock().unwrap() = Some(secret);
    assert!(app.subscribe(&push.subscription(StatusCode::CREATED)).await.status().is_success());

    let deadline = Instant::now() + Duration::from_secs(20);
    let disabled = loop {
        let list: serde_json::Value = app.call("admin/webhooks", &[]).await.json().await.unwrap();
        if let Some(why) = list[0]["disabled"].as_str() {
            break why.to_owned();
        }
        assert!(Instant::now() < deadline, "never turned off: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(disabled.contains("every delivery failed"), "{disabled}");
    let tried = receiver.posts().len();
    assert!(tried >= 2, "retried before turning off: {tried}");

    assert!(app.subscribe(&push.subscription(StatusCode::CREATED)).await.status().is_success());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.posts().len(), tried, "a turned-off endpoint was posted to");
    let log: serde_json::Value = app.call("admin/audit_log", &[("action", "webhook")]).await.json().await.unwrap();
    assert_eq!(log[0]["action"], "webhook.create");
}
