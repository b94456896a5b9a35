//! Visitors' subscriptions: what is accepted, what is refused, and that refusals store nothing.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app, PushService};

#[tokio::test]
async fn a_valid_subscription_is_stored_once_per_endpoint() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let first = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&first).await.status(), StatusCode::OK);

    // Same endpoint, new keys (the browser rotated them): still one row, keys updated.
    let mut rotated = push.subscription(StatusCode::CREATED);
    rotated.endpoint = first.endpoint.clone();
    assert_eq!(app.subscribe(&rotated).await.status(), StatusCode::OK);

    assert_eq!(app.subscription_count().await, 1);
    let stored: (String, String) =
        sqlx::query_as("SELECT p256dh, auth FROM subscriptions").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(stored, (rotated.p256dh.clone(), rotated.auth.clone()));
}

#[tokio::test]
async fn unsubscribe_removes_the_subscription() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let subscription = push.subscription(StatusCode::CREATED);
    app.subscribe(&subscription).await;

    let response = app.call("unsubscribe", &[("endpoint", &subscription.endpoint)]).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.subscription_count().await, 0);
}

#[tokio::test]
async fn resubscribe_replaces_the_old_endpoint_with_the_new_one() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let old = push.subscription(StatusCode::CREATED);
    let new = push.subscription(StatusCode::CREATED);
    app.subscribe(&old).await;

    let response = app.resubscribe(&old, &new).await;

    assert_eq!(response.status(), StatusCode::OK);
    let endpoints: Vec<String> =
        sqlx::query_scalar("SELECT endpoint FROM subscriptions").fetch_all(app.state.store.pool()).await.unwrap();
    assert_eq!(endpoints, vec![new.endpoint]);
}

#[tokio::test]
async fn malformed_subscriptions_are_refused_with_a_4xx_and_nothing_is_stored() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let good = push.subscription(StatusCode::CREATED);
    let long_endpoint = format!("https://fcm.googleapis.com/fcm/send/{}", "a".repeat(2048));
    let short_key = &good.p256dh[..40];
    let compressed_key = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&good.p256dh).unwrap();
        let mut compressed = vec![2 + (raw[64] & 1)];
        compressed.extend_from_slice(&raw[1..33]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed)
    };
    let off_curve = {
        use base64::Engine;
        let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&good.p256dh).unwrap();
        raw[64] ^= 0x01;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    };

    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("empty endpoint", vec![("endpoint", ""), ("p256dh", &good.p256dh), ("auth", &good.auth)]),
        ("relative endpoint", vec![("endpoint", "/push/abc"), ("p256dh", &good.p256dh), ("auth", &good.auth)]),
        (
            "plain http to a remote host",
            vec![("endpoint", "http://push.example.com/x"), ("p256dh", &good.p256dh), ("auth", &good.auth)],
        ),
        (
            "ftp endpoint",
            vec![("endpoint", "ftp://push.example.com/x"), ("p256dh", &good.p256dh), ("auth", &good.auth)],
        ),
        (
            "javascript endpoint",
            vec![("endpoint", "javascript:alert(1)"), ("p256dh", &good.p256dh), ("auth", &good.auth)],
        ),
        (
            "endpoint with credentials",
            vec![("endpoint", "https://user:pw@fcm.googleapis.com/x"), ("p256dh", &good.p256dh), ("auth", &good.auth)],
        ),
        (
            "endpoint over 2048 characters",
            vec![("endpoint", &long_endpoint), ("p256dh", &good.p256dh), ("auth", &good.auth)],
        ),
        ("p256dh not base64url", vec![("endpoint", &good.endpoint), ("p256dh", "not/base64+!"), ("auth", &good.auth)]),
        ("p256dh too short", vec![("endpoint", &good.endpoint), ("p256dh", short_key), ("auth", &good.auth)]),
        (
            "p256dh compressed point",
            vec![("endpoint", &good.endpoint), ("p256dh", &compressed_key), ("auth", &good.auth)],
        ),
        ("p256dh off the curve", vec![("endpoint", &good.endpoint), ("p256dh", &off_curve), ("auth", &good.auth)]),
        (
            "auth 15 bytes",
            vec![("endpoint", &good.endpoint), ("p256dh", &good.p256dh), ("auth", "AAAAAAAAAAAAAAAAAAAA")],
        ),
        ("auth not base64url", vec![("endpoint", &good.endpoint), ("p256dh", &good.p256dh), ("auth", "***")]),
        ("auth missing", vec![("endpoint", &good.endpoint), ("p256dh", &good.p256dh)]),
        ("no fields at all", vec![]),
    ];

    for (case, form) in &cases {
        let response = app.call("subscribe", form).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_client_error(), "{case}: expected 4xx, got {status} ({body})");
        assert!(!body.is_empty(), "{case}: the refusal explains itself");
    }
    assert_eq!(app.subscription_count().await, 0, "nothing stored");
}
