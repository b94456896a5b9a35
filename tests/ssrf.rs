//! Tidings only ever talks to real push services: endpoints that point anywhere else are
//! refused when a visitor subscribes, and again (by address) when a push is sent.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app_with, PushService};
use tidings::subscription::parse::{EndpointPolicy, HostPattern};

fn production_policy() -> EndpointPolicy {
    EndpointPolicy::default()
}

#[tokio::test]
async fn endpoints_outside_the_push_services_are_refused_and_nothing_is_stored() {
    let app = spawn_app_with(|config| config.endpoint_policy = production_policy()).await;
    let push = PushService::start().await;
    let keys = push.subscription(StatusCode::CREATED);

    for endpoint in [
        "https://10.0.0.1/push",                      // private
        "https://192.168.1.10/push",                  // private
        "https://169.254.169.254/latest/meta-data",   // link-local cloud metadata
        "https://100.64.0.1/push",                    // carrier-grade NAT
        "https://127.0.0.1/push",                     // loopback
        "http://127.0.0.1:8080/push",                 // loopback over http
        "https://localhost/push",                     // loopback by name
        "https://[::1]/push",                         // IPv6 loopback
        "https://[::ffff:127.0.0.1]/push",            // IPv4-mapped loopback
        "https://0.0.0.0/push",                       // unspecified
        "https://2130706433/push",                    // 127.0.0.1 as a decimal number
        "https://0x7f.0.0.1/push",                    // 127.0.0.1 in hex
        "https://fcm.googleapis.com:8443/fcm/send/x", // a push service, wrong port
        "https://user:secret@fcm.googleapis.com/x",   // userinfo
        "https://fcm.googleapis.com.evil.example/x",  // look-alike host
        "https://internal.corp.example/push",         // any other host
    ] {
        let response =
            app.call("subscribe", &[("endpoint", endpoint), ("p256dh", &keys.p256dh), ("auth", &keys.auth)]).await;
        assert!(response.status().is_client_error(), "{endpoint}: got {}", response.status());
    }
    assert_eq!(app.subscription_count().await, 0);
    assert!(push.received().is_empty());
}

#[tokio::test]
async fn an_allowed_host_that_resolves_to_loopback_is_refused_at_connect_time() {
    // An operator allows "localhost" by mistake (or a push host's DNS turns hostile):
    // the address check at connect time still refuses to send there.
    let app = spawn_app_with(|config| {
        config.endpoint_policy = EndpointPolicy {
            allowed_hosts: vec![HostPattern::Exact("localhost".into())].into(),
            allow_loopback: false,
        };
    })
    .await;
    let push = PushService::start().await;
    let mut subscription = push.subscription(StatusCode::CREATED);
    subscription.endpoint = "https://localhost/push/x".into();
    assert_eq!(app.subscribe(&subscription).await.status(), StatusCode::OK, "the host is on the allowlist");
    app.login().await;

    let id = app.send_plain("Hi").await;
    let campaign = app.wait_until_sent(id).await;

    assert_eq!((campaign.sent, campaign.failed), (0, 1));
    let error: String =
        sqlx::query_scalar("SELECT last_error FROM deliveries").fetch_one(app.state.store.pool()).await.unwrap();
    assert!(error.contains("no public address"), "refused by the resolver, not by chance: {error}");
}
