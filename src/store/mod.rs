//! The data layer: every SQL statement Tidings runs lives under this folder, so a second
//! dialect (PostgreSQL) is one more folder of queries and one of migrations.

mod admins;
mod campaigns;
mod deliveries;
mod settings;
mod subscribers;
mod subscriptions;
mod topics;

pub use admins::AdminRow;
pub use campaigns::CampaignRow;
pub use deliveries::{ClaimedDelivery, DeliveryOutcome, OutcomeKind};
pub use subscribers::{ExportRow, Imported, SubscriberListRow};
pub use subscriptions::SubscriptionRow;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub async fn open(database_url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            // WAL lets page renders read while the dispatcher writes outcomes.
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across process crashes in WAL mode; only a power cut may
            // lose the last commits, which the delivery state machine tolerates.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The pool, for the session store (tower-sessions keeps its own table in our database).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Current time as Unix seconds, the unit of every `…_at` column but one.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Current time as Unix milliseconds: `deliveries.next_attempt_at`, where retries and
/// rate-limit pauses need finer steps than seconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
