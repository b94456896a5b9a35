//! Test harness: Tidings on port 0 with a fresh database, and a push-service stand-in that
//! really verifies VAPID and decrypts every message.
//!
//! The database is an SQLite file, or a new PostgreSQL database when
//! `TIDINGS_TEST_POSTGRES` names a server (`make test` runs every test both ways).
#![allow(dead_code, unused_imports)]

pub mod process;
pub mod push_service;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tidings::campaign::CampaignSummary;
use tidings::config::{Config, VapidSubject};
use tidings::delivery::RetryPolicy;
use tidings::state::AppState;
use tidings::subscription::parse::EndpointPolicy;

pub use push_service::{PushService, TestSubscription};

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
pub const VAPID_SUBJECT: &str = "mailto:tests@tidings.example";
/// A desktop Firefox's user agent, for requests that stand for a visitor's browser.
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

pub struct TestApp {
    pub base: String,
    /// Keeps cookies (the admin session) and never follows redirects.
    pub client: reqwest::Client,
    pub state: AppState,
    server: tidings::server::RunningServer,
    config: Config,
    dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the test's own changes to the configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    // Server errors (a 500's cause) in the failing test's output; RUST_LOG to see more.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: fresh_database_url(dir.path()).await,
        public_url: "http://127.0.0.1".into(),
        vapid_subject: VapidSubject::parse(VAPID_SUBJECT).unwrap(),
        initial_admin: Some((ADMIN_USER.into(), ADMIN_PASSWORD.into())),
        endpoint_policy: EndpointPolicy { allow_loopback: true, ..EndpointPolicy::default() },
        send_concurrency: 8,
        push_timeout: std::time::Duration::from_secs(5),
        extra_root_cert: None,
        // Quick retries keep the tests short; the schedule's shape is unit-tested.
        retry: RetryPolicy {
            max_attempts: 3,
            window: std::time::Duration::from_secs(60),
            first_backoff: std::time::Duration::from_millis(20),
            max_backoff: std::time::Duration::from_millis(200),
        },
        site_root: "target/site".into(),
        clock: tidings::clock::Clock::System,
        // Short, so a restart after a simulated crash resumes quickly.
        lease: std::time::Duration::from_secs(2),
        http: tidings::config::HttpLimits::default(),
        trusted_proxies: Vec::new(),
        metrics_token: None,
        api_rate_per_sec: 20,
        webhooks: Default::default(),
    };
    configure(&mut config);
    start(config, dir).await
}

/// Subscribes every one of `subscriptions` at the instance at `base`, 32 at a time.
pub async fn subscribe_all(client: &reqwest::Client, base: &str, subscriptions: &[TestSubscription]) {
    use futures::StreamExt;
    futures::stream::iter(subscriptions)
        .for_each_concurrent(32, |s| async move {
            let form = [("endpoint", s.endpoint.as_str()), ("p256dh", &s.p256dh), ("auth", &s.auth)];
            assert_eq!(call(client, base, "subscribe", &form).await.status(), StatusCode::OK);
        })
        .await;
}

/// The real `tidings` binary on `database`, set up as the tests' in-process instances
/// are (loopback endpoints allowed, the test admin), with `concurrency` requests in flight
/// and a lease of `lease_secs`. Killed when the handle is dropped.
pub async fn start_instance(database: &str, concurrency: usize, lease_secs: u64) -> (tokio::process::Child, String) {
    process::start_tidings(
        std::path::Path::new(env!("CARGO_BIN_EXE_tidings")),
        &[
            ("DATABASE_URL", database.to_owned()),
            ("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS", "1".into()),
            ("TIDINGS_ADMIN_USERNAME", ADMIN_USER.into()),
            ("TIDINGS_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("TIDINGS_SEND_CONCURRENCY", concurrency.to_string()),
            ("TIDINGS_VAPID_SUBJECT", VAPID_SUBJECT.into()),
            ("TIDINGS_LEASE_SECS", lease_secs.to_string()),
            ("RUST_LOG", "warn".into()),
        ],
    )
    .await
}

/// A database of its own for one test: an SQLite file in `dir`, or a new database on the
/// PostgreSQL server `TIDINGS_TEST_POSTGRES` names.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("TIDINGS_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            let name = format!("tidings_test_{:016x}", rand::random::<u64>());
            let mut admin = sqlx::postgres::PgConnection::connect(&server)
                .await
                .unwrap_or_else(|e| panic!("the test PostgreSQL server at {server} answers: {e}"));
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("a new database");
            let mut url = url::Url::parse(&server).expect("TIDINGS_TEST_POSTGRES is a URL");
            url.set_path(&name);
            url.to_string()
        }
        _ => format!("sqlite:{}", dir.join("tidings.db").display()),
    }
}

async fn start(config: Config, dir: tempfile::TempDir) -> TestApp {
    let server = tidings::server::start(config.clone()).await.expect("Tidings starts");
    TestApp {
        base: format!("http://{}", server.addr),
        client: spawn_client(),
        state: server.state.clone(),
        server,
        config,
        dir,
    }
}

/// Calls server function `function` of the Tidings at `base` as a browser form would
/// (form-urlencoded POST), with `client`'s cookies.
pub async fn call(client: &reqwest::Client, base: &str, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(format!("{base}/api/{function}")).form(form).send().await.expect("request sent")
}

/// The compose form's fields for a campaign with only a title: a one-minute TTL, normal
/// urgency, everything optional left empty.
pub fn plain_campaign(title: &str) -> [(&'static str, &str); 6] {
    [("title", title), ("body", ""), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")]
}

/// A browser-like client of its own: keeps cookies, never follows redirects.
pub fn spawn_client() -> reqwest::Client {
    // No proxy: the tests talk to loopback, also when a test sets proxy variables.
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

impl TestApp {
    /// Stops this instance at once, as a crash would, and starts a new one on the same
    /// database with the test's changes to the configuration. Sessions do not carry over
    /// to the new client.
    pub async fn restart_with(self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let TestApp { server, mut config, dir, .. } = self;
        server.abort();
        let _ = server.serve.await;
        let _ = server.dispatcher.await;
        let _ = server.webhooks.await;
        // A process that dies closes its database connections: none of the old instance's
        // may still hold SQLite's write lock while the new one starts.
        let _ = tokio::time::timeout(Duration::from_secs(5), server.state.store.close()).await;
        configure(&mut config);
        start(config, dir).await
    }

    /// This instance's id among those sharing the database.
    pub fn server_instance(&self) -> String {
        self.server.instance.as_str().to_owned()
    }

    /// The configuration this instance started with.
    pub fn config(&self) -> Config {
        self.config.clone()
    }

    /// A second instance on this one's database, as a load balancer's other backend would
    /// be, with a client of its own.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// Like [`TestApp::another_instance`], with the test's changes to its configuration.
    pub async fn another_instance_with(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self.config.clone();
        configure(&mut config);
        start(config, tempfile::tempdir().expect("a temporary folder")).await
    }

    /// Calls a server function the way a browser form would (form-urlencoded POST).
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        call(&self.client, &self.base, function, form).await
    }

    pub async fn login(&self) {
        self.login_in_time_zone("").await
    }

    /// Adds an admin with `role` (this app's client must be signed in as an owner) and
    /// returns a client of their own, signed in as them.
    pub async fn signed_in_as(&self, username: &str, role: &str) -> reqwest::Client {
        let added = self
            .call(
                "admin/create_admin",
                &[("username", username), ("password", ADMIN_PASSWORD), ("confirm", ADMIN_PASSWORD), ("role", role)],
            )
            .await;
        assert!(added.status().is_success(), "adding {username}: {}", added.status());
        let client = spawn_client();
        let login =
            call(&client, &self.base, "admin/login", &[("username", username), ("password", ADMIN_PASSWORD)]).await;
        assert!(login.status().is_success() || login.status().is_redirection(), "{username} signs in");
        client
    }

    /// Signs in from a browser in `time_zone` (an IANA name; "" for none reported).
    pub async fn login_in_time_zone(&self, time_zone: &str) {
        let response = self
            .call("admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD), ("time_zone", time_zone)])
            .await;
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "login failed: {}",
            response.status()
        );
    }

    pub async fn subscribe(&self, subscription: &TestSubscription) -> reqwest::Response {
        self.call(
            "subscribe",
            &[("endpoint", &subscription.endpoint), ("p256dh", &subscription.p256dh), ("auth", &subscription.auth)],
        )
        .await
    }

    /// What the service worker does on `pushsubscriptionchange`: `old` is replaced by `new`.
    pub async fn resubscribe(&self, old: &TestSubscription, new: &TestSubscription) -> reqwest::Response {
        self.call(
            "resubscribe",
            &[
                ("old_endpoint", &old.endpoint),
                ("endpoint", &new.endpoint),
                ("p256dh", &new.p256dh),
                ("auth", &new.auth),
            ],
        )
        .await
    }

    /// Sends a campaign with only a title (one-minute TTL, normal urgency) and returns its id.
    pub async fn send_plain(&self, title: &str) -> i64 {
        self.send_campaign(&plain_campaign(title)).await
    }

    /// The answer to sending a campaign, whatever it is.
    pub async fn send_campaign_response(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.call("admin/send_campaign", fields).await
    }

    pub async fn send_campaign(&self, fields: &[(&str, &str)]) -> i64 {
        let response = self.call("admin/send_campaign", fields).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
        response.json().await.expect("the campaign id")
    }

    pub async fn campaigns(&self) -> Vec<CampaignSummary> {
        let response = self.call("admin/list_campaigns", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("a campaign list")
    }

    /// Waits until the campaign has left queued/sending, and returns its final counts.
    pub async fn wait_until_sent(&self, id: i64) -> CampaignSummary {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let campaign = self.campaigns().await.into_iter().find(|c| c.id == id).expect("the campaign is listed");
            if !campaign.is_active() {
                return campaign;
            }
            assert!(Instant::now() < deadline, "campaign {id} still {} after 20 s", campaign.status);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the campaign to reach `status`, for up to 10 s.
    pub async fn wait_for_status(&self, id: i64, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.campaigns().await.into_iter().find(|c| c.id == id).expect("the campaign is listed").status;
            if now == status {
                return;
            }
            assert!(Instant::now() < deadline, "campaign {id} is still {now}, not {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn subscription_count(&self) -> i64 {
        self.state.store.subscription_count().await.unwrap()
    }

    pub async fn vapid_public_key(&self) -> String {
        self.call("vapid_public_key", &[]).await.json().await.unwrap()
    }
}

/// A server-function call as a registered site's page makes it: from its origin, cross-site.
pub async fn from_site(app: &TestApp, origin: &str, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
    spawn_client()
        .post(format!("{}/api/{function}", app.base))
        .header("origin", origin)
        .header("sec-fetch-site", "cross-site")
        .header("user-agent", FIREFOX)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Registers a site (the admin signed in) and returns its id.
pub async fn add_site(app: &TestApp, name: &str, origin: &str) -> i64 {
    let response = app.call("admin/create_site", &[("name", name), ("origin", origin)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}
