//! Upgrading an existing SQLite database keeps its data (the scheduling migration rebuilds
//! the campaigns table and the two that refer to it), and both dialects' migrations end at
//! the same schema.

use crate::support;

use std::borrow::Cow;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

#[tokio::test]
async fn upgrading_keeps_every_campaign_delivery_and_event_and_their_links() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("old.db").display());
    let options = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true).foreign_keys(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    // The database as the release before scheduling left it.
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    let before_scheduling: Vec<_> =
        migrator.migrations.iter().filter(|m| m.version < 20261123000004).cloned().collect();
    migrator.migrations = Cow::Owned(before_scheduling);
    migrator.run(&pool).await.unwrap();
    for statement in [
        "INSERT INTO subscriptions (id, endpoint, p256dh, auth, created_at) VALUES (1, 'https://push.example/1', 'k', 'a', 1000), (2, 'https://push.example/2', 'k', 'a', 90000)",
        "INSERT INTO campaigns (id, title, ttl_secs, urgency, status, created_at, actions, topic) VALUES (7, 'Old news', 60, 'high', 'sent', 1, '[{\"title\":\"Go\",\"url\":\"/go\"}]', 'news')",
        "INSERT INTO deliveries (campaign_id, subscription_id, status, sent_at) VALUES (7, 1, 'sent', 5), (7, 2, 'failed', NULL)",
        "INSERT INTO notification_events (campaign_id, subscription_id, kind, at) VALUES (7, 1, 'click', 6)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = tidings::store::Store::open(&url).await.expect("the upgrade applies");
    let pool = store.pool();
    let campaign: (String, String, String, Option<String>) =
        sqlx::query_as("SELECT title, status, actions, topic FROM campaigns WHERE id = 7")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        campaign,
        ("Old news".into(), "sent".into(), r#"[{"title":"Go","url":"/go"}]"#.into(), Some("news".into()))
    );
    let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM deliveries WHERE campaign_id = 7").await, 2);
    assert_eq!(count("SELECT COUNT(*) FROM notification_events WHERE campaign_id = 7").await, 1);
    assert_eq!(count("SELECT SUM(joined) FROM subscriber_hours").await, 2, "existing subscribers counted as joins");
    assert_eq!(count("SELECT COUNT(*) FROM subscriptions WHERE host = 'push.example'").await, 2, "hosts filled in");

    // The rebuilt tables still point at campaigns: deleting one takes its rows with it.
    sqlx::query("DELETE FROM campaigns WHERE id = 7").execute(pool).await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM deliveries").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM notification_events").await, 0);
    let problems: Vec<(String, i64, String, i64)> =
        sqlx::query_as("PRAGMA foreign_key_check").fetch_all(pool).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

/// Sites and key pairs came after subscriptions: upgrading puts every existing subscription
/// in the first site, Tidings' own page, and binds it to the key the database had, on
/// either database.
#[tokio::test]
async fn upgrading_puts_existing_subscriptions_in_the_first_site_with_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = support::fresh_database_url(dir.path()).await;
    sqlx::any::install_default_drivers();
    let (mut migrator, before_sites) = if url.starts_with("sqlite:") {
        std::fs::File::create(dir.path().join("tidings.db")).unwrap();
        (sqlx::migrate!("./migrations/sqlite"), 20261201000010)
    } else {
        (sqlx::migrate!("./migrations/postgres"), 20261201000003)
    };
    let earlier: Vec<_> = migrator.migrations.iter().filter(|m| m.version < before_sites).cloned().collect();
    migrator.migrations = Cow::Owned(earlier);
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO subscriptions (endpoint, host, p256dh, auth, created_at)
         VALUES ('https://push.example/1', 'push.example', 'k', 'a', 1000), ('https://push.example/2', 'push.example', 'k', 'a', 2000)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let old_key = tidings::keys::import::KeyPair::generate();
    sqlx::query("INSERT INTO settings (key, value) VALUES ('vapid_private_key', $1)")
        .bind(&old_key.private_key)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = tidings::store::Store::open(&url).await.expect("the upgrade applies");
    let subject = tidings::config::VapidSubject::parse(support::VAPID_SUBJECT).unwrap();
    let ring = tidings::keys::ring::KeyRing::open(&store, subject).await.unwrap();
    let current = ring.current(&store).await.unwrap();
    assert_eq!((current.id, current.keys.public_key()), (1, old_key.public_key.as_str()));
    let on_old_key: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE key_id = 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(on_old_key, 2);
    let in_first: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE site_id = 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(in_first, 2);
    let sites = store.sites().await.unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!((sites[0].id, sites[0].origin.as_deref(), sites[0].subscribers), (1, None, 2));
    // The identity goes on after the first site's fixed id.
    let blog = tidings::site::SiteName::parse("Blog").unwrap();
    let origin = tidings::site::SiteOrigin::parse("https://blog.example").unwrap();
    assert_eq!(store.create_site(&blog, &origin).await.unwrap(), Some(2));
}

/// The two migration sets must end at the same tables and columns: the queries are shared.
#[tokio::test]
async fn sqlite_and_postgresql_migrations_end_at_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = support::fresh_database_url(dir.path()).await;
    if !postgres.starts_with("postgres") {
        eprintln!("skipped: needs TIDINGS_TEST_POSTGRES (the PostgreSQL pass of `make test`)");
        return;
    }
    let sqlite = tidings::store::Store::open(&format!("sqlite:{}", dir.path().join("t.db").display())).await.unwrap();
    let postgres = tidings::store::Store::open(&postgres).await.unwrap();
    let sqlite_columns: std::collections::BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'
           AND m.name <> 'tower_sessions'",
    )
    .fetch_all(sqlite.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let postgres_columns: std::collections::BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(postgres.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(sqlite_columns, postgres_columns);
}

/// Databases in use have applied these files, and sqlx refuses to start on a database whose
/// applied migration's checksum no longer matches its file: a change to any of them would
/// lock every existing install out. Change the schema by adding a migration, never by
/// editing one; a new migration goes at the end of this list.
#[test]
fn applied_migrations_are_never_edited() {
    const APPLIED: &[(&str, i64, &str)] = &[
        ("sqlite", 20261123000001, "8746a4df36a85340"),
        ("sqlite", 20261123000002, "1bdea7f4bea45b42"),
        ("sqlite", 20261123000003, "1195c4ff3c5a79f3"),
        ("sqlite", 20261123000004, "292a31c1ce87acec"),
        ("sqlite", 20261123000005, "44f3a58c96cd248c"),
        ("sqlite", 20261123000006, "83b81406ff5cc5de"),
        ("sqlite", 20261130000007, "e8919b3bb8008ca3"),
        ("sqlite", 20261130000008, "9df28bce8beb98c3"),
        ("sqlite", 20261201000009, "94ba1ffe9841f0d4"),
        ("postgres", 20261130000001, "d5e6e5404ea8db99"),
        ("postgres", 20261201000002, "94ba1ffe9841f0d4"),
        ("sqlite", 20261201000010, "3e7e6f32aa244f5d"),
        ("sqlite", 20261201000011, "48be0f0f0ee89e23"),
        ("postgres", 20261201000003, "764f1ed2f3410aca"),
        ("postgres", 20261201000004, "86ff1cae348d66d9"),
        ("sqlite", 20261202000012, "8f984b62479807b9"),
        ("postgres", 20261202000005, "19a6ab9a20d30568"),
        ("sqlite", 20261202000013, "3563412712c4a317"),
        ("postgres", 20261202000006, "3a98ec41788631a0"),
        ("sqlite", 20261202000014, "da1839c7227bfe06"),
        ("postgres", 20261202000007, "078d4de7209929bd"),
        ("sqlite", 20261202000015, "9a175e6ec7e7a74b"),
        ("postgres", 20261202000008, "476a0fa9905bbef5"),
        ("sqlite", 20261202000016, "74cb9a8b0dac9f9e"),
        ("postgres", 20261202000009, "e079df5759f99854"),
        ("sqlite", 20261202000017, "257bd1b66a6f1939"),
        ("postgres", 20261202000010, "6515e4b74836f678"),
        ("sqlite", 20261202000018, "84666daa18912106"),
        ("postgres", 20261202000011, "2d1219d31b00219a"),
    ];
    let hex = |bytes: &[u8]| bytes.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>();
    for (set, migrator) in
        [("sqlite", sqlx::migrate!("./migrations/sqlite")), ("postgres", sqlx::migrate!("./migrations/postgres"))]
    {
        for migration in migrator.iter() {
            let Some((_, _, expected)) = APPLIED.iter().find(|(s, v, _)| *s == set && *v == migration.version) else {
                continue; // new since this list was written: add it here once released
            };
            assert_eq!(
                hex(&migration.checksum),
                *expected,
                "migrations/{set}/{}_{}.sql was edited after it was applied: add a new migration instead",
                migration.version,
                migration.description.replace(' ', "_")
            );
        }
        for (s, version, _) in APPLIED.iter().filter(|(s, ..)| *s == set) {
            assert!(migrator.iter().any(|m| m.version == *version), "migrations/{s}: {version} was deleted");
        }
    }
}
