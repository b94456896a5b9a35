//! `/metrics`: scraped during a real campaign, its counters move by exactly what was sent.
//! The only test in this binary, because the recorder is process-wide: another test's
//! pushes would move the same counters.
#![cfg(feature = "ssr")]

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use support::push_service::Reply;
use support::{spawn_app_with, PushService};

const TOKEN: &str = "scrape-token-for-the-tests";
const SUBSCRIBERS: usize = 40;

/// The sum of every sample of `name` whose labels include all of `labels`.
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
            series_name == name && labels.iter().all(|(k, v)| series_labels.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

async fn scrape(app: &support::TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_exactly_what_a_campaign_sent_and_the_queue_shows_it_meanwhile() {
    let app = spawn_app_with(|config| config.metrics_token = Some(TOKEN.into())).await;
    assert_eq!(scrape(&app, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, Some("scrape-token-for-the-test")).await.status(), StatusCode::UNAUTHORIZED);

    let push = PushService::start().await;
    // Slow answers keep the campaign running long enough to be seen mid-way.
    let subscriptions: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(100))))
        .collect();
    for subscription in &subscriptions {
        assert_eq!(app.subscribe(subscription).await.status(), StatusCode::OK);
    }
    app.login().await;
    let before = scrape(&app, Some(TOKEN)).await;
    assert_eq!(before.status(), StatusCode::OK);
    assert!(before.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let before = before.text().await.unwrap();
    assert_eq!(metric(&before, "tidings_pushes_total", &[]), 0.0);
    assert_eq!(metric(&before, "tidings_subscribers", &[]), SUBSCRIBERS as f64);
    assert_eq!(metric(&before, "tidings_subscribers_joined_total", &[]), SUBSCRIBERS as f64);
    assert_eq!(
        metric(&before, "tidings_http_requests_total", &[("route", "/api/subscribe"), ("status", "200")]),
        SUBSCRIBERS as f64,
        "requests are counted by route pattern"
    );
    let instance = app.server_instance();
    assert!(metric(&before, "tidings_instance_heartbeat_age_seconds", &[("instance", &instance)]) < 5.0);

    let id = app.send_plain("Counted").await;
    while push.received().len() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let during = scrape(&app, Some(TOKEN)).await.text().await.unwrap();
    let sent_so_far = metric(&during, "tidings_pushes_total", &[("outcome", "sent")]);
    let unfinished = metric(&during, "tidings_queue_deliveries", &[("state", "due")])
        + metric(&during, "tidings_queue_deliveries", &[("state", "sending")]);
    assert!(sent_so_far < SUBSCRIBERS as f64, "scraped mid-campaign: {sent_so_far} sent");
    assert!(unfinished > 0.0, "the queue shows what is left");
    assert_eq!(metric(&during, "tidings_campaigns", &[("status", "sending")]), 1.0);

    let campaign = app.wait_until_sent(id).await;
    assert_eq!(campaign.sent, SUBSCRIBERS as i64);
    let after = scrape(&app, Some(TOKEN)).await.text().await.unwrap();
    assert_eq!(metric(&after, "tidings_pushes_total", &[("outcome", "sent")]), SUBSCRIBERS as f64);
    assert_eq!(metric(&after, "tidings_pushes_total", &[]), SUBSCRIBERS as f64, "nothing else happened");
    assert_eq!(
        metric(&after, "tidings_push_request_duration_seconds_count", &[]),
        SUBSCRIBERS as f64,
        "one latency sample per request"
    );
    assert_eq!(
        metric(&after, "tidings_push_request_duration_seconds_bucket", &[("le", "0.05")]),
        0.0,
        "every answer took at least 100 ms"
    );
    assert_eq!(metric(&after, "tidings_queue_deliveries", &[]), 0.0);
    assert_eq!(metric(&after, "tidings_campaigns", &[("status", "sent")]), 1.0);
    assert!(!after.contains(&subscriptions[0].endpoint), "no endpoint appears in the metrics");
}
