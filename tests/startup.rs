//! The real binary's start and logs: every bad setting reported at once, misspelled
//! settings named, and logs (JSON, at debug) that never hold an endpoint, a password or a
//! token.

use crate::support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{call, PushService, ADMIN_PASSWORD, ADMIN_USER, VAPID_SUBJECT};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const METRICS_TOKEN: &str = "a-token-nobody-may-log-0123";

#[tokio::test]
async fn every_bad_setting_is_one_line_and_the_server_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(dir.path())
        .env("TIDINGS_LISTEN", "127.0.0.1:0")
        .env("TIDINGS_LEASE_SECS", "thirty")
        .env("TIDINGS_PUBLIC_URL", "push.example.org")
        .env("TIDINGS_SEND_CONCURRENCY", "0")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    for (line, name) in lines.iter().zip(["TIDINGS_PUBLIC_URL", "TIDINGS_SEND_CONCURRENCY", "TIDINGS_LEASE_SECS"]) {
        assert!(line.starts_with(&format!("tidings: configuration error: {name}: ")), "{line}");
    }
    assert!(!dir.path().join("tidings.db").exists(), "nothing was created");
}

#[tokio::test]
async fn a_broken_env_file_is_reported_not_half_read() {
    let dir = tempfile::tempdir().unwrap();
    // dotenv stops at the unquoted space: the lines after it would be lost without a word.
    std::fs::write(dir.path().join(".env"), "TIDINGS_LISTEN=127.0.0.1:0\nTIDINGS_ADMIN_PASSWORD=two words\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tidings")).current_dir(dir.path()).output().await.unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("tidings: configuration error: .env: "), "{stderr}");
    assert!(!dir.path().join("tidings.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_campaigns_and_instances_and_never_an_endpoint_or_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::fresh_database_url(dir.path()).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(dir.path())
        .env("TIDINGS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &database)
        .env("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS", "1")
        .env("TIDINGS_ADMIN_USERNAME", ADMIN_USER)
        .env("TIDINGS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("TIDINGS_VAPID_SUBJECT", VAPID_SUBJECT)
        .env("TIDINGS_METRICS_TOKEN", METRICS_TOKEN)
        .env("TIDINGS_LOG_FORMAT", "json")
        .env("TIDINGS_LEASE_SEC", "5")
        // Everything, every library included, down to each delivery that was not sent.
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let (address_tx, address_rx) = tokio::sync::oneshot::channel();
    let mut address_tx = Some(address_tx);
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let (out_lines, err_lines) = (lines.clone(), lines.clone());
    let readers = [
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(address) = line.strip_prefix("Tidings is running on ") {
                    address_tx.take().map(|tx| tx.send(address.trim().to_owned()));
                }
                out_lines.lock().unwrap().push(line);
            }
        }),
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                err_lines.lock().unwrap().push(line);
            }
        }),
    ];
    let base = tokio::time::timeout(Duration::from_secs(30), address_rx).await.unwrap().unwrap();

    let push = PushService::start().await;
    let fine = push.subscription(StatusCode::CREATED);
    let failing = push.subscription(StatusCode::BAD_REQUEST);
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    for s in [&fine, &failing] {
        let form = [("endpoint", s.endpoint.as_str()), ("p256dh", &s.p256dh), ("auth", &s.auth)];
        assert_eq!(call(&client, &base, "subscribe", &form).await.status(), StatusCode::OK);
    }
    call(&client, &base, "admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    let response = call(&client, &base, "admin/send_campaign", &support::plain_campaign("Logged")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let campaign: i64 = response.json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list: Vec<tidings::campaign::CampaignSummary> =
            call(&client, &base, "admin/list_campaigns", &[]).await.json().await.unwrap();
        if list.iter().any(|c| c.id == campaign && c.status == "sent") {
            break;
        }
        assert!(Instant::now() < deadline, "the campaign is sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = client.get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    child.wait().await.unwrap();
    for reader in readers {
        reader.await.unwrap();
    }

    let lines = lines.lock().unwrap().clone();
    let events: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let field = |event: &serde_json::Value, name: &str| event["fields"][name].clone();
    assert!(events.iter().any(|e| field(e, "instance").is_string()), "the instance is a field");
    let not_sent = events
        .iter()
        .find(|e| field(e, "message") == "delivery not sent")
        .unwrap_or_else(|| panic!("the failed delivery is logged at debug: {lines:#?}"));
    assert_eq!(field(not_sent, "campaign"), campaign);
    let host = push.base.trim_start_matches("http://");
    let logged = field(not_sent, "endpoint").as_str().unwrap().to_owned();
    assert!(logged.starts_with(&format!("{host}#")) && logged.len() == host.len() + 9, "host and hash: {logged}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TIDINGS_LEASE_SEC is not a Tidings setting (did you mean TIDINGS_LEASE_SECS?)")),
        "a misspelled setting is named"
    );
    // An endpoint's path (its capability part), not just the stand-in's short client id,
    // which could occur in any hex string.
    let (fine_path, failing_path) = (format!("/push/{}", fine.client), format!("/push/{}", failing.client));
    for secret in [fine_path.as_str(), failing_path.as_str(), ADMIN_PASSWORD, METRICS_TOKEN] {
        assert!(!lines.iter().any(|l| l.contains(secret)), "{secret:?} appears in the logs");
    }
}
