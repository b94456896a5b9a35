//! Admin endpoints are public HTTP endpoints: each checks the session itself.

use crate::support;

use reqwest::StatusCode;
use support::{spawn_app, ADMIN_PASSWORD, ADMIN_USER};

#[tokio::test]
async fn admin_functions_refuse_callers_without_a_session() {
    let app = spawn_app().await;
    let send = [("title", "Hi"), ("body", ""), ("url", ""), ("icon", ""), ("ttl_secs", "60"), ("urgency", "normal")];

    for (function, form) in
        [("admin/audience_size", &[][..]), ("admin/list_campaigns", &[][..]), ("admin/send_campaign", &send[..])]
    {
        let response = app.call(function, form).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
    let campaigns: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM campaigns").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(campaigns, 0, "nothing was queued");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict() {
    let app = spawn_app().await;
    let response = app.call("admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tidings_session="))
        .expect("signing in sets the session cookie")
        .to_ascii_lowercase();
    assert!(cookie.contains("httponly"), "{cookie}");
    assert!(cookie.contains("samesite=strict"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_grants_nothing() {
    let app = spawn_app().await;

    let response = app.call("admin/login", &[("username", ADMIN_USER), ("password", "guess")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.call("admin/login", &[("username", "nobody"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.call("admin/list_campaigns", &[]).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_in_opens_the_admin_functions_and_signing_out_closes_them() {
    let app = spawn_app().await;
    app.login().await;
    assert_eq!(app.call("admin/list_campaigns", &[]).await.status(), StatusCode::OK);

    app.call("admin/logout", &[]).await;
    assert_eq!(app.call("admin/list_campaigns", &[]).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn setup_is_closed_once_an_admin_exists() {
    let app = spawn_app().await; // the first admin came from the environment
    let response = app
        .call(
            "admin/setup",
            &[("username", "intruder"), ("password", "long enough password"), ("confirm", "long enough password")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(app.state.store.admin_by_username("intruder").await.unwrap().is_none());
}

#[tokio::test]
async fn invalid_campaigns_are_refused_with_a_reason() {
    let app = spawn_app().await;
    app.login().await;
    let long_body = "x".repeat(3000);
    for (case, title, body, url, ttl, urgency) in [
        ("no title", "", "", "", "60", "normal"),
        ("bad link", "Hi", "", "javascript:alert(1)", "60", "normal"),
        ("ttl over 4 weeks", "Hi", "", "", "99999999", "normal"),
        ("unknown urgency", "Hi", "", "", "60", "urgent"),
        ("over the payload limit", "Hi", &long_body, "", "60", "normal"),
    ] {
        let form =
            [("title", title), ("body", body), ("url", url), ("icon", ""), ("ttl_secs", ttl), ("urgency", urgency)];
        let response = app.call("admin/send_campaign", &form).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{case}");
    }
    let campaigns: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM campaigns").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(campaigns, 0);
}
