//! The dispatcher against a misbehaving push service: every campaign completes, every
//! count adds up, and each kind of failure is handled as RFC 8030 intends.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::push_service::Reply;
use support::{spawn_app, spawn_app_with, PushService, TestApp, TestSubscription};

const CAMPAIGN: &[(&str, &str)] =
    &[("title", "Faults"), ("body", ""), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")];

async fn attempts_of(app: &TestApp, subscription: &TestSubscription) -> i64 {
    sqlx::query_scalar(
        "SELECT d.attempts FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE s.endpoint = $1",
    )
    .bind(&subscription.endpoint)
    .fetch_one(app.state.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn transient_failures_are_retried_until_they_succeed() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let flaky = push.scripted_subscription(
        vec![Reply::status(StatusCode::INTERNAL_SERVER_ERROR), Reply::status(StatusCode::SERVICE_UNAVAILABLE)],
        Reply::status(StatusCode::CREATED),
    );
    app.subscribe(&flaky).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.failed), (1, 0));
    assert_eq!(push.requests_for(&flaky.client), 3);
    assert_eq!(attempts_of(&app, &flaky).await, 3);
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_for_and_a_short_outage_is_outlasted() {
    // Four failures: beyond the tests' usual three attempts, below the circuit breaker.
    let app = spawn_app_with(|config| {
        config.retry.max_attempts = 100;
        config.retry.window = Duration::from_secs(30);
    })
    .await;
    let push = PushService::start().await;
    let busy = push.scripted_subscription(
        vec![Reply { retry_after: Some("1".into()), ..Reply::status(StatusCode::SERVICE_UNAVAILABLE) }],
        Reply::status(StatusCode::CREATED),
    );
    let mut down = vec![Reply::status(StatusCode::BAD_GATEWAY); 3];
    down.push(Reply::status(StatusCode::SERVICE_UNAVAILABLE));
    let outage = push.scripted_subscription(down, Reply::status(StatusCode::CREATED));
    app.subscribe(&busy).await;
    app.subscribe(&outage).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.failed), (2, 0));
    assert_eq!(push.requests_for(&outage.client), 5);
    let at: Vec<Instant> = push.received().iter().filter(|r| r.client == busy.client).map(|r| r.at).collect();
    assert_eq!(at.len(), 2);
    assert!(at[1] - at[0] >= Duration::from_millis(950), "retried after {:?}, not the asked 1 s", at[1] - at[0]);
}

#[tokio::test]
async fn a_hanging_request_does_not_hold_back_the_retries_that_come_due_meanwhile() {
    let hang = Duration::from_secs(3);
    let app = spawn_app().await;
    let push = PushService::start().await;
    let hanging = push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, hang));
    let flaky: Vec<_> = (0..3)
        .map(|_| {
            push.scripted_subscription(vec![Reply::status(StatusCode::BAD_GATEWAY)], Reply::status(StatusCode::CREATED))
        })
        .collect();
    app.subscribe(&hanging).await;
    for subscription in &flaky {
        app.subscribe(subscription).await;
    }
    app.login().await;

    let started = Instant::now();
    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.failed), (4, 0));
    let received = push.received();
    let retried = flaky
        .iter()
        .map(|s| {
            assert_eq!(push.requests_for(&s.client), 2, "a 502, then the retry");
            received.iter().filter(|r| r.client == s.client).map(|r| r.at - started).max().unwrap()
        })
        .max()
        .unwrap();
    // Before, the round waited for the hanging request to end before claiming again.
    assert!(retried < hang / 2, "the retries went out after {retried:?}, behind a request hanging for {hang:?}");
}

/// When the last of `subscriptions` received campaign `id`, counted from `since`.
fn all_received(push: &PushService, subscriptions: &[TestSubscription], id: i64, since: Instant) -> Duration {
    let received = push.received();
    subscriptions
        .iter()
        .map(|s| {
            let copy = received.iter().find(|r| r.client == s.client && r.json()["campaign"] == id);
            copy.unwrap_or_else(|| panic!("{} never received campaign {id}", s.client)).at - since
        })
        .max()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_push_service_does_not_slow_the_others_and_its_subscribers_arrive_after_it_recovers() {
    let app = spawn_app_with(|config| {
        config.push_timeout = Duration::from_millis(300);
        config.retry.max_attempts = 100;
        config.retry.window = Duration::from_secs(60);
    })
    .await;
    let healthy = PushService::start().await;
    let dead = PushService::start().await;
    // Subscribed first, so their deliveries are claimed first: the worst case.
    let stranded: Vec<_> = (0..30).map(|_| dead.subscription(StatusCode::CREATED)).collect();
    for subscription in &stranded {
        app.subscribe(subscription).await;
    }
    let fine: Vec<_> = (0..300)
        .map(|_| healthy.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(10))))
        .collect();
    for subscription in &fine {
        app.subscribe(subscription).await;
    }
    app.login().await;

    // With both services up: the healthy service's subscribers' time, as the yardstick.
    let started = Instant::now();
    let calm = app.send_plain("Both up").await;
    app.wait_until_sent(calm).await;
    let at_full_speed = all_received(&healthy, &fine, calm, started);

    // One service swallows every request for 4 s (timeouts, then it recovers).
    dead.black_hole_for(Duration::from_secs(4));
    let started = Instant::now();
    let stormy = app.send_plain("One down").await;
    let campaign = app.wait_until_sent(stormy).await;
    let beside_the_dead = all_received(&healthy, &fine, stormy, started);
    let recovered = all_received(&dead, &stranded, stormy, started);

    assert_eq!((campaign.sent, campaign.failed), (330, 0), "everyone got it in the end");
    assert!(recovered >= Duration::from_secs(4), "the dead service's subscribers arrived after it recovered");
    let ratio = beside_the_dead.as_secs_f64() / at_full_speed.as_secs_f64();
    eprintln!("healthy service: {at_full_speed:?} alone, {beside_the_dead:?} beside a dead one ({ratio:.2}x)");
    assert!(ratio < 2.0, "the healthy service slowed {ratio:.2}x beside a dead one");
}

#[tokio::test]
async fn a_413_is_a_payload_bug_and_is_not_retried() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let subscription = push.subscription(StatusCode::PAYLOAD_TOO_LARGE);
    app.subscribe(&subscription).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!(campaign.failed, 1);
    assert_eq!(push.requests_for(&subscription.client), 1);
    assert_eq!(app.subscription_count().await, 1);
    let cause = campaign.error.unwrap_or_default();
    assert!(cause.contains("too large (HTTP 413)") && cause.contains("2969 bytes"), "{cause}");
}

#[tokio::test]
async fn a_mixed_audience_completes_and_every_count_adds_up() {
    // A timeout well below the slow replies' delay; a short retry window, so the
    // resetting service (paused by the circuit breaker) fails its deliveries soon.
    let app = spawn_app_with(|config| {
        config.push_timeout = Duration::from_millis(300);
        config.retry.window = Duration::from_secs(3);
    })
    .await;
    let push = PushService::start().await;
    let reset = PushService::resetting_endpoint().await;
    let mut expected_gone = Vec::new();
    let mut expected_kept = Vec::new();
    for i in 0..60 {
        let subscription = match i % 10 {
            0 => push.subscription(StatusCode::GONE),
            1 => push.subscription(StatusCode::NOT_FOUND),
            2 => push.subscription(StatusCode::INTERNAL_SERVER_ERROR),
            3 => push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_secs(2))),
            4 => {
                let mut s = push.subscription(StatusCode::CREATED);
                s.endpoint = format!("{reset}/{i}");
                s
            }
            5 => push.scripted_subscription(
                vec![Reply::status(StatusCode::BAD_GATEWAY)],
                Reply::status(StatusCode::CREATED),
            ),
            _ => push.subscription(StatusCode::CREATED),
        };
        assert_eq!(app.subscribe(&subscription).await.status(), StatusCode::OK);
        if i % 10 <= 1 {
            expected_gone.push(subscription)
        } else {
            expected_kept.push(subscription)
        }
    }
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!(campaign.targeted, 60);
    assert_eq!(campaign.sent + campaign.failed + campaign.expired, 60, "every delivery has one outcome");
    assert_eq!(campaign.expired, 12, "410 and 404");
    assert_eq!(campaign.sent, 30, "the 24 healthy ones and the 6 that recovered");
    assert_eq!(campaign.failed, 18, "persistent 500s, timeouts and resets, after their retries");
    assert_eq!(app.subscription_count().await, 48, "only 404/410 delete subscriptions");
    let endpoints: Vec<String> =
        sqlx::query_scalar("SELECT endpoint FROM subscriptions").fetch_all(app.state.store.pool()).await.unwrap();
    assert!(
        expected_kept.iter().all(|s| endpoints.contains(&s.endpoint)),
        "no subscription is deleted for a 5xx, a timeout or a reset"
    );
    assert!(expected_gone.iter().all(|s| !endpoints.contains(&s.endpoint)));
}

#[tokio::test]
async fn a_429_pauses_that_push_service_for_its_retry_after_and_not_the_others() {
    let app = spawn_app().await;
    let limited = PushService::start().await;
    let other = PushService::start().await;
    limited.script_service(vec![Reply::too_many_requests("1")]);
    for _ in 0..10 {
        app.subscribe(&limited.subscription(StatusCode::CREATED)).await;
        app.subscribe(&other.subscription(StatusCode::CREATED)).await;
    }
    app.login().await;

    let started = Instant::now();
    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!(campaign.sent, 20, "everyone gets the campaign in the end");
    let paused_at = limited.rate_limited_at()[0];
    // Requests already on their way when the 429 went out may still arrive; none may be
    // started after it until Retry-After (1 s) has passed.
    let too_early: Vec<Duration> = limited
        .received()
        .iter()
        .filter(|r| r.at > paused_at + Duration::from_millis(100) && r.at < paused_at + Duration::from_millis(950))
        .map(|r| r.at - paused_at)
        .collect();
    assert!(too_early.is_empty(), "requests during the pause: {too_early:?}");
    assert!(
        limited.received().iter().any(|r| r.at >= paused_at + Duration::from_millis(950)),
        "the paused deliveries were resumed after Retry-After"
    );
    let other_done = other.received().iter().map(|r| r.at).max().unwrap();
    assert!(other_done < paused_at + Duration::from_millis(900), "the other push service was not held up");
    eprintln!(
        "429 pause measured: first request after the pause came {:?} after the 429; other origin finished {:?} after start",
        limited.received().iter().map(|r| r.at).filter(|at| *at > paused_at + Duration::from_millis(100)).min().map(|at| at - paused_at),
        other_done - started,
    );
}

#[tokio::test]
async fn cancelling_a_sending_campaign_stops_new_pushes_within_a_second() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    for _ in 0..300 {
        app.subscribe(&push.scripted_subscription(vec![], Reply::slow(StatusCode::CREATED, Duration::from_millis(50))))
            .await;
    }
    app.login().await;
    let id = app.send_campaign(CAMPAIGN).await;
    while push.received().len() < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let response = app.call("admin/cancel_campaign", &[("id", &id.to_string())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_one_second = push.received().len();
    tokio::time::sleep(Duration::from_secs(1)).await;

    assert_eq!(push.received().len(), after_one_second, "no push started more than a second after cancel");
    assert!(after_one_second < 300, "the campaign did not simply finish");
    let campaign = app.campaigns().await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!(campaign.status, "cancelled");
    let again = app.call("admin/cancel_campaign", &[("id", &id.to_string())]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "a finished campaign cannot be cancelled");
}

#[tokio::test]
async fn a_refused_token_is_signed_afresh_once_before_the_delivery_fails() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    let once =
        push.scripted_subscription(vec![Reply::status(StatusCode::UNAUTHORIZED)], Reply::status(StatusCode::CREATED));
    let always = push.subscription(StatusCode::FORBIDDEN);
    app.subscribe(&once).await;
    app.subscribe(&always).await;
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!((campaign.sent, campaign.failed), (1, 1));
    assert_eq!(push.requests_for(&once.client), 2);
    assert_eq!(push.requests_for(&always.client), 2, "one fresh token, not a retry loop");
}

#[tokio::test]
async fn repeated_vapid_rejections_are_shown_on_the_campaign() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    for _ in 0..5 {
        app.subscribe(&push.subscription(StatusCode::FORBIDDEN)).await;
    }
    app.login().await;

    let campaign = app.wait_until_sent(app.send_campaign(CAMPAIGN).await).await;

    assert_eq!(campaign.failed, 5);
    assert!(campaign.error.as_deref().unwrap_or_default().contains("VAPID"), "{:?}", campaign.error);
    assert_eq!(app.subscription_count().await, 5, "a 403 is our problem, not the subscriber's");
}
