//! Builds and starts the whole server: database, keys, dispatcher, HTTP routes.
//! `main` and the integration tests both start Tidings through [`start`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::sync::Notify;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};

use crate::app::{shell, App};
use crate::config::{Config, DEFAULT_VAPID_SUBJECT};
use crate::delivery::Dispatcher;
use crate::push::client::PushClient;
use crate::push::vapid::VapidKeys;
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
}

impl RunningServer {
    /// Stops serving and sending at once, as a killed process would (nothing is flushed:
    /// all state is already in the database).
    pub fn abort(&self) {
        self.serve.abort();
        self.dispatcher.abort();
    }

    /// Stops sending and hands what this instance had claimed to the others (or to the
    /// next start) at once, rather than after its lease.
    pub async fn stop(&self) {
        self.abort();
        if let Err(error) = self.state.store.retire_instance(&self.instance).await {
            tracing::warn!(%error, "could not sign this instance off; its deliveries resume after the lease");
        }
    }
}

/// Opens the database (applying migrations), loads or creates the VAPID keys, starts the
/// dispatcher and begins serving. `config.listen` may use port 0; `addr` is the real one.
pub async fn start(config: Config) -> Result<RunningServer, String> {
    if config.endpoint_policy.allow_loopback {
        tracing::warn!(
            "TIDINGS_ALLOW_LOOPBACK_ENDPOINTS is on: http://localhost push endpoints are accepted. \
             This is for tests only; never enable it in production."
        );
    }
    if config.vapid_subject.as_str() == DEFAULT_VAPID_SUBJECT {
        tracing::warn!("TIDINGS_VAPID_SUBJECT is not set; push services may reject {DEFAULT_VAPID_SUBJECT}");
    }
    let store = Store::open(&config.database_url)
        .await
        .map_err(|e| format!("opening {}: {e}", config.database_url))?;
    let vapid = Arc::new(VapidKeys::load_or_generate(&store, config.vapid_subject.clone()).await?);
    let config = Arc::new(config);
    let extra_root = match &config.extra_root_cert {
        Some(path) => {
            tracing::warn!(path = %path.display(), "TIDINGS_TEST_TRUST_CERT is set: trusting an extra certificate (tests only)");
            Some(std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?)
        }
        None => None,
    };
    let client = PushClient::new(config.endpoint_policy.clone(), config.push_timeout, extra_root.as_deref())
        .map_err(|e| format!("building the HTTP client: {e}"))?;
    let state = AppState {
        store: store.clone(),
        config: config.clone(),
        vapid,
        dispatcher_wake: Arc::new(Notify::new()),
        tracking_key: Arc::new(TrackingKey::load_or_generate(&store).await?),
        track_limiter: Arc::default(),
        push: client.clone(),
    };
    crate::admin::auth::ssr::ensure_initial_admin(&state).await?;

    let instance = InstanceId::generate();
    tracing::info!(instance = instance.as_str(), database = ?store.dialect(), "starting");
    let dispatcher = Dispatcher {
        store: state.store.clone(),
        client,
        vapid: state.vapid.clone(),
        tracking_key: state.tracking_key.clone(),
        wake: state.dispatcher_wake.clone(),
        clock: config.clock.clone(),
        concurrency: config.send_concurrency,
        retry: config.retry,
        instance: instance.clone(),
        lease: config.lease,
    }
    .spawn();

    let router = router(state.clone()).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Connection info lets sign-in throttling see the client's address.
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let serve = tokio::spawn(async move { axum::serve(listener, service).await });
    Ok(RunningServer { addr, state, instance, serve, dispatcher })
}

async fn router(state: AppState) -> Result<Router, String> {
    let leptos_options = LeptosOptions::builder()
        .output_name("tidings")
        .site_root(state.config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(state.config.listen)
        .env(leptos::config::Env::PROD)
        .build();
    let routes = generate_route_list(App);
    let app = Router::new()
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
        .route("/admin/subscribers/export.json", get({
            let state = state.clone();
            move |session| transfer::export(state, session, transfer::Format::Json)
        }))
        .route("/admin/subscribers/export.csv", get({
            let state = state.clone();
            move |session| transfer::export(state, session, transfer::Format::Csv)
        }))
        .route(
            "/admin/subscribers/import",
            post({
                let state = state.clone();
                move |session, body| transfer::import(state, session, body)
            })
            .layer(DefaultBodyLimit::max(transfer::MAX_IMPORT_BYTES)),
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        // Outermost last: headers on everything, cross-site writes refused before any
        // session is loaded, then the admin-only default for server functions.
        .layer(middleware::from_fn(security::admin_only_server_fns))
        .layer(session_layer(&state))
        .layer(middleware::from_fn_with_state(state.clone(), security::same_origin_writes))
        .layer(middleware::from_fn(security::security_headers))
        .with_state(leptos_options);
    Ok(app)
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
