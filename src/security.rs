//! What every HTTP request passes through before any page or server function sees it:
//! cross-site write protection, the admin-only default for server functions, and the
//! security headers. One place, so a new endpoint cannot forget them.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::admin::auth::ssr::SESSION_KEY;
use crate::error::AppError;
use crate::state::AppState;

/// Server functions anyone may call; every other one needs a signed-in admin. Deny by
/// default: a new server function is admin-only unless it is listed here (and the test
/// `every_server_function_outside_the_public_list_needs_a_session` enumerates them all).
pub const PUBLIC_SERVER_FNS: &[&str] = &[
    "/api/vapid_public_key",
    "/api/subscribe",
    "/api/unsubscribe",
    "/api/resubscribe",
    "/api/admin/status",
    "/api/admin/setup",
    "/api/admin/login",
    "/api/admin/logout",
    "/api/track",
    "/api/topics",
    "/api/my_topics",
    "/api/choose_topics",
];

/// Refuses state-changing requests started by another site (CSRF), using what browsers
/// tell us: `Sec-Fetch-Site`, or `Origin` where that is missing (older Safari). Requests
/// with neither come from non-browser clients, which cannot carry a victim's cookies.
pub async fn same_origin_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !is_same_origin(request.headers(), &state.config.public_url) {
        return error_response(AppError::Forbidden("Cross-site requests are refused.".into()));
    }
    next.run(request).await
}

fn is_same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none": typed in the address bar or a bookmark — the user's own doing.
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
    origin_host == host || public_url.trim_end_matches('/') == origin
}

/// Server functions not in [`PUBLIC_SERVER_FNS`] answer 401 without an admin session,
/// before their arguments are even decoded. (Each also calls `require_admin` itself.)
pub async fn admin_only_server_fns(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") && !PUBLIC_SERVER_FNS.contains(&path) {
        match session.get::<i64>(SESSION_KEY).await {
            Ok(Some(_)) => {}
            Ok(None) => return error_response(AppError::Unauthorized),
            Err(error) => return error_response(crate::error::ssr::internal(error)),
        }
    }
    next.run(request).await
}

/// Headers for every response. Pages replace the fallback CSP with one carrying their
/// script nonce (see [`page_csp`]).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    // Old browsers' spelling of `frame-ancestors 'none'`.
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // Static files and server-function answers: nothing may run, and the service worker
    // (whose script this also covers) may only talk to us.
    set(headers, header::CONTENT_SECURITY_POLICY, "default-src 'self'; frame-ancestors 'none'; object-src 'none'");
    response
}

/// The CSP for a rendered page: only our own scripts, plus the inline hydration scripts
/// that carry this response's nonce, and WebAssembly compilation for the bundle. Images
/// may come from any https origin: notification icons and images are campaign links.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' https: data:; connect-src 'self'; worker-src 'self'; \
         manifest-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; \
         frame-ancestors 'none'"
    )
}

/// An [`AppError`] as a server function would answer it: its status and JSON body.
fn error_response(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn browsers_cross_site_writes_are_refused() {
        let public = "https://push.example.org";
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), public));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "cross-site")]), public));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "same-site")]), public));
        assert!(is_same_origin(&headers(&[("origin", "https://push.example.org"), ("host", "10.0.0.5:3000")]), public));
        assert!(is_same_origin(&headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]), public));
        assert!(!is_same_origin(&headers(&[("origin", "https://evil.example"), ("host", "push.example.org")]), public));
        assert!(!is_same_origin(&headers(&[("origin", "null"), ("host", "push.example.org")]), public));
        // curl, scripts: no cookies of a victim to abuse.
        assert!(is_same_origin(&headers(&[]), public));
    }
}
