//! Admin safety: the admin-only default for server functions, cross-site writes, sign-in
//! throttling, security headers, and admins adding admins.

mod support;

use reqwest::StatusCode;
use support::{spawn_app, ADMIN_PASSWORD, ADMIN_USER};
use tidings::security::PUBLIC_SERVER_FNS;

/// Enumerates every registered server function, so a new one that is neither public on
/// purpose nor behind a session fails here.
#[tokio::test]
async fn every_server_function_outside_the_public_list_needs_a_session() {
    let app = spawn_app().await;
    let registered: Vec<(&str, _)> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(registered.len() >= 12, "server functions not registered: {registered:?}");
    for public in PUBLIC_SERVER_FNS {
        assert!(registered.iter().any(|(path, _)| path == public), "{public} is listed public but does not exist");
    }
    let mut checked = 0;
    for (path, method) in &registered {
        assert_eq!(method.as_str(), "POST", "{path}: state-changing server functions must be POST only");
        if PUBLIC_SERVER_FNS.contains(path) {
            continue;
        }
        let response = app.client.post(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path} answered without a session");
        checked += 1;
    }
    assert!(checked >= 6, "expected the admin functions to be checked, got {checked}");

    // And with a session they get through to their own validation.
    app.login().await;
    let response = app.call("admin/list_admins", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.login().await;
    let post = |site: &'static str| {
        app.client
            .post(format!("{}/api/admin/send_campaign", app.base))
            .header("Sec-Fetch-Site", site)
            .form(&[
                ("title", "From elsewhere"),
                ("body", ""),
                ("url", ""),
                ("icon", ""),
                ("ttl_secs", "3600"),
                ("urgency", "normal"),
            ])
            .send()
    };
    let refused = post("cross-site").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("Cross-site requests are refused"));
    let by_origin = app
        .client
        .post(format!("{}/api/admin/logout", app.base))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(by_origin.status(), StatusCode::FORBIDDEN);
    assert!(app.campaigns().await.is_empty(), "a refused request created a campaign");

    // The same request from our own page goes through.
    let accepted = post("same-origin").await.unwrap();
    assert!(accepted.status().is_success(), "{}", accepted.status());
    assert_eq!(app.campaigns().await.len(), 1);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_even_for_the_right_one() {
    let app = spawn_app().await;
    for _ in 0..tidings::admin::throttle::MAX_FAILURES {
        let wrong = app.call("admin/login", &[("username", ADMIN_USER), ("password", "not the password")]).await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let throttled = app.call("admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.text().await.unwrap().contains("Too many failed sign-ins"));
    // Not signed in: the admin functions still refuse.
    assert_eq!(app.call("admin/list_admins", &[]).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sign_in_limit_counts_per_key_lasts_one_window_and_a_success_clears_the_user_name() {
    // Through `reserve`, the one mechanism sign-in uses: each call counts an attempt.
    use tidings::admin::throttle::{reserve, succeeded, MAX_FAILURES, WINDOW};
    let app = spawn_app().await;
    let store = &app.state.store;
    let (ada, address) = ("user:ada", Some("ip:192.0.2.1"));
    let start = 1_000_000_000_000;
    for _ in 0..MAX_FAILURES {
        reserve(store, ada, address, start).await.unwrap();
    }
    let refused = reserve(store, ada, address, start + 60_000).await.unwrap_err();
    assert!(refused.to_string().contains("14 minutes"), "{refused}");
    // Another user name from the same address is refused too; another address is not.
    assert!(reserve(store, "user:bob", Some("ip:192.0.2.1"), start).await.is_err());
    assert!(reserve(store, "user:bob", Some("ip:192.0.2.9"), start).await.is_ok());
    let window = WINDOW.as_millis() as i64;
    assert!(reserve(store, ada, address, start + window).await.is_ok(), "the lock ends with its window");

    // Without an address the user name's lock holds; a success clears it.
    for _ in 0..MAX_FAILURES {
        reserve(store, "user:grace", None, start).await.unwrap();
    }
    assert!(reserve(store, "user:grace", None, start).await.is_err());
    succeeded(store, "user:grace", None).await.unwrap();
    assert!(reserve(store, "user:grace", None, start).await.is_ok(), "a success clears the user name");
}

#[tokio::test]
async fn sessions_and_the_sign_in_limit_hold_across_instances_sharing_the_database() {
    let first = spawn_app().await;
    let second = first.another_instance().await;
    // Signed in through the second instance, the same cookie works on the first (cookies
    // ignore the port, as they would behind one load-balanced address).
    second.login().await;
    let elsewhere = second.client.post(format!("{}/api/admin/list_campaigns", first.base)).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK, "a session made on one instance works on another");

    for _ in 0..tidings::admin::throttle::MAX_FAILURES {
        first.call("admin/login", &[("username", ADMIN_USER), ("password", "wrong password!")]).await;
    }
    let throttled = second.call("admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS, "failures on one instance count on the other");
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_every_response_the_security_headers() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/admin/login", app.base)).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the CSP");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "strict-origin-when-cross-origin");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "inline scripts lack the CSP's nonce");

    let again = app.client.get(format!("{}/admin/login", app.base)).send().await.unwrap();
    assert_ne!(again.headers()["content-security-policy"].to_str().unwrap(), csp, "the nonce must change per response");

    let api = app.call("vapid_public_key", &[]).await;
    assert_eq!(api.headers()["x-frame-options"], "DENY");
    assert!(api.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
}

#[tokio::test]
async fn an_admin_adds_another_admin_who_can_sign_in() {
    let app = spawn_app().await;
    let app = &app;
    let add = |name: &'static str| async move {
        app.call(
            "admin/create_admin",
            &[("username", name), ("password", "a long enough secret"), ("confirm", "a long enough secret")],
        )
        .await
    };
    assert_eq!(add("grace").await.status(), StatusCode::UNAUTHORIZED);
    app.login().await;
    assert!(add("grace").await.status().is_success());
    assert_eq!(add("grace").await.status(), StatusCode::CONFLICT);
    let short =
        app.call("admin/create_admin", &[("username", "linus"), ("password", "short"), ("confirm", "short")]).await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let admins: serde_json::Value = app.call("admin/list_admins", &[]).await.json().await.unwrap();
    let names: Vec<&str> = admins.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert_eq!(names, [ADMIN_USER, "grace"]);

    let grace = support::spawn_client();
    let login = grace
        .post(format!("{}/api/admin/login", app.base))
        .form(&[("username", "grace"), ("password", "a long enough secret")])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "{}", login.status());
    let status: serde_json::Value =
        grace.post(format!("{}/api/admin/status", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["username"], "grace");
}
