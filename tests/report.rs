//! The campaign page's data: counts, failure reasons grouped by answer, and activity.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app, PushService};

#[tokio::test]
async fn the_report_groups_failures_by_answer_and_charts_every_send_and_click() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let mut subscribers = Vec::new();
    for (status, n) in [
        (StatusCode::CREATED, 4),
        (StatusCode::GONE, 2),
        (StatusCode::BAD_REQUEST, 3),
        (StatusCode::INTERNAL_SERVER_ERROR, 1),
    ] {
        for _ in 0..n {
            let subscriber = push.subscription(status);
            app.subscribe(&subscriber).await;
            subscribers.push(subscriber);
        }
    }
    app.login().await;
    let id = app.send_plain("Report").await;
    app.wait_until_sent(id).await;
    let token = push.received().iter().find_map(|r| r.json()["track"].as_str().map(str::to_owned)).unwrap();
    app.call("track", &[("token", &token), ("event", "click"), ("action", "")]).await;

    let report: serde_json::Value =
        app.call("admin/campaign_report", &[("id", &id.to_string())]).await.json().await.unwrap();
    let summary = &report["summary"];
    assert_eq!(
        (summary["targeted"].as_i64(), summary["sent"].as_i64(), summary["clicked"].as_i64()),
        (Some(10), Some(4), Some(1))
    );

    let failures: Vec<(String, Option<i64>, i64)> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["outcome"].as_str().unwrap().to_owned(), f["status_code"].as_i64(), f["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        failures,
        [
            ("failed".to_owned(), Some(400), 3),
            ("expired".to_owned(), Some(410), 2),
            ("failed".to_owned(), Some(500), 1)
        ]
    );

    let activity = report["activity"].as_array().unwrap();
    let sum = |key: &str| activity.iter().map(|b| b[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("sent"), sum("clicked")), (4, 1), "every send and click is in the chart");

    let missing = app.call("admin/campaign_report", &[("id", "999")]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
