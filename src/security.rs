//! What every HTTP request passes through before any page or server function sees it:
//! cross-site write protection, the admin-only default for server functions and for
//! every request that carries a body, body limits, and the security and caching headers.
//! One place, so a new endpoint cannot forget them.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http_body_util::Limited;
use tower_http::timeout::TimeoutBody;
use tower_sessions::Session;

use crate::admin::role::Role;
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
    "/api/site_widget",
];

/// Admin server functions a viewer may call: they read, and change nothing.
pub const VIEWER_SERVER_FNS: &[&str] = &[
    "/api/admin/audience_size",
    "/api/admin/api_reference",
    "/api/admin/backup_status",
    "/api/admin/campaign_report",
    "/api/admin/list_admins",
    "/api/admin/list_campaigns",
    "/api/admin/operations",
    "/api/admin/site",
    "/api/admin/sites",
    "/api/admin/subscriber_growth",
    "/api/admin/subscriber_hosts",
    "/api/admin/subscribers",
    "/api/admin/subscriber_deliveries",
    "/api/admin/topics",
    "/api/admin/templates",
    "/api/admin/template",
    "/api/admin/automations",
];

/// Admin server functions an editor may call: campaigns, templates, topics and automations.
pub const EDITOR_SERVER_FNS: &[&str] = &[
    "/api/admin/cancel_campaign",
    "/api/admin/delete_draft",
    "/api/admin/duplicate_campaign",
    "/api/admin/send_campaign",
    "/api/admin/send_test",
    "/api/admin/save_template",
    "/api/admin/delete_template",
    "/api/admin/create_topic",
    "/api/admin/rename_topic",
    "/api/admin/archive_topic",
    "/api/admin/pick_winner",
    "/api/admin/create_automation",
    "/api/admin/pause_automation",
    "/api/admin/delete_automation",
];

/// The role a server function at `path` needs, `None` for the public ones. Deny by
/// default again: an admin function listed nowhere is for owners only.
pub fn required_role(path: &str) -> Option<Role> {
    if PUBLIC_SERVER_FNS.contains(&path) {
        None
    } else if VIEWER_SERVER_FNS.contains(&path) {
        Some(Role::Viewer)
    } else if EDITOR_SERVER_FNS.contains(&path) {
        Some(Role::Editor)
    } else {
        Some(Role::Owner)
    }
}

/// Where the REST API lives; its routes authenticate with API keys instead of sessions.
pub const API_PREFIX: &str = "/api/v1/";

/// The routes whose body may be large: a whole file of subscriptions, streamed.
pub const IMPORT_PATH: &str = "/admin/subscribers/import";
pub const API_IMPORT_PATH: &str = "/api/v1/subscribers/import";
/// Any other request body: server-function arguments, at most a few kilobytes in use.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Refuses state-changing requests started by another site (CSRF), using what browsers
/// tell us: `Sec-Fetch-Site`, or `Origin` where that is missing (older Safari). Requests
/// with neither come from non-browser clients, which cannot carry a victim's cookies.
/// A registered site's request to one of its endpoints is the exception: the site layer's
/// CORS middleware, which runs first, marks it [`RegisteredOrigin`].
pub async fn same_origin_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let registered = request.extensions().get::<RegisteredOrigin>().is_some();
    if !safe && !registered && !is_same_origin(request.headers(), &state.config.public_url) {
        return error_response(AppError::Forbidden("Cross-site requests are refused.".into()));
    }
    // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 is "same
    // origin" with itself, and could complete a fresh install's set-up. Its requests name
    // its own host, never ours.
    if !safe && !is_known_host(request.headers(), &state.config.public_url) {
        return error_response(AppError::Forbidden(
            "This address is not where Tidings is served (set TIDINGS_PUBLIC_URL to the address you use).".into(),
        ));
    }
    next.run(request).await
}

/// On a request from another origin that is a registered site's, calling one of the
/// endpoints sites may call.
#[derive(Debug, Clone, Copy)]
pub struct RegisteredOrigin;

/// Whether the request's `Host` is ours: the public URL's host, `localhost`, or any IP
/// address (a rebinding attack needs a host name of the attacker's; addresses cannot be
/// rebound). Ports are not compared: a proxy may stand in front on another one.
fn is_known_host(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        // HTTP/1.0 clients without a Host header are not browsers.
        return true;
    };
    let Ok(authority) = host.parse::<http::uri::Authority>() else {
        return false;
    };
    let name = authority.host().trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|ours| ours.eq_ignore_ascii_case(name))
}

/// Whether a request comes from this server's own pages (or from no browser at all).
pub(crate) fn is_same_origin(headers: &HeaderMap, public_url: &str) -> bool {
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

/// Server functions not in [`PUBLIC_SERVER_FNS`], and every other request that may carry
/// a body (the import), answer 401 without an admin session and 403 to an admin whose
/// role is below [`required_role`], before a byte of the body is read. (Each handler also
/// checks the admin itself.)
pub async fn admin_only(State(state): State<AppState>, session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let may_have_body = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The REST API checks its own credentials (a bearer key, see `api::auth`), also
    // before reading a body; a session cookie means nothing there.
    let rest_api = path.starts_with(API_PREFIX);
    if let (Some(needed), true, false) = (required_role(path), path.starts_with("/api/") || may_have_body, rest_api) {
        match crate::session::admin_of(&state.store, &session).await {
            Ok(Some(admin)) => {
                if let Err(refused) = admin.may(needed) {
                    return error_response(refused);
                }
            }
            Ok(None) => return error_response(AppError::Unauthorized),
            Err(error) => return error_response(error),
        }
    }
    next.run(request).await
}

/// Bounds every request body: the import may be large, anything else is a few
/// kilobytes, and no body may pause longer than `body_timeout` between two pieces (a
/// client trickling a body would otherwise hold its connection forever). A declared
/// length over the limit is refused before reading.
pub async fn limit_bodies(State(body_timeout): State<Duration>, request: Request, next: Next) -> Response {
    let limit = if [IMPORT_PATH, API_IMPORT_PATH].contains(&request.uri().path()) {
        crate::subscription::transfer::MAX_IMPORT_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return error_response(AppError::TooLarge(format!(
            "The request is larger than the {} KiB this address accepts.",
            limit / 1024
        )));
    }
    let request = request.map(|body| Body::new(TimeoutBody::new(body_timeout, Limited::new(body, limit))));
    next.run(request).await
}

/// `/admin/campaigns/` and the like: the same page without the slash, which is where
/// the router (and every link) has it.
pub async fn no_trailing_slash(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        // "//evil.example" would be another host to the browser.
        let target = format!("/{}", trimmed.trim_start_matches('/'));
        let target = match request.uri().query() {
            Some(query) => format!("{target}?{query}"),
            None => target,
        };
        return Redirect::permanent(&target).into_response();
    }
    next.run(request).await
}

/// Headers for every response. Pages replace the fallback CSP with one carrying their
/// script nonce (see [`page_csp`]).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let cache = cache_control(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(cache));
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
/// A site's page (`/admin/sites/<id>`) may also fetch from other origins: the admin's
/// browser checks the site's worker file there.
pub fn page_csp(nonce: &str, path: &str) -> String {
    let connect = if path.starts_with("/admin/sites/") {
        "'self' https: http://localhost:* http://127.0.0.1:*"
    } else {
        "'self'"
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' https: data:; connect-src {connect}; worker-src 'self'; \
         manifest-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; \
         frame-ancestors 'none'"
    )
}

/// Pages carry a per-response nonce and admin data, server functions and exports carry
/// data (the exports every subscriber's keys): none may be stored by a browser or proxy.
/// A release build names its scripts, wasm and styles by their content (see
/// [`is_content_named`]): a new build has new names, so those are kept for a year without
/// asking again. Other static files (the worker, icons, a debug build's bundle) keep their
/// names across builds, so they may be kept but must be revalidated.
fn cache_control(path: &str) -> &'static str {
    let file = path.rsplit('/').next().unwrap_or_default();
    if path.starts_with("/pkg/") && is_content_named(file) {
        return "public, max-age=31536000, immutable";
    }
    let is_static =
        path.starts_with("/pkg/") || (!path.starts_with("/admin") && !path.starts_with("/api/") && file.contains('.'));
    if is_static {
        "no-cache"
    } else {
        "no-store"
    }
}

/// `tidings.<hash>.wasm`, `chunk_7.<hash>.wasm`, `__wasm_split.<hash>.js`: cargo-leptos'
/// `hash-files` puts the file's MD5, base64url without padding (22 characters), between
/// the stem and the extension.
fn is_content_named(file: &str) -> bool {
    // Asked for every /pkg request: looks at the parts between stem and extension in place.
    let Some((name, _extension)) = file.rsplit_once('.') else { return false };
    name.split('.')
        .skip(1)
        .any(|part| part.len() == 22 && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// An [`AppError`] as a server function would answer it: its status and JSON body.
pub fn error_response(error: AppError) -> Response {
    error.into_response()
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

    #[test]
    fn only_our_host_names_and_addresses_may_write() {
        let public = "https://push.example.org";
        for ok in
            ["push.example.org", "PUSH.example.org:8443", "127.0.0.1:3000", "[::1]:3000", "localhost:3000", "10.0.0.5"]
        {
            assert!(is_known_host(&headers(&[("host", ok)]), public), "{ok}");
        }
        for rebound in ["evil.example:3000", "push.example.org.evil.example", "localhost.evil.example"] {
            assert!(!is_known_host(&headers(&[("host", rebound)]), public), "{rebound}");
        }
    }

    #[test]
    fn only_static_files_may_be_cached() {
        for path in [
            "/",
            "/admin",
            "/admin/campaigns/3",
            "/api/subscribe",
            "/admin/subscribers/export.json",
            "/admin/subscribers/export.csv",
        ] {
            assert_eq!(cache_control(path), "no-store", "{path}");
        }
        for path in ["/pkg/tidings.wasm", "/pkg/tidings.css", "/sw.js", "/icon-192.png", "/manifest.webmanifest"] {
            assert_eq!(cache_control(path), "no-cache", "{path}");
        }
    }

    #[test]
    fn content_named_files_are_kept_for_good() {
        for path in [
            "/pkg/tidings.9JcHh4k1xrW_5-BeMxjzLw.wasm",
            "/pkg/tidings.9JcHh4k1xrW_5-BeMxjzLw.js",
            "/pkg/chunk_100.Zx3u0xQf1Hn9d2Jm0yJcXw.wasm",
            "/pkg/__wasm_split.Zx3u0xQf1Hn9d2Jm0yJcXw.js",
            "/pkg/__wasm_split_manifest.Zx3u0xQf1Hn9d2Jm0yJcXw.json",
        ] {
            assert_eq!(cache_control(path), "public, max-age=31536000, immutable", "{path}");
        }
        // Not content names: none, too short, a character base64url has not, or outside /pkg.
        for path in [
            "/pkg/tidings.wasm",
            "/pkg/chunk_100.wasm",
            "/pkg/tidings.9JcHh4k1xrW.wasm",
            "/pkg/tidings.9JcHh4k1xrW_5-BeMxjz!w.wasm",
            "/icon.9JcHh4k1xrW_5-BeMxjzLw.png",
        ] {
            assert_ne!(cache_control(path), "public, max-age=31536000, immutable", "{path}");
        }
    }
}
