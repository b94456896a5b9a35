//! Dispatch benchmark: `make bench` (or `cargo bench --features ssr --bench dispatch`).
//!
//! For each audience size it creates that many subscriptions with real P-256 keys, starts
//! the real release `tidings` binary on a fresh SQLite database, sends one campaign through
//! the admin API and times it until the campaign is `sent`, reading the process's CPU time
//! and peak RSS from /proc. Then npm `web-push` 3.6 sends the same messages to the same
//! loopback HTTPS/HTTP2 sink, and the ratio is printed.
//!
//! Settings (environment): BENCH_SIZES (default "20000,200000"), BENCH_CONCURRENCY
//! (in-flight requests for both senders, default 128), BENCH_NODE=0 to skip Node.
//! BENCH_POSTGRES=postgres://… (a server; `make bench-postgres` starts a throwaway one) runs
//! Tidings on a new PostgreSQL database there, and once on SQLite as the reference, and
//! BENCH_INSTANCES (default "1", e.g. "1,2,3") runs that many `tidings` processes sharing
//! the campaign.
//!
//! BENCH_BASELINE=path/to/another/tidings (say, a copy of target/release/tidings built
//! before a change) runs that build and this one on SQLite three times each, in turns,
//! and prints the ratio of their median rates: one change's effect, measured in one run.
//!
//! The end of the output puts each target of issue 18 beside the value measured in this
//! run: at least 10,000 msg/s on SQLite, at least 10× npm web-push, PostgreSQL (one
//! instance) at least 70 % of SQLite.

#[path = "../../tests/support/process.rs"]
mod process;
mod sink;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::process::{Child, Command};

const WEB_PUSH_VERSION: &str = "3.6.7";
const ADMIN: (&str, &str) = ("bench", "benchmark password");
const TITLE: &str = "Weekly digest";
const BODY: &str = "Five stories you missed this week, and one you will want to read twice.";

/// What every run of Tidings shares: where it works, the sink and its certificate, and
/// the requests in flight.
struct Setup<'a> {
    work: &'a Path,
    cert: &'a Path,
    sink: &'a sink::Sink,
    concurrency: usize,
}

struct Subscriber {
    endpoint: String,
    p256dh: String,
    auth: String,
}

struct Figures {
    messages: u64,
    seconds: f64,
    cpu_ms: f64,
    peak_rss_mb: f64,
    /// CPU the other parts on the same cores used meanwhile: the benchmark process (the
    /// sink, mostly) and, on PostgreSQL, the database server.
    others_cpu_ms: Option<(f64, f64)>,
    /// On PostgreSQL, what the database wrote meanwhile (see [`DatabaseWrites`]).
    writes: Option<DatabaseWrites>,
}

/// PostgreSQL's write-ahead log and its updates during a run: most of the database's
/// work per message is writing, and an update that changes no indexed column (HOT) writes
/// no index entries.
struct DatabaseWrites {
    wal_bytes: f64,
    /// (updates, of which HOT) per table.
    deliveries: (i64, i64),
    subscriptions: (i64, i64),
}

impl DatabaseWrites {
    async fn read(pool: &sqlx::AnyPool) -> DatabaseWrites {
        // The statistics collector reports with a delay; this makes it current.
        sqlx::query("SELECT pg_stat_force_next_flush()").execute(pool).await.ok();
        let wal: String = sqlx::query_scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text")
            .fetch_one(pool)
            .await
            .unwrap();
        let updates = |table: &'static str| async move {
            let (all, hot): (i64, i64) =
                sqlx::query_as("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = $1")
                    .bind(table)
                    .fetch_one(pool)
                    .await
                    .unwrap();
            (all, hot)
        };
        DatabaseWrites {
            wal_bytes: wal.parse().unwrap(),
            deliveries: updates("deliveries").await,
            subscriptions: updates("subscriptions").await,
        }
    }

    fn since(&self, before: &DatabaseWrites) -> DatabaseWrites {
        let diff = |a: (i64, i64), b: (i64, i64)| (a.0 - b.0, a.1 - b.1);
        DatabaseWrites {
            wal_bytes: self.wal_bytes - before.wal_bytes,
            deliveries: diff(self.deliveries, before.deliveries),
            subscriptions: diff(self.subscriptions, before.subscriptions),
        }
    }
}

impl Figures {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.seconds
    }

    fn cpu_per_message(&self) -> f64 {
        self.cpu_ms / self.messages as f64
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "20000,200000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("BENCH_SIZES is a list of numbers"))
        .collect();
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(128);
    let with_node = std::env::var("BENCH_NODE").map(|v| v != "0").unwrap_or(true);
    let baseline = std::env::var_os("BENCH_BASELINE").map(PathBuf::from);
    let postgres = std::env::var("BENCH_POSTGRES").ok().filter(|v| !v.is_empty());
    let instance_counts: Vec<usize> = std::env::var("BENCH_INSTANCES")
        .unwrap_or_else(|_| "1".into())
        .split(',')
        .map(|n| n.trim().parse().expect("BENCH_INSTANCES is a list of numbers"))
        .collect();
    sqlx::any::install_default_drivers();

    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&work).unwrap();
    let sink = sink::start().await;
    let cert = work.join("sink.pem");
    std::fs::write(&cert, &sink.cert_pem).unwrap();
    let web_push = if with_node { Some(install_web_push(&work)) } else { None };

    let database = if postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("dispatch benchmark: {} cores, concurrency {concurrency}, {database}, sink {}", num_cores(), sink.base);
    let setup = Setup { work: &work, cert: &cert, sink: &sink, concurrency };
    let this_build = Path::new(env!("CARGO_BIN_EXE_tidings"));
    let mut rows = Vec::new();
    let mut comparisons = Vec::new();
    for &n in &sizes {
        let subscribers = generate(n, &sink.base);
        let mut ours = None;
        for &instances in &instance_counts {
            let figures = run_tidings(&setup, this_build, &subscribers, postgres.as_deref(), instances).await;
            report(&format!("tidings  n={n} instances={instances}"), &figures);
            ours.get_or_insert(figures);
        }
        let ours = ours.expect("BENCH_INSTANCES names at least one count");
        // On PostgreSQL, SQLite in the same run is the yardstick.
        let reference = match postgres {
            Some(_) => {
                let figures = run_tidings(&setup, this_build, &subscribers, None, 1).await;
                report(&format!("tidings  n={n} on SQLite"), &figures);
                Some(figures)
            }
            None => None,
        };
        let theirs = match &web_push {
            Some(module) => {
                let figures = run_node(&work, &cert, module, &subscribers, concurrency, &sink).await;
                report(&format!("web-push n={n}"), &figures);
                Some(figures)
            }
            None => None,
        };
        if let Some(baseline) = &baseline {
            let (mut this, mut that) = (Vec::new(), Vec::new());
            for _ in 0..3 {
                let figures = run_tidings(&setup, baseline, &subscribers, None, 1).await;
                report(&format!("baseline n={n}"), &figures);
                that.push(figures.rate());
                let figures = run_tidings(&setup, this_build, &subscribers, None, 1).await;
                report(&format!("tidings  n={n}"), &figures);
                this.push(figures.rate());
            }
            comparisons.push((n, median(this), median(that)));
        }
        rows.push((n, ours, theirs, reference));
    }
    for (n, this, that) in &comparisons {
        println!(
            "this build vs BENCH_BASELINE at {n}: median {} vs {} msg/s = {:.2}×",
            whole(*this),
            whole(*that),
            this / that
        );
    }

    println!("\n| subscribers | tidings msg/s | CPU ms/msg | peak RSS MB | web-push msg/s | CPU ms/msg | speed-up |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (n, ours, theirs, _) in &rows {
        let (their_rate, their_cpu, ratio) = match theirs {
            Some(t) => (
                format!("{:.0}", t.rate()),
                format!("{:.3}", t.cpu_per_message()),
                format!("{:.1}×", ours.rate() / t.rate()),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {n} | {:.0} | {:.3} | {:.1} | {their_rate} | {their_cpu} | {ratio} |",
            ours.rate(),
            ours.cpu_per_message(),
            ours.peak_rss_mb
        );
    }
    if rows.len() >= 2 {
        let (first, last) = (&rows[0], &rows[rows.len() - 1]);
        println!(
            "peak RSS at {} vs {}: {:.2}× (target: within 1.20×)",
            last.0,
            first.0,
            last.1.peak_rss_mb / first.1.peak_rss_mb
        );
    }

    println!("\nTargets (issue 18), measured in this run:");
    for (n, ours, theirs, reference) in &rows {
        match reference {
            None => {
                target(&format!("n={n}: SQLite sends"), ours.rate(), 10_000.0, "msg/s");
                if let Some(theirs) = theirs {
                    target(&format!("n={n}: speed-up over npm web-push"), ours.rate() / theirs.rate(), 10.0, "×");
                }
            }
            Some(sqlite) => {
                let share = 100.0 * ours.rate() / sqlite.rate();
                target(
                    &format!("n={n}: PostgreSQL ({}) of SQLite ({})", whole(ours.rate()), whole(sqlite.rate())),
                    share,
                    70.0,
                    "%",
                );
            }
        }
    }
}

/// One line: what was measured, the target, and whether it was met.
fn target(what: &str, value: f64, at_least: f64, unit: &str) {
    let verdict = if value >= at_least { "met" } else { "NOT met" };
    let (value, at_least) = match unit {
        "×" | "%" => (format!("{value:.1}"), format!("{at_least:.0}")),
        _ => (whole(value), whole(at_least)),
    };
    println!("  {what}: {value} {unit} (target ≥ {at_least} {unit}): {verdict}");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// 12345.6 as "12,346".
fn whole(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(label: &str, f: &Figures) {
    let others = match f.others_cpu_ms {
        Some((sink, database)) => format!(
            " (meanwhile sink {:.3}, database {:.3} CPU ms/msg)",
            sink / f.messages as f64,
            database / f.messages as f64
        ),
        None => String::new(),
    };
    let writes = f.writes.as_ref().map(|w| {
            let hot = |(all, hot): (i64, i64)| 100.0 * hot as f64 / all.max(1) as f64;
            format!(
                "    database wrote {:.0} bytes of WAL per message; HOT updates: deliveries {:.0} % of {}, subscriptions {:.0} % of {}",
                w.wal_bytes / f.messages as f64,
                hot(w.deliveries),
                w.deliveries.0,
                hot(w.subscriptions),
                w.subscriptions.0
            )
    });
    println!(
        "{label}: {} messages in {:.2} s = {:.0} msg/s, {:.3} CPU ms/msg, peak RSS {:.1} MB{others}",
        f.messages,
        f.seconds,
        f.rate(),
        f.cpu_per_message(),
        f.peak_rss_mb
    );
    if let Some(writes) = writes {
        println!("{writes}");
    }
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Real subscriptions: a fresh P-256 key pair and auth secret per subscriber.
fn generate(n: usize, base: &str) -> Vec<Subscriber> {
    (0..n)
        .map(|i| {
            let (keys, auth) = ece::generate_keypair_and_auth_secret().unwrap();
            Subscriber {
                endpoint: format!("{base}/push/{i}"),
                p256dh: URL_SAFE_NO_PAD.encode(keys.pub_as_raw().unwrap()),
                auth: URL_SAFE_NO_PAD.encode(auth),
            }
        })
        .collect()
}

/// A fresh database for one run: an SQLite file under `work`, or a new database on the
/// PostgreSQL server `postgres`.
async fn fresh_database(work: &Path, n: usize, postgres: Option<&str>) -> String {
    match postgres {
        None => {
            let db = work.join(format!("tidings-{n}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            format!("sqlite:{}", db.display())
        }
        Some(server) => {
            let name = format!("tidings_bench_{n}");
            let pool = sqlx::AnyPool::connect(server).await.expect("the PostgreSQL server answers");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
            let mut url = url::Url::parse(server).unwrap();
            url.set_path(&name);
            url.to_string()
        }
    }
}

async fn run_tidings(
    setup: &Setup<'_>,
    binary: &Path,
    subscribers: &[Subscriber],
    postgres: Option<&str>,
    instances: usize,
) -> Figures {
    let Setup { work, cert, sink, concurrency } = *setup;
    let url = fresh_database(work, subscribers.len(), postgres).await;
    let store = tidings::store::Store::open(&url).await.unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    for s in subscribers {
        sqlx::query("INSERT INTO subscriptions (endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, 0)")
            .bind(&s.endpoint)
            .bind(&s.p256dh)
            .bind(&s.auth)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut children = Vec::new();
    for _ in 0..instances {
        children.push(start_tidings(binary, &url, cert, concurrency).await);
    }
    let pids: Vec<u32> = children.iter().map(|(child, _)| child.id().unwrap()).collect();
    let base = children[0].1.clone();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let api = |f: &str| format!("{base}/api/{f}");
    client.post(api("admin/login")).form(&[("username", ADMIN.0), ("password", ADMIN.1)]).send().await.unwrap();
    let before = sink.received.load(Ordering::Relaxed);
    let cpu_before: f64 = pids.iter().map(|&pid| cpu_ms(pid)).sum();
    let others_before = (cpu_ms(std::process::id()), postgres_cpu_ms());
    let writes_before = match postgres {
        Some(_) => Some(DatabaseWrites::read(store.pool()).await),
        None => None,
    };
    let started = Instant::now();
    let form =
        [("title", TITLE), ("body", BODY), ("url", "/"), ("icon", ""), ("ttl_secs", "86400"), ("urgency", "normal")];
    let id: i64 = client.post(api("admin/send_campaign")).form(&form).send().await.unwrap().json().await.unwrap();
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        if status != "queued" && status != "sending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    // All instances together: CPU time adds up, memory is per process.
    let cpu = pids.iter().map(|&pid| cpu_ms(pid)).sum::<f64>() - cpu_before;
    let others = (cpu_ms(std::process::id()) - others_before.0, postgres_cpu_ms() - others_before.1);
    let peak_rss_mb = pids.iter().map(|&pid| peak_rss_mb(pid)).fold(0.0, f64::max);
    let writes = match writes_before {
        Some(before) => Some(DatabaseWrites::read(store.pool()).await.since(&before)),
        None => None,
    };
    for (mut child, _) in children {
        child.kill().await.unwrap();
    }
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sent as usize, subscribers.len(), "every message was accepted by the sink");
    assert!(sink.received.load(Ordering::Relaxed) - before >= subscribers.len() as u64);
    Figures { messages: sent as u64, seconds, cpu_ms: cpu, peak_rss_mb, others_cpu_ms: Some(others), writes }
}

async fn start_tidings(binary: &Path, database: &str, cert: &Path, concurrency: usize) -> (Child, String) {
    process::start_tidings(
        binary,
        &[
            ("DATABASE_URL", database.to_owned()),
            ("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS", "1".into()),
            ("TIDINGS_TEST_TRUST_CERT", cert.display().to_string()),
            ("TIDINGS_ADMIN_USERNAME", ADMIN.0.into()),
            ("TIDINGS_ADMIN_PASSWORD", ADMIN.1.into()),
            ("TIDINGS_SEND_CONCURRENCY", concurrency.to_string()),
            ("TIDINGS_VAPID_SUBJECT", "mailto:bench@tidings.example".into()),
            ("RUST_LOG", "error".into()),
        ],
    )
    .await
}

/// User + system CPU time of a process so far (/proc/PID/stat, in clock ticks of 10 ms).
fn cpu_ms(pid: u32) -> f64 {
    try_cpu_ms(pid).expect("the process is running")
}

/// Like [`cpu_ms`], `None` if the process is gone.
fn try_cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 1000.0 / 100.0)
}

/// CPU time so far of every process named `postgres`: the server, its background workers
/// and the connections' backends (0 on SQLite).
fn postgres_cpu_ms() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres"))
        .filter_map(try_cpu_ms)
        .sum()
}

/// The process's peak resident set (VmHWM), in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

/// Installs npm web-push (once) under target/bench and returns its module path.
fn install_web_push(work: &Path) -> PathBuf {
    let prefix = work.join("node");
    let module = prefix.join("node_modules/web-push");
    let installed = std::fs::read_to_string(module.join("package.json")).unwrap_or_default();
    if !installed.contains(&format!("\"version\": \"{WEB_PUSH_VERSION}\"")) {
        let status = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(format!("web-push@{WEB_PUSH_VERSION}"))
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm install web-push@{WEB_PUSH_VERSION} failed");
    }
    module
}

async fn run_node(
    work: &Path,
    cert: &Path,
    module: &Path,
    subscribers: &[Subscriber],
    concurrency: usize,
    sink: &sink::Sink,
) -> Figures {
    let file = work.join(format!("subscriptions-{}.json", subscribers.len()));
    let json: Vec<_> = subscribers
        .iter()
        .map(|s| serde_json::json!({ "endpoint": s.endpoint, "keys": { "p256dh": s.p256dh, "auth": s.auth } }))
        .collect();
    std::fs::write(&file, serde_json::to_vec(&json).unwrap()).unwrap();
    let payload = serde_json::json!({ "campaign": 1, "title": TITLE, "body": BODY, "url": "/" }).to_string();
    let before = sink.received.load(Ordering::Relaxed);
    let output = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/dispatch/node-sender.cjs"))
        .env("WEB_PUSH_MODULE", module)
        .env("SUBSCRIPTIONS", &file)
        .env("CERT", cert)
        .env("CONCURRENCY", concurrency.to_string())
        .env("PAYLOAD", payload)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "node sender failed: {}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap();
    assert_eq!(
        result["ok"].as_u64(),
        Some(subscribers.len() as u64),
        "node: {result} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(sink.received.load(Ordering::Relaxed) - before >= subscribers.len() as u64);
    Figures {
        messages: result["ok"].as_u64().unwrap(),
        seconds: result["seconds"].as_f64().unwrap(),
        cpu_ms: result["cpu_ms"].as_f64().unwrap(),
        peak_rss_mb: result["peak_rss_mb"].as_f64().unwrap(),
        others_cpu_ms: None,
        writes: None,
    }
}
