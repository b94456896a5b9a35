//! Admin sessions, kept by tower-sessions' sqlx stores in our database. Those stores take a
//! pool of their own database type, not our `Any` pool, so this opens a small one beside it
//! and lets the session layer use either store through one type.

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::str::FromStr;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::Dialect;

#[derive(Debug, Clone)]
pub enum SessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionStore {
    /// Connects and creates the session table if it is missing.
    pub(super) async fn open(database_url: &str, dialect: Dialect) -> Result<Self, sqlx::Error> {
        let store = match dialect {
            Dialect::Sqlite => {
                let options =
                    SqliteConnectOptions::from_str(database_url)?.busy_timeout(std::time::Duration::from_secs(10));
                Self::Sqlite(SqliteStore::new(SqlitePoolOptions::new().max_connections(2).connect_with(options).await?))
            }
            Dialect::Postgres => {
                Self::Postgres(PostgresStore::new(PgPoolOptions::new().max_connections(4).connect(database_url).await?))
            }
        };
        // Instances starting together may race to create the table; the loser's
        // `CREATE … IF NOT EXISTS` can still fail, and succeeds when tried again.
        let mut tries = 0;
        loop {
            let created = match &store {
                Self::Sqlite(s) => s.migrate().await,
                Self::Postgres(s) => s.migrate().await,
            };
            match created {
                Err(_) if tries < 3 => tries += 1,
                done => return done.map(|()| store),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * tries)).await;
        }
    }
}

#[async_trait]
impl session_store::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
        }
    }
}
