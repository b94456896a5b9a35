//! Which site a request comes from, and cross-origin access for registered sites.
//!
//! The widget on `https://www.example.org` and that site's service worker call Tidings'
//! public endpoints across origins. The browser's `Origin` header names the page's site and
//! cannot be forged by a page; a registered, active site's exact origin is answered with
//! CORS headers, any other foreign origin (or `null`) with 403 before anything runs. The
//! site a subscription is stored with is the one this proves — never one named in a body.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{SiteId, SiteOrigin, OWN_SITE};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::SiteRow;

/// The public server functions a registered site's pages and worker may call.
pub const CROSS_ORIGIN_FNS: &[&str] = &[
    "/api/site_widget",
    "/api/vapid_public_key",
    "/api/subscribe",
    "/api/unsubscribe",
    "/api/resubscribe",
    "/api/track",
    "/api/topics",
    "/api/my_topics",
    "/api/choose_topics",
];

/// The site a request was made for: the own page, or the registered site its `Origin` proved.
#[derive(Debug, Clone)]
pub struct RequestSite {
    pub id: SiteId,
    /// The proven origin; `None` for the own page (same origin, or no browser at all).
    pub origin: Option<SiteOrigin>,
    pub user_secret: Option<String>,
}

impl RequestSite {
    fn own() -> Self {
        Self { id: OWN_SITE, origin: None, user_secret: None }
    }

    fn of(row: SiteRow, origin: SiteOrigin) -> Self {
        Self { id: SiteId(row.id), origin: Some(origin), user_secret: row.user_secret }
    }

    /// The site of the server function being run (set by [`cross_origin`] on every request).
    pub async fn current() -> Result<Self, AppError> {
        let axum::Extension(site): axum::Extension<Self> = leptos_axum::extract()
            .await
            .map_err(|_| AppError::Forbidden("This request's site is not known.".into()))?;
        Ok(site)
    }
}

/// Answers preflights and adds CORS headers for registered sites on [`CROSS_ORIGIN_FNS`];
/// refuses foreign origins there. Every request leaves with its [`RequestSite`] (other
/// cross-origin requests are left to the same-origin rule, which refuses writes).
pub async fn cross_origin(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(origin) = foreign_origin(&request, &state.config.public_url) else {
        request.extensions_mut().insert(RequestSite::own());
        return next.run(request).await;
    };
    if !CROSS_ORIGIN_FNS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let site = match SiteOrigin::parse(&origin) {
        Ok(origin) => match state.store.active_site_by_origin(&origin).await {
            Ok(Some(row)) => RequestSite::of(row, origin),
            Ok(None) => return unregistered(origin.as_str()),
            Err(error) => return crate::error::ssr::internal(error).into_response(),
        },
        // `null` (sandboxed frames, file: pages) and anything else that is no web origin.
        Err(_) => return unregistered(&origin),
    };
    let allow = HeaderValue::from_str(site.origin.as_ref().map_or("", SiteOrigin::as_str)).ok();
    let mut response = if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, GET"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, accept"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        preflight
    } else {
        request.extensions_mut().insert(site);
        request.extensions_mut().insert(crate::security::RegisteredOrigin);
        next.run(request).await
    };
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// The request's `Origin` if it is another site's (not this server's own pages).
fn foreign_origin(request: &Request, public_url: &str) -> Option<String> {
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("null").to_owned();
    (!crate::security::is_same_origin(headers, public_url)).then_some(origin)
}

fn unregistered(origin: &str) -> Response {
    tracing::info!(
        origin = origin.chars().take(200).collect::<String>(),
        "a request from an unregistered origin was refused"
    );
    AppError::Forbidden("This site is not registered with this Tidings; add it under Sites in the admin.".into())
        .into_response()
}
