//! `/metrics` in Prometheus' text format. Counters and histograms are recorded where things
//! happen, with the `metrics` macros (`tidings_pushes_total` in the dispatcher, push
//! latency and pauses in the push client, …); what the database knows (the queue,
//! campaigns, subscribers, instances) is read at each scrape, so every instance reports
//! the same shared figures and a vanished instance vanishes from them.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::campaign::CampaignStatus;
use crate::state::AppState;

/// Latency buckets (seconds) for push requests and HTTP answers: from a loopback answer
/// to a push service at its timeout.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process-wide recorder (the `metrics` macros write to one global recorder), made on
/// first use. Several servers in one process (the tests) share it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics shows only database figures");
        }
        describe();
        // Histogram samples are kept until upkeep folds them into the buckets: without a
        // scrape for hours they would pile up.
        let upkeep = handle.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            upkeep.run_upkeep();
        });
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(
        "tidings_pushes_total",
        "Push deliveries by push service and outcome (sent, retry, failed, expired, deferred)"
    );
    describe_histogram!(
        "tidings_push_request_duration_seconds",
        Unit::Seconds,
        "Time from sending a push request to its answer, per push service"
    );
    describe_counter!("tidings_push_pauses_total", "429/503 answers with a pause, per push service");
    describe_counter!("tidings_push_breaker_trips_total", "Times a failing push service was paused (circuit breaker)");
    describe_counter!("tidings_http_requests_total", "HTTP requests by route and status code");
    describe_histogram!(
        "tidings_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route"
    );
}

/// Counts every request and its time, by route pattern (`/api/admin/login`,
/// `/admin/campaigns/{id}`): never by the raw path, which would make a label per id.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None if request.uri().path().starts_with("/pkg/") => "/pkg/*".into(),
        None => "other".into(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("tidings_http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("tidings_http_requests_total", "route" => route, "status" => status).increment(1);
    response
}

/// `GET /metrics`: with `TIDINGS_METRICS_TOKEN` set, only for `Authorization: Bearer <token>`.
pub async fn scrape(state: AppState, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let given =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        // Digests compared, not the tokens: how long the comparison takes then says nothing
        // about how much of a guess was right.
        let digest = |v: &str| ring::digest::digest(&ring::digest::SHA256, v.as_bytes());
        let matches = given.is_some_and(|given| digest(given).as_ref() == digest(token.expose()).as_ref());
        if !matches {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "metrics need the token\n")
                .into_response();
        }
    }
    let mut text = handle().render();
    match database_figures(&state).await {
        Ok(figures) => text.push_str(&figures),
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the database figures");
            text.push_str("# the database did not answer: queue, campaign and subscriber figures are missing\n");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// Gauges read from the database at scrape time, in the text format.
async fn database_figures(state: &AppState) -> Result<String, sqlx::Error> {
    let store = &state.store;
    let queue = store.queue_depth(crate::clock::now_ms()).await?;
    let campaigns = store.campaigns_by_status().await?;
    let subscribers = store.subscription_count().await?;
    let instances = store.live_instances().await?;
    let (joined, lost) = store.subscribers_joined_and_lost().await?;
    let mut out = String::new();
    let mut figure = |kind: &str, name: &str, help: &str, values: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in values {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let label = |key: &str, value: &str| format!("{{{key}=\"{}\"}}", value.replace('\\', "\\\\").replace('"', "\\\""));
    figure(
        "gauge",
        "tidings_queue_deliveries",
        "Deliveries of running campaigns not yet final: due now, waiting (retry backoff or pacing), sending",
        &[
            (label("state", "due"), queue.due as f64),
            (label("state", "waiting"), queue.waiting as f64),
            (label("state", "sending"), queue.sending as f64),
        ],
    );
    figure(
        "gauge",
        "tidings_campaigns",
        "Campaigns by status",
        &CampaignStatus::ALL
            .map(|s| (label("status", s.as_str()), campaigns.get(s.as_str()).copied().unwrap_or(0) as f64)),
    );
    figure("gauge", "tidings_subscribers", "Subscriptions stored", &[(String::new(), subscribers as f64)]);
    // Kept by the database (subscriber_hours), so every instance reports the same totals.
    figure(
        "counter",
        "tidings_subscribers_joined_total",
        "Subscriptions ever created (all instances)",
        &[(String::new(), joined as f64)],
    );
    figure(
        "counter",
        "tidings_subscribers_lost_total",
        "Subscriptions ever removed: unsubscribed, expired or deleted (all instances)",
        &[(String::new(), lost as f64)],
    );
    figure(
        "gauge",
        "tidings_instance_heartbeat_age_seconds",
        "Seconds since each live instance last wrote its heartbeat (database clock)",
        &instances.iter().map(|i| (label("instance", &i.id), i.heartbeat_age_ms as f64 / 1000.0)).collect::<Vec<_>>(),
    );
    figure(
        "gauge",
        "tidings_push_breakers_open",
        "Push services this instance has paused because they kept failing",
        &[(String::new(), state.push.open_breakers() as f64)],
    );
    Ok(out)
}
