//! Several VAPID key pairs: each push is signed with the key its subscription was made
//! with (the push stand-in verifies the JWT against that key), imported keys, rotation
//! without losing anyone, retiring, and the command line's keys, backup and restore.

use crate::support;

use reqwest::StatusCode;
use support::{PushService, TestApp, TestSubscription};
use tidings::keys::import::KeyPair;

async fn subscribe_with(app: &TestApp, subscription: &TestSubscription, key: &str, topics: &str) -> StatusCode {
    let mut form = vec![
        ("endpoint", subscription.endpoint.as_str()),
        ("p256dh", subscription.p256dh.as_str()),
        ("auth", subscription.auth.as_str()),
        ("key", key),
    ];
    if !topics.is_empty() {
        form.push(("topics", topics));
    }
    app.call("subscribe", &form).await.status()
}

/// The public key each subscription's last push was signed with.
fn signer(push: &PushService, subscription: &TestSubscription) -> Option<String> {
    push.received().iter().rev().find(|r| r.client == subscription.client).map(|r| r.vapid_key.clone())
}

async fn keys(app: &TestApp) -> Vec<serde_json::Value> {
    app.call("admin/keys", &[]).await.json().await.unwrap()
}

#[tokio::test]
async fn an_imported_key_signs_for_the_subscriptions_made_with_it() {
    let app = support::spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let ours = app.vapid_public_key().await;
    let theirs = KeyPair::generate();
    let imported = app.call("admin/import_key", &[("label", "Old service"), ("key", &theirs.to_pem().unwrap())]).await;
    assert_eq!(imported.status(), StatusCode::OK, "{:?}", imported.text().await);
    let again = app.call("admin/import_key", &[("label", "Twice"), ("key", &theirs.private_key)]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let listed = keys(&app).await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|k| k["public_key"] == theirs.public_key.as_str() && k["state"] == "signing"));
    // Importing does not change the key new subscribers get.
    assert_eq!(app.vapid_public_key().await, ours);

    let moved_in = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_with(&app, &moved_in, &theirs.public_key, "").await, StatusCode::OK);
    let native = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_with(&app, &native, "", "").await, StatusCode::OK);
    let stranger = push.subscription(StatusCode::CREATED);
    assert_eq!(
        subscribe_with(&app, &stranger, &KeyPair::generate().public_key, "").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let id = app.send_plain("Welcome over").await;
    let done = app.wait_until_sent(id).await;
    assert_eq!((done.targeted, done.sent), (2, 2));
    assert_eq!(signer(&push, &moved_in).as_deref(), Some(theirs.public_key.as_str()));
    assert_eq!(signer(&push, &native).as_deref(), Some(ours.as_str()));
    assert!(push.rejected().is_empty(), "{:?}", push.rejected());

    // Bad keys are refused and change nothing.
    for bad in ["", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", theirs.public_key.as_str()] {
        let response = app.call("admin/import_key", &[("label", "Bad"), ("key", bad)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(keys(&app).await.len(), 2);
}

#[tokio::test]
async fn rotating_keeps_every_subscriber_and_retiring_waits_for_them() {
    let app = support::spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let first = app.vapid_public_key().await;
    let topic: i64 = app.call("admin/create_topic", &[("name", "News")]).await.json().await.unwrap();
    let early = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_with(&app, &early, &first, &topic.to_string()).await, StatusCode::OK);

    let new_id: i64 = app.call("admin/generate_key", &[("label", "2027")]).await.json().await.unwrap();
    assert_eq!(app.call("admin/make_key_current", &[("id", &new_id.to_string())]).await.status(), StatusCode::OK);
    let second = app.vapid_public_key().await;
    assert_ne!(first, second);
    let first_id = keys(&app).await.iter().find(|k| k["public_key"] == first.as_str()).unwrap()["id"].as_i64().unwrap();

    // The old key still signs for its subscriber; a new subscriber gets the new key.
    let late = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_with(&app, &late, &second, "").await, StatusCode::OK);
    let id = app.send_plain("Both keys").await;
    assert_eq!(app.wait_until_sent(id).await.sent, 2);
    assert_eq!(signer(&push, &early).as_deref(), Some(first.as_str()));
    assert_eq!(signer(&push, &late).as_deref(), Some(second.as_str()));
    // The old key's subscriber is asked to move (its service worker does on this push).
    let rekey = |subscription: &TestSubscription| {
        let received = push.received();
        let last = received.iter().rev().find(|r| r.client == subscription.client).unwrap();
        last.json()["rekey"].as_bool().unwrap_or(false)
    };
    assert!(rekey(&early), "a subscription on a key no longer current is asked to move");
    assert!(!rekey(&late), "one on the current key is not");

    // Retiring the old key is refused while someone uses it.
    let refused = app.call("admin/retire_key", &[("id", &first_id.to_string())]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("1 subscriptions still use this key"));
    let current_id = new_id.to_string();
    let not_current = app.call("admin/retire_key", &[("id", &current_id), ("anyway", "true")]).await;
    assert_eq!(not_current.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The browser comes back and moves over (old → new, topics kept).
    let moved = push.subscription(StatusCode::CREATED);
    let response = app
        .call(
            "resubscribe",
            &[
                ("old_endpoint", &early.endpoint),
                ("endpoint", &moved.endpoint),
                ("p256dh", &moved.p256dh),
                ("auth", &moved.auth),
                ("key", &second),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let topics: Vec<i64> = app.call("my_topics", &[("endpoint", &moved.endpoint)]).await.json().await.unwrap();
    assert_eq!(topics, vec![topic]);
    let listed = keys(&app).await;
    let on = |public: &str| listed.iter().find(|k| k["public_key"] == public).unwrap()["subscribers"].as_i64().unwrap();
    assert_eq!((on(&first), on(&second)), (0, 2));

    let id = app.send_plain("All on the new key").await;
    assert_eq!(app.wait_until_sent(id).await.sent, 2);
    assert_eq!(signer(&push, &moved).as_deref(), Some(second.as_str()));
    assert_eq!(app.call("admin/retire_key", &[("id", &first_id.to_string())]).await.status(), StatusCode::OK);
    assert!(push.rejected().is_empty(), "{:?}", push.rejected());
}

#[tokio::test]
async fn retiring_anyway_says_whom_it_loses_and_loses_only_them() {
    let app = support::spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let old = KeyPair::generate();
    let old_id: i64 =
        app.call("admin/import_key", &[("label", "Old"), ("key", &old.private_key)]).await.json().await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            subscribe_with(&app, &push.subscription(StatusCode::CREATED), &old.public_key, "").await,
            StatusCode::OK
        );
    }
    let keeper = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_with(&app, &keeper, "", "").await, StatusCode::OK);
    let refused = app.call("admin/retire_key", &[("id", &old_id.to_string())]).await;
    assert!(refused.text().await.unwrap().contains("lose those 3 subscribers"));
    assert_eq!(app.subscription_count().await, 4);
    let anyway = app.call("admin/retire_key", &[("id", &old_id.to_string()), ("anyway", "true")]).await;
    assert_eq!(anyway.status(), StatusCode::OK);
    assert_eq!(app.subscription_count().await, 1);
    // A retired key signs for nobody new.
    let late = push.subscription(StatusCode::CREATED);
    assert_eq!(subscribe_with(&app, &late, &old.public_key, "").await, StatusCode::UNPROCESSABLE_ENTITY);
    let made_current = app.call("admin/make_key_current", &[("id", &old_id.to_string())]).await;
    assert_eq!(made_current.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Runs the `tidings` binary with `args` on `database`; returns (exit code, stdout, stderr).
/// Awaited, not blocking: a test's in-process Tidings runs on the same thread, and
/// freezing it mid-write would hold the database's lock against the command.
async fn tidings(database: &str, args: &[&str]) -> (i32, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(args)
        .env("DATABASE_URL", database)
        .env("TIDINGS_VAPID_SUBJECT", support::VAPID_SUBJECT)
        .output()
        .await
        .expect("the tidings binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn every_command_explains_itself() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["backup", "--help"],
        &["restore", "--help"],
        &["keys", "--help"],
        &["keys", "list", "--help"],
        &["keys", "import", "--help"],
        &["keys", "export", "--help"],
        &["keys", "rotate", "--help"],
        &["admin", "--help"],
        &["admin", "create", "--help"],
        &["admin", "reset-password", "--help"],
    ] {
        let (code, out, _) = tidings("sqlite::memory:", args).await;
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains("Usage: tidings"), "{args:?}: {out}");
    }
    let (code, _, err) = tidings("sqlite::memory:", &["keys", "shred"]).await;
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn the_command_line_imports_exports_and_rotates_keys() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("cli.db").display());
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap();
    let (code, _, err) = tidings(&database, &["keys", "import", bad.to_str().unwrap()]).await;
    assert_eq!(code, 2);
    assert!(err.contains("public key only"), "{err}");
    let (code, _, err) = tidings(&database, &["keys", "import", "/nonexistent/key.pem"]).await;
    assert_eq!(code, 2, "{err}");

    let theirs = KeyPair::generate();
    let good = dir.path().join("theirs.pem");
    std::fs::write(&good, theirs.to_pem().unwrap()).unwrap();
    let (code, out, err) = tidings(&database, &["keys", "import", good.to_str().unwrap(), "--label", "Theirs"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&theirs.public_key), "{out}");
    let (code, out, _) = tidings(&database, &["keys", "rotate", "--label", "Next"]).await;
    assert_eq!(code, 0);
    let (_, list, _) = tidings(&database, &["keys", "list"]).await;
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(list.lines().any(|l| l.contains("current") && l.contains("Next")), "{list}\n{out}");

    let exported = dir.path().join("keys.pem");
    let (code, _, _) = tidings(&database, &["keys", "export", "--out", exported.to_str().unwrap()]).await;
    assert_eq!(code, 0);
    let pem = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(pem.matches("-----BEGIN PRIVATE KEY-----").count(), 3);
    assert!(pem.contains(&theirs.public_key));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&exported).unwrap().permissions().mode() & 0o777, 0o600);
    // What was exported reads back as the same key pair.
    let block = pem.split("# key").find(|b| b.contains(&theirs.public_key)).unwrap();
    let block = &block[block.find("-----BEGIN").unwrap()..];
    assert_eq!(KeyPair::parse(block).unwrap(), theirs);
}

#[tokio::test]
async fn a_backup_taken_while_a_campaign_sends_restores_the_same_data() {
    let app = support::spawn_app_with(|config| config.send_concurrency = 2).await;
    if !app.config().database_url.starts_with("sqlite:") {
        return; // PostgreSQL is backed up with pg_dump; there is nothing of ours to test.
    }
    let push = PushService::start().await;
    app.login().await;
    let theirs = KeyPair::generate();
    app.call("admin/import_key", &[("label", "Theirs"), ("key", &theirs.private_key)]).await;
    for i in 0..300 {
        let key = if i % 3 == 0 { theirs.public_key.clone() } else { String::new() };
        let slow = push.scripted_subscription(
            Vec::new(),
            support::push_service::Reply::slow(StatusCode::CREATED, std::time::Duration::from_millis(5)),
        );
        assert_eq!(subscribe_with(&app, &slow, &key, "").await, StatusCode::OK);
    }
    let id = app.send_plain("Sending while backing up").await;
    app.wait_for_status(id, "sending").await;

    let status: serde_json::Value = app.call("admin/backup_status", &[]).await.json().await.unwrap();
    assert_eq!(status, serde_json::json!({ "last_backup": null, "stale": true }), "the dashboard warns");
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.db");
    let database = app.config().database_url.clone();
    let (code, out, err) = tidings(&database, &["backup", backup.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Backed up"), "{out}");
    let status: serde_json::Value = app.call("admin/backup_status", &[]).await.json().await.unwrap();
    assert_eq!(status["stale"], false, "no warning after a backup");
    app.wait_until_sent(id).await;

    // Restored into a fresh place, it holds what the running database held.
    let restored = format!("sqlite:{}", dir.path().join("restored.db").display());
    let (code, out, err) = tidings(&restored, &["restore", backup.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("300 subscriptions, 2 keys, 1 campaigns"), "{out}");
    let copy = tidings::store::Store::open(&restored).await.unwrap();
    let rows = |store: &tidings::store::Store| {
        let pool = store.pool().clone();
        async move {
            let subscriptions: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT endpoint, p256dh, key_id FROM subscriptions ORDER BY id")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let keys: Vec<(i64, String, String)> =
                sqlx::query_as("SELECT id, private_key, public_key FROM vapid_keys ORDER BY id")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let campaigns: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, title FROM campaigns").fetch_all(&pool).await.unwrap();
            (subscriptions, keys, campaigns)
        }
    };
    assert_eq!(rows(&copy).await, rows(&app.state.store).await);
    let delivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1")
        .bind(id)
        .fetch_one(copy.pool())
        .await
        .unwrap();
    assert_eq!(delivered, 300, "every delivery is in the backup, in whatever state it had");

    // Restoring over the database of a running Tidings is refused.
    let (code, _, err) = tidings(&database, &["restore", backup.to_str().unwrap()]).await;
    assert_eq!(code, 2);
    assert!(err.contains("stop it first"), "{err}");
    let (code, _, err) = tidings(&restored, &["restore", "/nonexistent.db"]).await;
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn subscriptions_imported_with_a_key_are_signed_with_it() {
    let app = support::spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let theirs = KeyPair::generate();
    let key: i64 =
        app.call("admin/import_key", &[("label", "Theirs"), ("key", &theirs.private_key)]).await.json().await.unwrap();
    let (a, b) = (push.subscription(StatusCode::CREATED), push.subscription(StatusCode::CREATED));
    let file = serde_json::json!([
        {"endpoint": a.endpoint, "keys": {"p256dh": a.p256dh, "auth": a.auth}},
        {"endpoint": b.endpoint, "keys": {"p256dh": b.p256dh, "auth": b.auth}},
    ])
    .to_string();
    let import = |query: String, body: String| {
        let app = &app;
        async move {
            app.client.post(format!("{}/admin/subscribers/import{query}", app.base)).body(body).send().await.unwrap()
        }
    };
    for bad in ["?key=999", "?key=x"] {
        let refused = import(bad.into(), file.clone()).await;
        assert!(refused.status().is_client_error(), "{bad}");
    }
    assert_eq!(app.subscription_count().await, 0, "a refused import stores nothing");
    assert_eq!(import(format!("?key={key}"), file).await.status(), StatusCode::OK);
    let id = app.send_plain("Imported").await;
    assert_eq!(app.wait_until_sent(id).await.sent, 2);
    assert_eq!(signer(&push, &a).as_deref(), Some(theirs.public_key.as_str()));
    assert_eq!(signer(&push, &b).as_deref(), Some(theirs.public_key.as_str()));
}

#[tokio::test]
async fn each_row_of_an_import_may_name_its_key_and_an_export_names_it_back() {
    let app = support::spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    let ours = app.vapid_public_key().await;
    let theirs = KeyPair::generate();
    app.call("admin/import_key", &[("label", "Theirs"), ("key", &theirs.private_key)]).await;
    let (a, b, c) = (
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::CREATED),
        push.subscription(StatusCode::CREATED),
    );
    let unknown = KeyPair::generate().public_key;
    let file = format!(
        "endpoint,p256dh,auth,application_server_key\n{},{},{},{}\n{},{},{},\n{},{},{},{unknown}\n",
        a.endpoint, a.p256dh, a.auth, theirs.public_key, b.endpoint, b.p256dh, b.auth, c.endpoint, c.p256dh, c.auth
    );
    let response = app.client.post(format!("{}/admin/subscribers/import", app.base)).body(file).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!((report["added"].as_i64(), report["rejected"].as_i64()), (Some(2), Some(1)), "{report}");
    assert!(report["problems"][0]["reason"].as_str().unwrap().contains("Keys page"), "{report}");

    let id = app.send_plain("Per-row keys").await;
    assert_eq!(app.wait_until_sent(id).await.sent, 2);
    assert_eq!(signer(&push, &a).as_deref(), Some(theirs.public_key.as_str()));
    assert_eq!(signer(&push, &b).as_deref(), Some(ours.as_str()), "a row without a key gets the import's key");
    assert!(push.rejected().is_empty(), "{:?}", push.rejected());

    // The export names each subscription's key, so it imports back bound to the same keys.
    let exported: Vec<serde_json::Value> = app
        .client
        .get(format!("{}/admin/subscribers/export.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key_of = |endpoint: &str| {
        exported.iter().find(|row| row["endpoint"] == endpoint).unwrap()["applicationServerKey"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!((key_of(&a.endpoint), key_of(&b.endpoint)), (theirs.public_key.clone(), ours.clone()));
    let csv = app
        .client
        .get(format!("{}/admin/subscribers/export.csv", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.lines().next().unwrap().contains(",application_server_key,"));
    assert!(csv.lines().any(|line| line.starts_with(a.endpoint.as_str()) && line.contains(&theirs.public_key)));
}
