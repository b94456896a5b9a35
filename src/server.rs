//! Builds and starts the whole server: database, keys, dispatcher, HTTP routes.
//! `main` and the integration tests both start Tidings through [`start`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use axum::{middleware, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};

use crate::app::{shell, App};
use crate::config::{Config, HttpLimits, DEFAULT_VAPID_SUBJECT};
use crate::delivery::Dispatcher;
use crate::keys::ring::KeyRing;
use crate::push::client::PushClient;
use crate::security;
use crate::state::AppState;
use crate::store::{InstanceId, SessionStore, Store};
use crate::subscription::transfer;
use crate::tracking::token::TrackingKey;

pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    /// This process among the instances sharing the database.
    pub instance: InstanceId,
    pub serve: tokio::task::JoinHandle<std::io::Result<()>>,
    pub dispatcher: tokio::task::JoinHandle<()>,
    pub webhooks: tokio::task::JoinHandle<()>,
    /// Cancelling it stops the dispatcher cleanly (see [`RunningServer::stop`]).
    stopping: CancellationToken,
}

impl RunningServer {
    /// Stops serving and sending at once, as a killed process would (nothing is flushed:
    /// all state is already in the database).
    pub fn abort(&self) {
        self.serve.abort();
        self.dispatcher.abort();
        self.webhooks.abort();
    }

    /// A clean stop (SIGTERM): stops serving and claiming, lets the pushes in flight finish
    /// and records their outcomes (for at most the push timeout and a little more), hands
    /// what this instance had not sent back to the queue, then signs the instance off, so
    /// the others (or the next start) take over at once and nothing is sent twice.
    pub async fn stop(mut self) {
        self.serve.abort();
        self.stopping.cancel();
        // A post in flight is answered within its timeout or retried after its claim.
        self.webhooks.abort();
        let bound = self.state.config.push_timeout + Duration::from_secs(5);
        if tokio::time::timeout(bound, &mut self.dispatcher).await.is_err() {
            tracing::warn!("pushes still unanswered after {} s: stopping without them", bound.as_secs());
            self.dispatcher.abort();
        }
        match self.state.store.release_claims(&self.instance, None).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "handed back unsent"),
            Err(error) => tracing::warn!(%error, "could not hand deliveries back; they resume after the lease"),
        }
        if let Err(error) = self.state.store.retire_instance(&self.instance).await {
            tracing::warn!(%error, "could not sign this instance off; its deliveries resume after the lease");
        }
    }
}

/// Opens the database (applying migrations), loads or creates the VAPID keys, starts the
/// dispatcher and begins serving. `config.listen` may use port 0; `addr` is the real one.
pub async fn start(config: Config) -> Result<RunningServer, String> {
    // The port first: "address in use" is then the first thing an operator learns, before
    // any migration runs or any delivery is claimed.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if config.endpoint_policy.allow_loopback {
        tracing::warn!(
            "TIDINGS_ALLOW_LOOPBACK_ENDPOINTS is on: http://localhost push endpoints are accepted. \
             This is for tests only; never enable it in production."
        );
    }
    if config.vapid_subject.as_str() == DEFAULT_VAPID_SUBJECT {
        tracing::warn!("TIDINGS_VAPID_SUBJECT is not set; push services may reject {DEFAULT_VAPID_SUBJECT}");
    }
    if let Some(problem) = site_problem(&config.site_root) {
        tracing::warn!("{problem}");
    }
    // Installed before anything records: the recorder is process-wide.
    crate::operations::metrics::handle();
    let store =
        Store::open(&config.database_url).await.map_err(|e| format!("opening {}: {e}", config.database_shown()))?;
    let (keys, tracking_key) = load_keys(&store, &config).await?;
    let config = Arc::new(config);
    let extra_root = match &config.extra_root_cert {
        Some(path) => {
            tracing::warn!(path = %path.display(), "TIDINGS_TEST_TRUST_CERT is set: trusting an extra certificate (tests only)");
            Some(std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?)
        }
        None => None,
    };
    let client = PushClient::new(
        config.endpoint_policy.clone(),
        config.push_timeout,
        config.send_concurrency,
        extra_root.as_deref(),
    )
    .map_err(|e| format!("building the HTTP client: {e}"))?;
    let instance = InstanceId::generate();
    let state = AppState {
        instance: instance.clone(),
        store: store.clone(),
        config: config.clone(),
        keys: Arc::new(keys),
        dispatcher_wake: Arc::new(Notify::new()),
        webhook_wake: Arc::new(Notify::new()),
        tracking_key: Arc::new(tracking_key),
        track_limiter: Arc::default(),
        api_limiter: Arc::new(crate::api::limit::ApiLimiter::new(config.api_rate_per_sec)),
        push: client.clone(),
    };
    crate::admin::auth::ssr::ensure_initial_admin(&state).await?;

    let stopping = CancellationToken::new();
    tracing::info!(instance = instance.as_str(), database = ?store.dialect(), "starting");
    let dispatcher = Dispatcher {
        store: state.store.clone(),
        client,
        keys: state.keys.clone(),
        tracking_key: state.tracking_key.clone(),
        wake: state.dispatcher_wake.clone(),
        clock: config.clock.clone(),
        concurrency: config.send_concurrency,
        retry: config.retry,
        instance: instance.clone(),
        lease: config.lease,
        stop: stopping.clone(),
    }
    .spawn();

    let webhooks = crate::webhook::sender::WebhookSender::new(
        state.store.clone(),
        config.endpoint_policy.allow_loopback,
        config.webhooks,
        state.webhook_wake.clone(),
        stopping.clone(),
    )
    .map_err(|e| format!("building the webhook client: {e}"))?
    .spawn();

    let router = router(state.clone()).await?;
    let serve = tokio::spawn(serve(listener, router, config.http));
    Ok(RunningServer { addr, state, instance, serve, dispatcher, webhooks, stopping })
}

/// The VAPID key pairs and the tracking key, from the database; the first instance to start
/// on an empty database generates them, and every later start (and every other instance)
/// reads the same ones: a new VAPID key would orphan every subscription.
async fn load_keys(store: &Store, config: &Config) -> Result<(KeyRing, TrackingKey), String> {
    let keys = KeyRing::open(store, config.vapid_subject.clone()).await?;
    let tracking = store
        .setting_or_insert(crate::tracking::token::KEY_SETTING, &TrackingKey::generate_stored())
        .await
        .map_err(|e| format!("reading the tracking key: {e}"))?;
    Ok((keys, TrackingKey::from_stored(&tracking)?))
}

/// Why the pages will not work from `site_root`, if they will not: the server runs, but
/// every page would load without its script and styles.
pub fn site_problem(site_root: &Path) -> Option<String> {
    // `tidings.js`, or `tidings.<hash>.js` from a release build.
    let is_script = |name: &str| name.starts_with("tidings.") && name.ends_with(".js");
    let has_script = std::fs::read_dir(site_root.join("pkg"))
        .is_ok_and(|files| files.flatten().any(|file| file.file_name().to_str().is_some_and(is_script)));
    (!has_script).then(|| {
        format!(
            "{} has no built site (pkg/tidings.js is missing): pages will not work. \
             Build with `cargo leptos build` or set LEPTOS_SITE_ROOT.",
            site_root.display()
        )
    })
}

/// Serves HTTP/1.1 on `listener` within `limits`. Our own loop rather than `axum::serve`,
/// which can neither time out a client that never finishes its headers nor cap the
/// connections: idle clients would hold connections (and open files) forever.
async fn serve(listener: TcpListener, router: Router, limits: HttpLimits) -> std::io::Result<()> {
    let max_connections = connection_limit(limits.max_connections);
    let open = Arc::new(OpenConnections::default());
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of files or memory for a moment: wait instead of spinning.
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // At the limit the oldest connection is asked to close: at once if it is idle,
        // after its current answer if not. New clients are always served, and a crowd of
        // idle ones cannot hold every slot.
        let (id, close) = open.add(max_connections);
        // Sign-in throttling reads the client's address from this extension.
        let service = router.clone().map_request(move |mut request: axum::extract::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        });
        let open = open.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = close.notified() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, %remote, "connection ended with an error");
            }
            open.remove(id);
        });
    }
}

/// The connections being served, oldest first, each with the signal that closes it.
#[derive(Default)]
struct OpenConnections {
    inner: std::sync::Mutex<(u64, std::collections::BTreeMap<u64, Arc<Notify>>)>,
}

impl OpenConnections {
    /// Registers a new connection; if that makes more than `max`, signals the oldest to close.
    fn add(&self, max: usize) -> (u64, Arc<Notify>) {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (next_id, open) = &mut *inner;
        while open.len() >= max {
            let Some((_, oldest)) = open.pop_first() else { break };
            // notify_one keeps the signal if the connection is not waiting for it yet.
            oldest.notify_one();
        }
        *next_id += 1;
        let close = Arc::new(Notify::new());
        open.insert(*next_id, close.clone());
        (*next_id, close)
    }

    fn remove(&self, id: u64) {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).1.remove(&id);
    }
}

/// `wanted`, or fewer if the open-file limit would not leave room for the database,
/// the push client and the site's files. Raises the soft limit to the hard one first.
fn connection_limit(wanted: usize) -> usize {
    // Files kept for everything that is not a client connection.
    const RESERVED: u64 = 256;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    let files = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return wanted;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    let room = files.saturating_sub(RESERVED).max(16) as usize;
    if wanted > room {
        tracing::warn!(
            wanted,
            files,
            "TIDINGS_MAX_CONNECTIONS is above what the open-file limit allows; serving {room} at once"
        );
        room
    } else {
        wanted
    }
}

/// A release build (`make release`) names its files by their content and lists the names
/// in `hash.txt`, which it leaves beside the binary; Leptos reads it from there to write
/// the page's script tags. Its presence is the switch, so neither build needs a setting.
fn content_named_build() -> bool {
    std::env::current_exe().is_ok_and(|exe| exe.with_file_name("hash.txt").is_file())
}

async fn router(state: AppState) -> Result<Router, String> {
    let leptos_options = LeptosOptions::builder()
        .output_name("tidings")
        .site_root(state.config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(state.config.listen)
        .env(leptos::config::Env::PROD)
        .hash_files(content_named_build())
        .build();
    let routes = generate_route_list(App);
    let (api, _) = crate::api::routes::api(state.clone());
    let app = Router::new()
        .nest("/api/v1", api.with_state(()))
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .route(
            "/admin/subscribers/export.json",
            get({
                let state = state.clone();
                move |session| transfer::export(state, session, transfer::Format::Json)
            }),
        )
        .route(
            "/admin/subscribers/export.csv",
            get({
                let state = state.clone();
                move |session| transfer::export(state, session, transfer::Format::Csv)
            }),
        )
        .route(
            "/admin/audit.csv",
            get({
                let state = state.clone();
                move |session, query| crate::audit::api::export_csv(state, session, query)
            }),
        )
        // A site's own worker file imports this: Tidings' worker, told where Tidings is.
        .route(
            "/embed/sw.js",
            get({
                let state = state.clone();
                move || embedded_worker(state)
            }),
        )
        .route(
            "/metrics",
            get({
                let state = state.clone();
                move |headers| crate::operations::metrics::scrape(state, headers)
            }),
        )
        // For load balancers and orchestrators: up, and ready to serve.
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get({
                let state = state.clone();
                move || ready(state)
            }),
        )
        .route(
            security::IMPORT_PATH,
            post({
                let state = state.clone();
                move |session,
                      ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      headers: http::HeaderMap,
                      axum::extract::Query(options),
                      body| {
                    let from = crate::session::client_address(peer.ip(), &headers, &state.config.trusted_proxies);
                    transfer::import(state, session, Some(from), options, body)
                }
            }),
        )
        .fallback(static_file_or_not_found)
        // Outermost last: headers on everything; trailing slashes redirected; registered
        // sites' cross-origin calls answered (others refused); cross-site and foreign-host
        // writes refused before any session is loaded; then the
        // admin-only default, checked before any body is read; then the body limits.
        .layer(middleware::from_fn_with_state(state.config.http.body_timeout, security::limit_bodies))
        .layer(middleware::from_fn_with_state(state.clone(), security::admin_only))
        .layer(session_layer(&state))
        .layer(middleware::from_fn_with_state(state.clone(), security::same_origin_writes))
        .layer(middleware::from_fn_with_state(state.clone(), crate::site::cors::cross_origin))
        .layer(middleware::from_fn(security::no_trailing_slash))
        .layer(middleware::from_fn(security::security_headers))
        .layer(middleware::from_fn(crate::operations::metrics::track_http))
        .with_state(leptos_options);
    Ok(app)
}

/// A file from the site root (precompressed where the build made `.br`/`.gz` files), else
/// the app's "not found" page. leptos_axum's `file_and_error_handler` hands the file
/// server only `Accept-Encoding`, so a revalidation (`If-Modified-Since`) was never
/// answered 304 and `no-cache` files such as `embed.js` were sent whole on every visit.
async fn static_file_or_not_found(
    axum::extract::State(options): axum::extract::State<LeptosOptions>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if matches!(*request.method(), http::Method::GET | http::Method::HEAD) {
        let mut file_request = http::Request::new(axum::body::Body::empty());
        *file_request.method_mut() = request.method().clone();
        *file_request.uri_mut() = request.uri().clone();
        *file_request.headers_mut() = request.headers().clone();
        let files = tower_http::services::ServeDir::new(&*options.site_root).precompressed_br().precompressed_gzip();
        let Ok(mut response) = files.oneshot(file_request).await;
        if response.status() != http::StatusCode::NOT_FOUND {
            // The same URL answers brotli, gzip or plain: shared caches must keep them apart.
            response.headers_mut().append(http::header::VARY, http::HeaderValue::from_static("accept-encoding"));
            return response.into_response();
        }
    }
    let uri = request.uri().clone();
    leptos_axum::file_and_error_handler(shell)(uri, axum::extract::State(options), request).await
}

/// 200 when this instance can serve: the database answers and has this build's schema.
/// (Keys are loaded before the server accepts a connection, so they always are.) 503 with
/// the reason otherwise.
async fn ready(state: AppState) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.unready_reason().await {
        None => axum::Json(serde_json::json!({ "ready": true })).into_response(),
        Some(reason) => {
            tracing::debug!(%reason, "not ready");
            (http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "ready": false, "reason": reason })))
                .into_response()
        }
    }
}

/// `public/sw.js` (from the site root, as every static file) with Tidings' origin set
/// first, so on a site's origin it reports to and asks this server.
async fn embedded_worker(state: AppState) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = state.config.site_root.join("sw.js");
    match tokio::fs::read_to_string(&path).await {
        Ok(worker) => {
            let origin = crate::site::api::tidings_origin(&state.config.public_url);
            // JSON string syntax is JavaScript string syntax: the origin cannot break out.
            let script = format!("self.TIDINGS_ORIGIN = {};\n{worker}", serde_json::Value::from(origin));
            ([(http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], script).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "the service worker file is missing");
            http::StatusCode::NOT_FOUND.into_response()
        }
    }
}

/// Sessions live in our database, so they survive restarts and work on every instance
/// sharing it.
fn session_layer(state: &AppState) -> SessionManagerLayer<SessionStore> {
    let sessions = state.store.sessions().clone();
    let cleaner = sessions.clone();
    tokio::spawn(async move {
        loop {
            if let Err(error) = cleaner.delete_expired().await {
                tracing::warn!(%error, "could not delete expired sessions");
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    SessionManagerLayer::new(sessions)
        .with_name("tidings_session")
        .with_http_only(true)
        // Strict: the admin cookie is never sent on a request started by another site.
        .with_same_site(SameSite::Strict)
        .with_secure(state.config.public_url.starts_with("https://"))
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)))
}
