//! The attacks of the outside probe (issue 12), each reproduced: bodies read before the
//! session is checked, concurrent password guesses, slow and idle clients, hostile text
//! in admin pages, and the smaller findings (endpoints, CSV formulas, trailing slashes,
//! foreign hosts, caching, start-up failures).

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{spawn_app, spawn_app_with, TestApp, ADMIN_PASSWORD, ADMIN_USER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The resident memory of process `pid`, in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is alive");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Samples the RSS of `pid` every 10 ms until dropped; `highest()` is the peak seen.
struct RssWatch {
    highest: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssWatch {
    fn start(pid: u32) -> Self {
        let highest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_kib(pid)));
        let task = tokio::spawn({
            let highest = highest.clone();
            async move {
                loop {
                    highest.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Self { highest, task }
    }

    fn highest(&self) -> u64 {
        self.highest.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The real binary on a fresh SQLite file, as the probe ran it.
async fn real_binary(dir: &tempfile::TempDir) -> (tokio::process::Child, String) {
    let database = format!("sqlite:{}", dir.path().join("tidings.db").display());
    support::start_instance(&database, 8, 30).await
}

/// Sends `head` then up to `body_bytes` of body in 1 MiB pieces, for at most `for_at_most`,
/// and returns the status line of the answer, or `None` if none came.
async fn upload(addr: &str, head: String, body_bytes: usize, for_at_most: Duration) -> (Option<String>, Duration) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match read.read(&mut buffer).await {
                Ok(0) | Err(_) => return (None, started.elapsed()),
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
        let line = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned();
        (Some(line), started.elapsed())
    });
    let writer = async move {
        write.write_all(head.as_bytes()).await?;
        let piece = vec![b'['; 1024 * 1024];
        let mut sent = 0;
        while sent < body_bytes {
            write.write_all(&piece).await?;
            sent += piece.len();
        }
        std::io::Result::Ok(())
    };
    // The server may stop reading (and the writes block) once it has answered.
    let _ = tokio::time::timeout(for_at_most, writer).await;
    tokio::time::timeout(Duration::from_secs(10), reader).await.expect("an answer or a close").unwrap()
}

fn post_head(path: &str, content_length: Option<u64>) -> String {
    let length = match content_length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".into(),
    };
    format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{length}\r\n")
}

#[tokio::test]
async fn unauthenticated_uploads_are_refused_before_their_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = real_binary(&dir).await;
    let pid = child.id().unwrap();
    let addr = base.trim_start_matches("http://").to_owned();
    // Let start-up allocations settle before the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let watch = RssWatch::start(pid);

    // Four 500 MB uploads at once, each sending up to 100 MB for up to 3 s.
    let uploads = (0..4).map(|_| {
        upload(&addr, post_head("/admin/subscribers/import", Some(500_000_000)), 100 << 20, Duration::from_secs(3))
    });
    for (status, after) in futures::future::join_all(uploads).await {
        let status = status.expect("an answer to the upload");
        assert!(status.contains(" 401 "), "{status}");
        // Reading the body first would take until all 500 MB had arrived, which never happens.
        assert!(after < Duration::from_secs(5), "the 401 took {after:?}: the body was read first");
    }
    // A chunked body (no declared length) to an admin server function, likewise.
    let (status, _) =
        upload(&addr, post_head("/api/admin/send_campaign", None), 50 << 20, Duration::from_secs(2)).await;
    assert!(status.unwrap().contains(" 401 "));
    // A public server function reads its body, but not past its limit.
    let (status, _) =
        upload(&addr, post_head("/api/subscribe", Some(200_000_000)), 50 << 20, Duration::from_secs(2)).await;
    assert!(status.unwrap().contains(" 413 "));
    let (status, _) = upload(&addr, post_head("/api/subscribe", None), 50 << 20, Duration::from_secs(3)).await;
    let status = status.expect("an answer to an over-long chunked body");
    assert!(status.contains(" 4"), "{status}");

    let grew_mib = watch.highest().saturating_sub(before) / 1024;
    assert!(grew_mib <= 8, "the server's memory grew by {grew_mib} MiB while refusing uploads");
}

#[tokio::test]
async fn an_admins_import_is_read_as_it_arrives_not_held_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = real_binary(&dir).await;
    let pid = child.id().unwrap();
    let client = support::spawn_client();
    let login = client
        .post(format!("{base}/api/admin/login"))
        .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection());

    // 200,000 rows (about 45 MB), all refused (not a push service) so the database stays out of it.
    const ROWS: usize = 200_000;
    let row = r#"{"endpoint":"https://push.example.com/send/0000000000000000000000000000000000000000000000000000000000000000","expirationTime":null,"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}"#;
    let pieces = (0..ROWS / 1000).map(move |i| {
        let mut piece = String::with_capacity(1000 * (row.len() + 1) + 2);
        if i == 0 {
            piece.push('[');
        }
        for j in 0..1000 {
            if i > 0 || j > 0 {
                piece.push(',');
            }
            piece.push_str(row);
        }
        if i == ROWS / 1000 - 1 {
            piece.push(']');
        }
        Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from(piece)))
    });
    let file_mib = (ROWS * (row.len() + 1)) >> 20;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let watch = RssWatch::start(pid);
    let response = client
        .post(format!("{base}/admin/subscribers/import"))
        .body(reqwest::Body::wrap(http_body_util::StreamBody::new(futures::stream::iter(pieces))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: tidings::subscription::ImportReport = response.json().await.unwrap();
    assert_eq!((report.added, report.rejected), (0, ROWS));
    let grew_mib = watch.highest().saturating_sub(before) / 1024;
    assert!(grew_mib < 24, "a {file_mib} MiB import raised the server's memory by {grew_mib} MiB");
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_verified_at_most_the_limit() {
    let app = spawn_app().await;
    let app = &app;
    let attempts = (0..25).map(|_| async move {
        app.call("admin/login", &[("username", ADMIN_USER), ("password", "not the password")]).await.status()
    });
    let statuses = futures::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(verified + refused, 25, "{statuses:?}");
    assert_eq!(verified as i64, tidings::admin::throttle::MAX_FAILURES, "{statuses:?}");
}

#[tokio::test]
async fn the_user_name_lock_spares_addresses_that_never_failed() {
    use tidings::admin::throttle::{reserve, succeeded, MAX_FAILURES};
    let app = spawn_app().await;
    let store = &app.state.store;
    let now = 1_000_000_000_000;
    // A stranger fails ten times for "admin" from one address, then from a second one.
    for _ in 0..MAX_FAILURES {
        reserve(store, "user:admin", Some("ip:198.51.100.7"), now).await.unwrap();
    }
    assert!(reserve(store, "user:admin", Some("ip:198.51.100.7"), now).await.is_err(), "the address is locked");
    reserve(store, "user:admin", Some("ip:198.51.100.8"), now).await.expect("a first attempt from a new address");
    assert!(
        reserve(store, "user:admin", Some("ip:198.51.100.8"), now).await.is_err(),
        "it has failed now: the name locks it"
    );
    // The real admin, from an address that never failed, still gets in.
    reserve(store, "user:admin", Some("ip:203.0.113.1"), now).await.expect("the admin's own address is not locked");
    succeeded(store, "user:admin", Some("ip:203.0.113.1")).await.unwrap();
    // Without an address to tell them apart, the name's lock holds for everyone.
    for _ in 0..MAX_FAILURES {
        reserve(store, "user:grace", None, now).await.unwrap();
    }
    assert!(reserve(store, "user:grace", None, now).await.is_err());
    // Successes give the address its attempts back.
    for _ in 0..(MAX_FAILURES * 2) {
        reserve(store, "user:admin", Some("ip:203.0.113.2"), now).await.unwrap();
        succeeded(store, "user:admin", Some("ip:203.0.113.2")).await.unwrap();
    }
}

/// Tidings with short client timeouts and a small connection limit.
async fn strict_server() -> TestApp {
    spawn_app_with(|config| {
        config.http = tidings::config::HttpLimits {
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            max_connections: 64,
        };
    })
    .await
}

/// How long until the server closes `stream` (reading and discarding any answer).
async fn closed_after(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.expect("the server closed the connection within 10 s");
    started.elapsed()
}

#[tokio::test]
async fn idle_and_half_sent_requests_are_closed_within_their_timeouts() {
    let app = strict_server().await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    let idle = TcpStream::connect(&addr).await.unwrap();
    let mut half_header = TcpStream::connect(&addr).await.unwrap();
    half_header.write_all(b"GET /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: te").await.unwrap();
    let mut half_body = TcpStream::connect(&addr).await.unwrap();
    half_body.write_all(post_head("/api/subscribe", Some(1000)).as_bytes()).await.unwrap();
    half_body.write_all(b"endpoint=https%3A%2F%2F").await.unwrap();
    // A finished request, then nothing: the kept-alive connection is idle from then on.
    let mut kept_alive = TcpStream::connect(&addr).await.unwrap();
    kept_alive.write_all(b"GET /sw.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();

    let (idle, half_header, half_body, kept_alive) =
        tokio::join!(closed_after(idle), closed_after(half_header), closed_after(half_body), closed_after(kept_alive));
    for (what, after) in
        [("idle", idle), ("half a header", half_header), ("half a body", half_body), ("kept alive", kept_alive)]
    {
        assert!(after < Duration::from_secs(4), "{what}: closed after {after:?}, the timeout is 1 s");
    }
}

#[tokio::test]
async fn many_idle_connections_neither_block_new_clients_nor_exceed_the_limit() {
    // Idle connections would only time out after 30 s: whatever happens sooner is the cap.
    let app = spawn_app_with(|config| {
        config.http = tidings::config::HttpLimits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 64,
        };
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let started = Instant::now();
    let page = app.client.get(format!("{}/admin/login", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(10), "a new client waited {:?}", started.elapsed());

    // The server closed the oldest idle connections to stay within 64: at least 136 of
    // the 200 are closed already, long before their header timeout would have.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut closed = 0;
    for stream in &idle {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(5), stream.peek(&mut byte)).await {
            closed += 1;
        }
    }
    assert!(closed >= 200 - 64, "only {closed} of 200 idle connections were closed");
}

/// Text that would become elements if any page wrote it unescaped.
const HOSTILE: &str = r#"x</textarea></script></title><b id="injected">b</b><img src=x onerror=alert(1)><meta http-equiv="refresh" content="0;url=https://evil.example">"#;

fn assert_no_injection(page: &str, html: &str) {
    for element in [r#"<b id="injected""#, "<b/id=", "<img src=x", r#"<meta http-equiv="refresh""#, "<i/id="] {
        assert!(!html.contains(element), "{page} renders {element} as an element");
    }
}

#[tokio::test]
async fn hostile_text_in_every_field_renders_as_text_on_every_admin_page() {
    let app = spawn_app().await;
    app.login().await;
    let push = support::PushService::start().await;
    let topic_name = r#"</td><i/id="injected">t</i>"#;
    let created = app.call("admin/create_topic", &[("name", topic_name)]).await;
    assert_eq!(created.status(), StatusCode::OK, "{}", created.text().await.unwrap());
    let admin = app
        .call(
            "admin/create_admin",
            &[
                ("username", r#"</td><b/id="injected">a</b>"#),
                ("password", "a long enough secret"),
                ("confirm", "a long enough secret"),
            ],
        )
        .await;
    assert!(admin.status().is_success(), "{}", admin.text().await.unwrap());
    let subscriber = push.subscription(StatusCode::CREATED);
    assert!(app.subscribe(&subscriber).await.status().is_success());
    let title = format!("Sale \u{202E}gnp.exe {HOSTILE}");
    let link = "https://example.org/?q=</textarea><b id=\"injected\">";
    let draft = app
        .call(
            "admin/send_campaign",
            &[
                ("title", &title),
                ("body", HOSTILE),
                ("url", link),
                ("icon", link),
                ("action1_label", "<b id=\"injected\">"),
                ("action1_url", link),
                ("ttl_secs", "3600"),
                ("urgency", "normal"),
                ("intent", "draft"),
            ],
        )
        .await;
    assert_eq!(draft.status(), StatusCode::OK, "{}", draft.text().await.unwrap());
    let draft: i64 = draft.json().await.unwrap();
    let sent = app
        .send_campaign(&[
            ("title", &title),
            ("body", HOSTILE),
            ("url", link),
            ("icon", ""),
            ("ttl_secs", "3600"),
            ("urgency", "normal"),
        ])
        .await;
    app.wait_until_sent(sent).await;

    let pages = [
        "/".to_owned(),
        "/admin".into(),
        "/admin/campaigns".into(),
        format!("/admin/campaigns/{draft}"),
        format!("/admin/campaigns/{draft}/edit"),
        format!("/admin/campaigns/{sent}"),
        "/admin/topics".into(),
        "/admin/subscribers".into(),
        "/admin/team".into(),
    ];
    for page in &pages {
        let response = app.client.get(format!("{}{page}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let html = response.text().await.unwrap();
        assert_no_injection(page, &html);
        if page.ends_with("/edit") {
            // The body is in the form, escaped: the browser decodes it back to the exact text.
            assert!(html.contains("x&lt;/textarea&gt;&lt;/script&gt;"), "{page}: the body is not in the textarea");
        }
    }
    // The admin sees the right-to-left override written out, not obeyed.
    let list = app.client.get(format!("{}/admin/campaigns", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Sale [U+202E]gnp.exe"), "the override is not shown");
    assert!(!list.contains('\u{202E}'));
}

#[tokio::test]
async fn endpoints_that_grow_when_encoded_are_refused_with_a_reason() {
    let app = spawn_app_with(|config| config.endpoint_policy = Default::default()).await;
    let keys = support::PushService::start().await.subscription(StatusCode::CREATED);
    for (endpoint, reason) in [
        (format!("https://fcm.googleapis.com/fcm/send/{}", "é".repeat(1005)), "longer than 2048 bytes"),
        ("https:/fcm.googleapis.com/fcm/send/x".to_owned(), "not an absolute URL"),
        ("https://*.push.apple.com/x".to_owned(), "not a host name"),
        ("https://fcm.googleapis.com".to_owned(), "no path"),
    ] {
        let response =
            app.call("subscribe", &[("endpoint", &endpoint), ("p256dh", &keys.p256dh), ("auth", &keys.auth)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}");
        assert!(response.text().await.unwrap().contains(reason), "{endpoint}");
    }
    assert_eq!(app.subscription_count().await, 0);
}

#[tokio::test]
async fn the_csv_export_never_starts_a_cell_with_a_formula() {
    let app = spawn_app().await;
    app.login().await;
    let refused = app.call("admin/create_topic", &[("name", "=HYPERLINK(\"https://evil.example\",\"x\")")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A name stored before that rule existed is still written as text.
    sqlx::query("INSERT INTO topics (name, created_at) VALUES ('@SUM(1)', 0)")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let push = support::PushService::start().await;
    let subscriber = push.subscription(StatusCode::CREATED);
    assert!(app.subscribe(&subscriber).await.status().is_success());
    let topic: i64 = sqlx::query_scalar("SELECT id FROM topics WHERE name = '@SUM(1)'")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert!(app
        .call("choose_topics", &[("endpoint", &subscriber.endpoint), ("topics", &topic.to_string())])
        .await
        .status()
        .is_success());
    let csv = app
        .client
        .get(format!("{}/admin/subscribers/export.csv", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = csv.lines().nth(1).expect("a row");
    assert!(row.contains(",'@SUM(1),"), "{row}");
    for cell in csv.lines().flat_map(|line| line.split(',')) {
        assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']), "a formula cell: {cell}");
    }
}

#[tokio::test]
async fn trailing_slashes_redirect_to_the_page_for_anyone() {
    let app = spawn_app().await;
    for (path, target) in [
        ("/admin/", "/admin"),
        ("/admin/campaigns/", "/admin/campaigns"),
        ("/admin/campaigns/?x=1", "/admin/campaigns?x=1"),
        ("//evil.example/", "/evil.example"),
    ] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(response.headers()["location"], target, "{path}");
    }
}

#[tokio::test]
async fn set_up_from_a_rebound_host_name_is_refused() {
    let app = spawn_app_with(|config| config.initial_admin = None).await;
    let setup = |host: &'static str| {
        app.client
            .post(format!("{}/api/admin/setup", app.base))
            .header("Host", host)
            .form(&[("username", "mallory"), ("password", "a long enough secret"), ("confirm", "a long enough secret")])
            .send()
    };
    let refused = setup("evil.example:3000").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(!app.state.store.admin_exists().await.unwrap(), "a rebound page created an admin");
    let ours = setup("localhost:3000").await.unwrap();
    assert!(ours.status().is_success() || ours.status().is_redirection(), "{}", ours.status());
}

#[tokio::test]
async fn only_static_files_may_be_cached() {
    let app = spawn_app().await;
    app.login().await;
    for path in ["/", "/admin", "/admin/subscribers/export.json", "/admin/subscribers/export.csv"] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    assert_eq!(app.call("admin/list_campaigns", &[]).await.headers()["cache-control"], "no-store");
    let script = app.client.get(format!("{}/sw.js", app.base)).send().await.unwrap();
    assert_eq!(script.headers()["cache-control"], "no-cache");
    assert!(script.headers()["vary"].to_str().unwrap().contains("accept-encoding"));

    // "no-cache" means revalidate: an unchanged file is answered 304, without its body.
    let modified = script.headers()["last-modified"].clone();
    let again =
        app.client.get(format!("{}/sw.js", app.base)).header("if-modified-since", modified).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["cache-control"], "no-cache");
    // Not a file: still the app's own "not found" page.
    let missing = app.client.get(format!("{}/no-such-page", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Nothing here"));
}

#[tokio::test]
async fn start_up_fails_at_once_with_the_real_cause() {
    let dir = tempfile::tempdir().unwrap();
    // A file that is not a database.
    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, vec![0x5a; 8192]).unwrap();
    let mut config = spawn_app().await.config();
    config.database_url = format!("sqlite:{}", corrupt.display());
    let started = Instant::now();
    let error = tidings::server::start(config.clone()).await.err().expect("a corrupt database refuses to start");
    assert!(started.elapsed() < Duration::from_secs(5), "it took {:?} to fail", started.elapsed());
    assert!(error.contains("not a database"), "{error}");

    // A port in use is reported before the database is touched.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.listen = taken.local_addr().unwrap();
    let fresh = dir.path().join("never-created.db");
    config.database_url = format!("sqlite:{}", fresh.display());
    let error = tidings::server::start(config).await.err().expect("a taken port refuses to start");
    assert!(error.contains("listening on") && error.to_lowercase().contains("in use"), "{error}");
    assert!(!fresh.exists(), "the database was opened before the port");

    assert!(tidings::server::site_problem(dir.path()).is_some_and(|p| p.contains("pkg/tidings.js")));
}

#[tokio::test]
async fn health_and_readiness_answer_for_load_balancers() {
    let app = spawn_app().await;
    let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!((health.status(), health.text().await.unwrap().as_str()), (StatusCode::OK, "ok"));
    let ready = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // A schema behind this build (as while another instance migrates): not ready, and why.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let behind = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(behind.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(behind.text().await.unwrap().contains("schema"));
    // A database that does not answer.
    app.state.store.pool().close().await;
    let gone = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(gone.text().await.unwrap().contains("does not answer"));
    // The process itself is still up.
    assert_eq!(app.client.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), StatusCode::OK);
}

/// Behind a reverse proxy every client has the proxy's address; only a proxy we trust may
/// tell us the real one, and a client cannot choose its own.
#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let login = |app: &TestApp, forwarded_for: &'static str, password: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/api/admin/login", app.base);
        async move {
            client
                .post(url)
                .header("X-Forwarded-For", forwarded_for)
                .form(&[("username", ADMIN_USER), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    const SPOOFS: [&str; 11] = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
        "198.51.100.5",
        "198.51.100.6",
        "198.51.100.7",
        "198.51.100.8",
        "198.51.100.9",
        "198.51.100.10",
        "198.51.100.11",
    ];
    // Not trusted: a new X-Forwarded-For per guess does not escape the address limit.
    let direct = spawn_app().await;
    for spoof in &SPOOFS[..10] {
        assert_eq!(login(&direct, spoof, "wrong password!").await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(login(&direct, SPOOFS[10], ADMIN_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);

    // Behind our proxy (loopback here): each client is counted by the address it forwarded.
    let proxied =
        spawn_app_with(|config| config.trusted_proxies = tidings::config::parse_networks("127.0.0.1/32").unwrap())
            .await;
    for _ in 0..10 {
        assert_eq!(login(&proxied, "203.0.113.9", "wrong password!").await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(login(&proxied, "203.0.113.9", ADMIN_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    let other = login(&proxied, "203.0.113.10", ADMIN_PASSWORD).await;
    assert!(other.is_success() || other.is_redirection(), "another client behind the proxy is not locked: {other}");
}

/// `TIDINGS_LOG_FORMAT=json`: every log line of the real binary is one JSON object, with
/// the event's fields as keys; a value we do not know stops it with a clear message.
#[tokio::test]
async fn logs_can_be_json_lines() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .env("TIDINGS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite:{}", dir.path().join("tidings.db").display()))
        .env("TIDINGS_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut logged = 0;
    loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
        if line.starts_with("Tidings is running on") {
            break;
        }
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(event["level"].is_string() && event["fields"]["message"].is_string(), "{event}");
        logged += 1;
    }
    assert!(logged >= 1, "start-up logs nothing at info");

    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .env("TIDINGS_LOG_FORMAT", "yaml")
        .output()
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("TIDINGS_LOG_FORMAT must be text or json"));
}
