//! The README's `curl` examples (*Sending from your code*), run as written against a real
//! instance: only the host is swapped for the test server's, and `$TIDINGS_KEY` is a real key.

use crate::support;

use reqwest::StatusCode;
use support::{add_site, from_site, spawn_app, PushService};
use tidings::api::NewApiKey;
use tidings::subscription::consent::sign_user;

/// The shell blocks of the README section `heading`.
fn shell_blocks(readme: &str, heading: &str) -> Vec<String> {
    let start = readme.find(&format!("\n## {heading}\n")).unwrap_or_else(|| panic!("README has ## {heading}"));
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    section.split("```sh\n").skip(1).map(|block| block.split("\n```").next().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_curl_examples_work_against_a_real_instance() {
    let app = spawn_app().await;
    app.login().await;
    // customer-42 subscribed on the shop's page, which signed their user id.
    let shop = add_site(&app, "Shop", "https://shop.example.org").await;
    let secret: String = app.call("admin/rotate_site_secret", &[("id", &shop.to_string())]).await.json().await.unwrap();
    let push = PushService::start().await;
    let device = push.subscription(StatusCode::CREATED);
    let signature = sign_user(&secret, "customer-42");
    let form = [
        ("endpoint", device.endpoint.as_str()),
        ("p256dh", &device.p256dh),
        ("auth", &device.auth),
        ("user", "customer-42"),
        ("user_signature", &signature),
    ];
    assert_eq!(from_site(&app, "https://shop.example.org", "subscribe", &form).await.status(), StatusCode::OK);
    let key: NewApiKey =
        app.call("admin/create_api_key", &[("name", "README"), ("scopes", "send,read")]).await.json().await.unwrap();

    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = shell_blocks(&readme, "Sending from your code");
    assert_eq!(blocks.len(), 1, "one block of examples");
    let script = blocks[0]
        .lines()
        // The placeholder export: the test provides the key itself.
        .filter(|line| !line.starts_with("export TIDINGS_KEY="))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("https://push.example.org", &app.base);
    assert_eq!(script.matches("curl ").count(), 3, "the three calls");
    let output = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("TIDINGS_KEY", &key.token)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the examples failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // Three JSON answers, one a line apart: the campaign, its counts, the message.
    let answers: Vec<serde_json::Value> =
        serde_json::Deserializer::from_str(&stdout).into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(answers.len(), 3, "{stdout}");
    assert_eq!(answers[0]["title"], "A new article is out");
    assert_eq!(answers[1]["id"], answers[0]["id"]);
    assert_eq!(answers[2]["recipients"], 1);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !push.received().iter().any(|r| r.json()["title"] == "Your order shipped") {
        assert!(std::time::Instant::now() < deadline, "customer-42's device got the message");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
