//! Admin safety: the admin-only default for server functions, cross-site writes, sign-in
//! throttling, security headers, and admins adding admins.

use crate::support;

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

/// The role each admin server function needs, written out here on purpose (not read from
/// the code): a function whose role changes, or a new one, fails until it is listed.
const ROLE_OF: &[(&str, &str)] = &[
    ("/api/admin/audience_size", "viewer"),
    ("/api/admin/api_reference", "viewer"),
    ("/api/admin/backup_status", "viewer"),
    ("/api/admin/campaign_report", "viewer"),
    ("/api/admin/list_admins", "viewer"),
    ("/api/admin/list_campaigns", "viewer"),
    ("/api/admin/operations", "viewer"),
    ("/api/admin/site", "viewer"),
    ("/api/admin/sites", "viewer"),
    ("/api/admin/subscriber_growth", "viewer"),
    ("/api/admin/subscriber_hosts", "viewer"),
    ("/api/admin/subscribers", "viewer"),
    ("/api/admin/subscriber_deliveries", "viewer"),
    ("/api/admin/templates", "viewer"),
    ("/api/admin/template", "viewer"),
    ("/api/admin/automations", "viewer"),
    ("/api/admin/topics", "viewer"),
    ("/api/admin/send_campaign", "editor"),
    ("/api/admin/send_test", "editor"),
    ("/api/admin/cancel_campaign", "editor"),
    ("/api/admin/delete_draft", "editor"),
    ("/api/admin/duplicate_campaign", "editor"),
    ("/api/admin/create_topic", "editor"),
    ("/api/admin/rename_topic", "editor"),
    ("/api/admin/archive_topic", "editor"),
    ("/api/admin/save_template", "editor"),
    ("/api/admin/delete_template", "editor"),
    ("/api/admin/pick_winner", "editor"),
    ("/api/admin/create_automation", "editor"),
    ("/api/admin/pause_automation", "editor"),
    ("/api/admin/delete_automation", "editor"),
    ("/api/admin/review_campaign", "owner"),
    ("/api/admin/create_admin", "owner"),
    ("/api/admin/set_admin_role", "owner"),
    ("/api/admin/api_keys", "owner"),
    ("/api/admin/create_api_key", "owner"),
    ("/api/admin/revoke_api_key", "owner"),
    ("/api/admin/audit_log", "owner"),
    ("/api/admin/keys", "owner"),
    ("/api/admin/generate_key", "owner"),
    ("/api/admin/import_key", "owner"),
    ("/api/admin/make_key_current", "owner"),
    ("/api/admin/retire_key", "owner"),
    ("/api/admin/create_site", "owner"),
    ("/api/admin/update_site", "owner"),
    ("/api/admin/archive_site", "owner"),
    ("/api/admin/rotate_site_secret", "owner"),
    ("/api/admin/set_site_approval", "owner"),
    ("/api/admin/set_site_cap", "owner"),
    ("/api/admin/delete_subscriber", "owner"),
    ("/api/admin/webhooks", "owner"),
    ("/api/admin/create_webhook", "owner"),
    ("/api/admin/delete_webhook", "owner"),
    ("/api/admin/enable_webhook", "owner"),
    ("/api/admin/resend_webhook", "owner"),
];

/// Every admin server function, called by a viewer, an editor and an owner: below the
/// role it needs, 403 before its arguments are even read; at or above it, through to the
/// function itself (its own answer, never 401 or 403). The owner-only plain routes too.
#[tokio::test]
async fn every_server_function_is_refused_below_the_role_it_needs() {
    let app = spawn_app().await;
    app.login().await;
    let editor = app.signed_in_as("edith", "editor").await;
    let viewer = app.signed_in_as("victor", "viewer").await;
    let rank = |role: &str| ["viewer", "editor", "owner"].iter().position(|r| *r == role).unwrap();
    let mut checked = 0;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        if PUBLIC_SERVER_FNS.contains(&path) {
            continue;
        }
        let Some((_, needed)) = ROLE_OF.iter().find(|(p, _)| *p == path) else {
            panic!("{path} is not in ROLE_OF: decide which role it needs");
        };
        for (client, role) in [(&viewer, "viewer"), (&editor, "editor"), (&app.client, "owner")] {
            let status = client.post(format!("{}{path}", app.base)).send().await.unwrap().status();
            if rank(role) < rank(needed) {
                assert_eq!(status, StatusCode::FORBIDDEN, "{path} let {role} through");
            } else {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{path} refused {role}: {status}"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, ROLE_OF.len(), "ROLE_OF lists functions that do not exist");

    // A refusal says why, and the plain owner routes refuse the others too.
    let refused = support::call(&viewer, &app.base, "admin/send_campaign", &support::plain_campaign("No")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("This needs an editor; you are a viewer."));
    assert!(app.campaigns().await.is_empty(), "a refused call made a campaign");
    for path in ["/admin/subscribers/export.csv", "/admin/subscribers/export.json", "/admin/audit.csv"] {
        for client in [&viewer, &editor] {
            assert_eq!(client.get(format!("{}{path}", app.base)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        }
        assert_eq!(app.client.get(format!("{}{path}", app.base)).send().await.unwrap().status(), StatusCode::OK);
    }
    let import = editor.post(format!("{}/admin/subscribers/import", app.base)).body("[]").send().await.unwrap();
    assert_eq!(import.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted() {
    let app = spawn_app().await;
    app.login().await;
    let demote = app.call("admin/set_admin_role", &[("username", ADMIN_USER), ("role", "editor")]).await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert!(demote.text().await.unwrap().contains("last owner"));
    // With a second owner it works, and the demoted admin loses owner pages at once.
    let grace = app.signed_in_as("grace", "owner").await;
    let demote =
        support::call(&grace, &app.base, "admin/set_admin_role", &[("username", ADMIN_USER), ("role", "viewer")]).await;
    assert!(demote.status().is_success(), "{}", demote.status());
    assert_eq!(app.call("admin/api_keys", &[]).await.status(), StatusCode::FORBIDDEN);
    let unknown =
        support::call(&grace, &app.base, "admin/set_admin_role", &[("username", "nobody"), ("role", "viewer")]).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = support::call(&grace, &app.base, "admin/set_admin_role", &[("username", "grace"), ("role", "god")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.login().await;
    // Someone to send to, so that the accepted request below makes a campaign.
    let push = support::PushService::start().await;
    assert_eq!(app.subscribe(&push.subscription(StatusCode::CREATED)).await.status(), StatusCode::OK);
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

#[tokio::test]
async fn an_editors_campaign_waits_for_another_owners_approval() {
    let app = spawn_app().await;
    let push = support::PushService::start().await;
    let subscriber = push.subscription(StatusCode::CREATED);
    assert!(app.subscribe(&subscriber).await.status().is_success());
    app.login().await;
    let edith = app.signed_in_as("edith", "editor").await;
    let send = |title: &'static str| {
        let edith = edith.clone();
        let base = app.base.clone();
        async move {
            let response = support::call(&edith, &base, "admin/send_campaign", &support::plain_campaign(title)).await;
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<i64>().await.unwrap()
        }
    };
    let report = |client: reqwest::Client, id: i64| {
        let base = app.base.clone();
        async move {
            let response = support::call(&client, &base, "admin/campaign_report", &[("id", &id.to_string())]).await;
            response.json::<serde_json::Value>().await.unwrap()
        }
    };

    // Without the site's requirement, an editor sends straight away.
    let direct = send("Straight out").await;
    app.wait_until_sent(direct).await;

    let required = app.call("admin/set_site_approval", &[("id", "1"), ("required", "true")]).await;
    assert!(required.status().is_success());
    let id = send("Needs a yes").await;
    let waiting = report(edith.clone(), id).await;
    assert_eq!(waiting["summary"]["status"], "awaiting_approval");
    assert_eq!(waiting["approval"]["requested_by"], "edith");
    assert_eq!(waiting["approval"]["may_review"], false);
    assert_eq!(report(app.client.clone(), id).await["approval"]["may_review"], true);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(push.received().len(), 1, "only the first campaign went out");

    // Editors cannot approve, nor can the one who asked once made an owner.
    let approve = [("id", id.to_string()), ("decision", "approve".to_owned())];
    let approve: Vec<(&str, &str)> = approve.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        support::call(&edith, &app.base, "admin/review_campaign", &approve).await.status(),
        StatusCode::FORBIDDEN
    );
    let promote = app.call("admin/set_admin_role", &[("username", "edith"), ("role", "owner")]).await;
    assert!(promote.status().is_success());
    let own = support::call(&edith, &app.base, "admin/review_campaign", &approve).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    assert!(own.text().await.unwrap().contains("another owner"));
    app.call("admin/set_admin_role", &[("username", "edith"), ("role", "editor")]).await;

    // Declined: a draft again, with the owner's note for the editor.
    let id_text = id.to_string();
    let decline = [("id", id_text.as_str()), ("decision", "decline"), ("note", "Tone it down")];
    assert!(app.call("admin/review_campaign", &decline).await.status().is_success());
    let declined = report(edith.clone(), id).await;
    assert_eq!(declined["summary"]["status"], "draft");
    assert_eq!(declined["approval"]["note"], "Tone it down");
    assert_eq!(declined["approval"]["waiting"], false);
    assert_eq!(app.call("admin/review_campaign", &approve).await.status(), StatusCode::CONFLICT, "nothing waits now");

    // Asked again and approved: sent, once.
    let mut again = support::plain_campaign("Needs a yes").to_vec();
    again.push(("campaign_id", id_text.as_str()));
    assert!(support::call(&edith, &app.base, "admin/send_campaign", &again).await.status().is_success());
    assert_eq!(report(edith.clone(), id).await["summary"]["status"], "awaiting_approval");
    assert!(app.call("admin/review_campaign", &approve).await.status().is_success());
    let sent = app.wait_until_sent(id).await;
    assert_eq!(sent.sent, 1);
    assert_eq!(push.received().len(), 2);

    let log: serde_json::Value = app.call("admin/audit_log", &[]).await.json().await.unwrap();
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["campaign.request_approval", "campaign.decline", "campaign.approve", "admin.role", "site.approval"] {
        assert!(actions.contains(&action), "{action} not in the audit log: {actions:?}");
    }
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_an_owner() {
    let app = spawn_app().await;
    app.login().await;
    let grace = app.signed_in_as("grace", "owner").await;
    let (a, b) = tokio::join!(
        app.call("admin/set_admin_role", &[("username", "grace"), ("role", "editor")]),
        support::call(&grace, &app.base, "admin/set_admin_role", &[("username", ADMIN_USER), ("role", "editor")]),
    );
    let done = [a.status(), b.status()].iter().filter(|s| s.is_success()).count();
    assert_eq!(done, 1, "exactly one demotion goes through: {} and {}", a.status(), b.status());
    let admins: serde_json::Value = app.call("admin/list_admins", &[]).await.json().await.unwrap();
    let owners = admins.as_array().unwrap().iter().filter(|a| a["role"] == "Owner").count();
    assert_eq!(owners, 1);
}
