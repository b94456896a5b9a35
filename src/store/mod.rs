//! The data layer: every SQL statement Tidings runs lives under this folder.
//!
//! Two databases, one set of queries: SQLite (embedded, the default) and PostgreSQL (one
//! database shared by several instances). Both are reached through sqlx's `Any` driver,
//! so each function below is written once. Statements use `$1`-style parameters, which
//! both dialects read, and standard SQL both understand; where the dialects differ, the
//! function says so with [`Store::dialect`] right beside the other variant. Each dialect
//! has its own migrations (`migrations/sqlite`, `migrations/postgres`) ending at the same
//! tables and types: integers are 64-bit, timestamps Unix seconds.

mod admins;
mod api_keys;
mod approvals;
mod audit;
mod automations;
mod backup;
mod campaigns;
mod contents;
mod deliveries;
mod history;
mod instances;
mod keys;
mod operations;
mod sessions;
mod settings;
mod sign_ins;
mod sites;
mod subscribers;
mod subscriptions;
mod templates;
mod topics;
pub(crate) mod webhooks;

pub use crate::push::client::SubscriptionRow;
pub use admins::AdminRow;
pub use api_keys::{ApiKeyRow, ApiSubscriberRow, Remembered};
pub use approvals::{ApprovalRow, Review};
pub use audit::AuditRow;
pub use automations::{AutomationRow, NewAutomation};
pub use campaigns::{Author, CampaignRow, Saved};
pub use contents::{AbState, HELD};
pub use deliveries::{ClaimedDelivery, DeliveryOutcome, OutcomeKind};
pub use history::{HistoryDelivery, HistorySubscription};
pub use instances::InstanceId;
pub use keys::{KeyRow, Retired};
pub use sessions::SessionStore;
pub use sites::SiteRow;
pub use subscribers::{ExportRow, ImportRow, Imported, SubscriberListRow};
pub use subscriptions::SubscriptionKey;
pub use templates::TemplateRow;
pub use webhooks::{WebhookDeliveryRow, WebhookRow};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};
use std::str::FromStr;

// The wall clock lives below the store; its queries stamp rows with it.
pub use crate::clock::{now, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of(database_url: &str) -> Option<Self> {
        if database_url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    /// The dialect of a connection (`AnyConnection::backend_name`).
    fn of_backend(name: &str) -> Self {
        if name == "PostgreSQL" {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }

    /// See [`Store::ids_in`].
    fn ids_in(self, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each(${n})"),
            Dialect::Postgres => format!("SELECT jsonb_array_elements_text(${n}::jsonb)::bigint"),
        }
    }

    /// `column` is one of the integers of the JSON array bound as `$n`. On PostgreSQL an
    /// array (`= ANY`), not `IN (subquery)`: the planner guesses a hundred rows for the
    /// subquery and joins it against a sequential scan of the whole table, where the
    /// array is looked up in the column's index (measured on 20,000 deliveries: a batch
    /// of 64 outcomes took 5.3 ms, and 496 ms before statistics; 0.9 ms as an array).
    fn in_ids(self, column: &str, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("{column} IN ({})", self.ids_in(n)),
            Dialect::Postgres => format!("{column} = ANY(ARRAY({}))", self.ids_in(n)),
        }
    }

    /// Like [`Dialect::in_ids`], for a JSON array of strings.
    fn in_texts(self, column: &str, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => format!("{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(${n}::jsonb)))"),
        }
    }
}

/// Set on every SQLite connection. WAL lets page renders read while the dispatcher writes
/// outcomes. synchronous = NORMAL is durable across process crashes in WAL mode; only a
/// power cut may lose the last commits, which the delivery state machine tolerates.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    sessions: SessionStore,
    faults: Faults,
}

/// A test hook: the next N outcome writes fail as a dropped connection would, so tests can
/// prove the dispatcher survives failed writes. Nothing in Tidings sets it.
#[derive(Debug, Clone, Default)]
pub struct Faults(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl Faults {
    pub fn fail_next_writes(&self, n: u32) {
        self.0.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    fn take_write_fault(&self) -> Option<sqlx::Error> {
        use std::sync::atomic::Ordering::SeqCst;
        self.0.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).ok().map(|_| sqlx::Error::PoolClosed)
    }
}

impl Store {
    /// Opens (creating an SQLite file if needed) the database and brings its schema up to date.
    pub async fn open(database_url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of(database_url)
            .ok_or_else(|| sqlx::Error::Configuration("DATABASE_URL must start with sqlite: or postgres://".into()))?;
        let options = match dialect {
            // The Any driver rebuilds SQLite options from a URL, which can say "create the
            // file" but not the pragmas: those follow on every new connection below.
            Dialect::Sqlite => AnyConnectOptions::from_url(
                &SqliteConnectOptions::from_str(database_url)?.create_if_missing(true).to_url_lossy(),
            )?,
            Dialect::Postgres => AnyConnectOptions::from_str(database_url)?,
        };
        // One connection first, outside the pool: the pool retries a failing connection
        // until its timeout and then reports only "pool timed out", where this reports the
        // cause ("file is not a database", "readonly database", a refused password) at once.
        let mut probe = sqlx::AnyConnection::connect_with(&options).await?;
        if dialect == Dialect::Sqlite {
            probe.execute(SQLITE_PRAGMAS).await?;
            probe.execute("SELECT count(*) FROM sqlite_master").await?;
        }
        probe.close().await?;
        let pool = AnyPoolOptions::new()
            // SQLite writes one at a time anyway; PostgreSQL serves every instance, and
            // its default limit is 100 connections in all.
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        connection.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        match dialect {
            Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            // Several instances may start at once: the migrator takes an advisory lock,
            // so one applies the migrations and the others wait for it.
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let sessions = SessionStore::open(database_url, dialect).await?;
        Ok(Self { pool, dialect, sessions, faults: Faults::default() })
    }

    /// Why this instance should not take traffic, if it should not: the database does not
    /// answer, or its schema is behind this build's migrations. One cheap query.
    pub async fn unready_reason(&self) -> Option<String> {
        let latest = match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).max(),
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).max(),
        };
        let applied: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(&self.pool).await;
        match applied {
            // The cause stays in the log: /readyz answers anyone.
            Err(error) => {
                tracing::warn!(%error, "readiness check: the database does not answer");
                Some("the database does not answer".to_owned())
            }
            Ok(applied) if applied < latest => {
                Some(format!("the database schema is at {applied:?}, this build needs {latest:?}"))
            }
            Ok(_) => None,
        }
    }

    /// The pool itself, for tests and benchmarks that look into the tables.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Where admin sessions live: in this database, so any instance can serve any admin.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// A transaction that may write. SQLite's default (deferred) transaction starts as a
    /// reader, and one that then writes while another connection writes fails at once with
    /// "database is locked" instead of waiting; `BEGIN IMMEDIATE` takes the write lock
    /// first, waiting for it up to the busy timeout.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// `sqlite` when the database is SQLite, else `postgres`: for the few statements the
    /// two dialects spell differently.
    fn sql<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self.dialect {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }

    /// A subquery yielding the integers of a JSON array bound as parameter `$n`: a list of
    /// ids in one parameter (the Any driver binds no arrays).
    fn ids_in(&self, n: u8) -> String {
        self.dialect.ids_in(n)
    }

    /// See [`Dialect::in_ids`].
    fn in_ids(&self, column: &str, n: u8) -> String {
        self.dialect.in_ids(column, n)
    }

    /// See [`Dialect::in_texts`].
    fn in_texts(&self, column: &str, n: u8) -> String {
        self.dialect.in_texts(column, n)
    }
}

/// A subscription's last successful push (Unix seconds, or NULL), as the column
/// `last_success_at`, for a query that names the subscription `s`. It lives apart from the
/// subscription row, which is wide and carries many indexes (see the migration).
const LAST_SUCCESS_AT: &str =
    "(SELECT l.at FROM subscription_last_success l WHERE l.subscription_id = s.id) AS last_success_at";

/// Ids as a JSON array, for [`Store::ids_in`].
fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    serde_json::to_string(&ids.into_iter().collect::<Vec<_>>()).expect("a list of integers serializes")
}
