//! The release archive on its own: unpacked into an empty folder and started with only
//! its example settings (as `.env`), it serves its pages, takes a subscription and sends a
//! campaign through. No source tree, no cargo: the archive is made from this build with
//! the same script `make release` uses.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{call, PushService, ADMIN_PASSWORD, ADMIN_USER};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Packs this build with scripts/package-release.sh into `out`; returns the archive.
fn package(out: &Path) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    assert!(
        Path::new(root).join("target/site/pkg/tidings.js").is_file(),
        "target/site has no built site: run `cargo leptos build` (make test does) first"
    );
    let output = std::process::Command::new(Path::new(root).join("scripts/package-release.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_tidings"), "--site", "target/site", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "packaging failed: {}", String::from_utf8_lossy(&output.stderr));
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// The example settings with `overrides` in place of the lines they name (dotenv keeps the
/// first value of a name, so appending would not do).
fn settings(example: &str, overrides: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = example
        .lines()
        .filter(|line| !overrides.iter().any(|(name, _)| line.trim_start().starts_with(&format!("{name}="))))
        .map(str::to_owned)
        .collect();
    lines.extend(overrides.iter().map(|(name, value)| format!("{name}={value}")));
    lines.join("\n") + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unpacked_archive_runs_with_only_its_env_file_and_sends_a_campaign() {
    let work = tempfile::tempdir().unwrap();
    let archive = package(&work.path().join("out"));
    let size = std::fs::metadata(&archive).unwrap().len();

    let install = work.path().join("install");
    std::fs::create_dir(&install).unwrap();
    let status = std::process::Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&install).status().unwrap();
    assert!(status.success());
    let unpacked: Vec<PathBuf> = std::fs::read_dir(&install).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(unpacked.len(), 1, "one top folder");
    let dir = &unpacked[0];
    let files = ["tidings", "site/pkg/tidings.js", "site/sw.js", "tidings.service", "tidings.env.example", "README.md"];
    for file in files {
        assert!(dir.join(file).is_file(), "the archive has {file}");
    }
    let unit = std::fs::read_to_string(dir.join("tidings.service")).unwrap();
    let hardening = ["DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=tidings", "NoNewPrivileges=yes"];
    for line in hardening.into_iter().chain(["ExecStart=/opt/tidings/tidings serve"]) {
        assert!(unit.lines().any(|l| l == line), "the unit has {line}");
    }

    // The example as an operator would edit it, made to run on loopback.
    let example = std::fs::read_to_string(dir.join("tidings.env.example")).unwrap();
    let env = settings(
        &example,
        &[
            ("TIDINGS_LISTEN", "127.0.0.1:0"),
            ("TIDINGS_PUBLIC_URL", "http://127.0.0.1"),
            ("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS", "1"),
            ("TIDINGS_ADMIN_USERNAME", ADMIN_USER),
            ("TIDINGS_ADMIN_PASSWORD", &format!("\"{ADMIN_PASSWORD}\"")),
        ],
    );
    std::fs::write(dir.join(".env"), env).unwrap();

    let started = Instant::now();
    let mut child = tokio::process::Command::new(dir.join("tidings"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap();
        let Some(line) = line else {
            let mut said = Vec::new();
            while let Ok(Some(line)) = errors.next_line().await {
                said.push(line);
            }
            panic!("tidings exited before listening: {said:#?}");
        };
        if let Some(address) = line.strip_prefix("Tidings is running on ") {
            break address.trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    while client.get(format!("{base}/readyz")).send().await.unwrap().status() != StatusCode::OK {
        assert!(started.elapsed() < Duration::from_secs(30), "ready within 30 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("archive {:.1} MB; start to ready: {} ms", size as f64 / 1e6, started.elapsed().as_millis());
    assert!(dir.join("tidings.db").is_file(), "the database is made where it runs");

    // The pages come from the site folder beside the binary.
    let page = client.get(format!("{base}/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/embed.js"), "the public page loads the widget");
    let sign_in = client.get(format!("{base}/admin/login")).send().await.unwrap().text().await.unwrap();
    assert!(sign_in.contains("/pkg/tidings.js"), "the admin pages load the app");
    for file in ["/pkg/tidings.js", "/pkg/tidings.wasm", "/sw.js", "/embed.js"] {
        assert_eq!(client.get(format!("{base}{file}")).send().await.unwrap().status(), StatusCode::OK, "{file}");
    }

    let push = PushService::start().await;
    let subscriber = push.subscription(StatusCode::CREATED);
    let form = [("endpoint", subscriber.endpoint.as_str()), ("p256dh", &subscriber.p256dh), ("auth", &subscriber.auth)];
    assert_eq!(call(&client, &base, "subscribe", &form).await.status(), StatusCode::OK);
    let login = call(&client, &base, "admin/login", &[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(login.status(), StatusCode::OK);
    let sent = call(&client, &base, "admin/send_campaign", &support::plain_campaign("From the archive")).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(30);
    while push.received().is_empty() {
        assert!(Instant::now() < deadline, "the push arrives");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let received = push.received();
    assert_eq!(received[0].client, subscriber.client);
    assert_eq!(received[0].json()["title"], "From the archive");

    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(child.wait().await.unwrap().success(), "a clean stop on SIGTERM");
}
