//! Proxy variables must not carry pushes: a proxy connects to whatever an endpoint names,
//! out of sight of the guard that keeps pushes off private addresses. Alone in its file
//! because it sets process-wide environment variables.
#![cfg(feature = "ssr")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use support::{spawn_app, PushService};

#[tokio::test]
async fn pushes_ignore_proxy_variables() {
    // A "proxy" that counts who connects to it and answers nothing.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    tokio::spawn({
        let connections = connections.clone();
        async move {
            while let Ok((stream, _)) = proxy.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        }
    });
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        std::env::set_var(name, &proxy_url);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let app = spawn_app().await;
    let push = PushService::start().await;
    let subscriber = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&subscriber).await.status(), StatusCode::OK);
    app.login().await;
    let id = app.send_plain("Direct").await;
    let campaign = app.wait_until_sent(id).await;
    assert_eq!((campaign.sent, campaign.failed), (1, 0), "{campaign:?}");
    assert_eq!(push.received().len(), 1);
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a push went through the proxy");
}
