use super::{now, Store};
use crate::keys::{KeyState, KeySummary};

/// A key pair as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub label: String,
    /// The 32-byte private scalar, base64url.
    pub private_key: String,
    pub public_key: String,
    pub state: String,
    pub created_at: i64,
}

const KEY_ROW: &str = "SELECT id, label, private_key, public_key, state, created_at FROM vapid_keys";

/// What retiring a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retired {
    Done,
    /// Subscriptions still use it; nothing changed.
    InUse(i64),
    /// The key is the current one (make another current first), or there is no such key.
    Refused,
}

impl Store {
    /// Every key with how many subscriptions use it: current first, then newest.
    pub async fn vapid_keys(&self) -> Result<Vec<KeySummary>, sqlx::Error> {
        type Row = (i64, String, String, String, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT k.id, k.label, k.public_key, k.state, k.created_at,
                    (SELECT COUNT(*) FROM subscriptions s WHERE s.key_id = k.id) AS subscribers
             FROM vapid_keys k ORDER BY k.state <> 'current', k.state = 'retired', k.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, label, public_key, state, created_at, subscribers)| KeySummary {
                id,
                label,
                public_key,
                state: KeyState::parse(&state).unwrap_or(KeyState::Retired),
                created_at,
                subscribers,
            })
            .collect())
    }

    pub async fn vapid_key(&self, id: i64) -> Result<Option<KeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await
    }

    pub async fn current_vapid_key(&self) -> Result<Option<KeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} WHERE state = 'current'")).fetch_optional(&self.pool).await
    }

    /// The key (not retired) whose public key is `public_key`, which a browser reports.
    pub async fn signing_key_by_public(&self, public_key: &str) -> Result<Option<KeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} WHERE public_key = $1 AND state <> 'retired'"))
            .bind(public_key)
            .fetch_optional(&self.pool)
            .await
    }

    /// On a database without keys, stores `private_key` as key 1, the current one. Every
    /// instance starting together tries; the first wins.
    pub async fn ensure_first_key(&self, private_key: &str, public_key: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO vapid_keys (id, label, private_key, public_key, state, created_at)
             SELECT 1, 'First key', $1, $2, 'current', $3
             WHERE NOT EXISTS (SELECT 1 FROM vapid_keys)
             ON CONFLICT DO NOTHING",
        )
        .bind(private_key)
        .bind(public_key)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Keys whose public key is not filled in yet (the one an upgrade brought over).
    pub async fn keys_without_public_key(&self) -> Result<Vec<KeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} WHERE public_key = ''")).fetch_all(&self.pool).await
    }

    pub async fn set_public_key(&self, id: i64, public_key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE vapid_keys SET public_key = $1 WHERE id = $2")
            .bind(public_key)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Adds a key pair, still signing only (not current). `None` if that key is stored already.
    pub async fn insert_vapid_key(
        &self,
        label: &str,
        private_key: &str,
        public_key: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO vapid_keys (label, private_key, public_key, state, created_at) VALUES ($1, $2, $3, 'signing', $4)
             ON CONFLICT (private_key) DO NOTHING RETURNING id",
        )
        .bind(label)
        .bind(private_key)
        .bind(public_key)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
    }

    /// The id of the stored key pair with this private key.
    pub async fn key_id_by_private(&self, private_key: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM vapid_keys WHERE private_key = $1")
            .bind(private_key)
            .fetch_optional(&self.pool)
            .await
    }

    /// Makes `id` the key new subscriptions use; the previous current key keeps signing
    /// for its subscriptions. False if there is no such key or it is retired.
    pub async fn make_key_current(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let usable: Option<i64> = sqlx::query_scalar("SELECT id FROM vapid_keys WHERE id = $1 AND state <> 'retired'")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if usable.is_none() {
            return Ok(false);
        }
        sqlx::query("UPDATE vapid_keys SET state = 'signing' WHERE state = 'current' AND id <> $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE vapid_keys SET state = 'current' WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Retires a key that is not the current one. While subscriptions use it, only with
    /// `anyway`, which deletes them (nothing could be signed for them any more).
    pub async fn retire_key(&self, id: i64, anyway: bool) -> Result<Retired, sqlx::Error> {
        let mut tx = self.begin().await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM vapid_keys WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        if !matches!(state.as_deref(), Some("signing" | "retired")) {
            return Ok(Retired::Refused);
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE key_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if users > 0 && !anyway {
            return Ok(Retired::InUse(users));
        }
        sqlx::query(
            "DELETE FROM deliveries WHERE status = 'pending'
               AND subscription_id IN (SELECT id FROM subscriptions WHERE key_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM subscriptions WHERE key_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE vapid_keys SET state = 'retired' WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Retired::Done)
    }

    /// Every key pair, for `tidings keys export`.
    pub async fn all_key_rows(&self) -> Result<Vec<KeyRow>, sqlx::Error> {
        sqlx::query_as(&format!("{KEY_ROW} ORDER BY id")).fetch_all(&self.pool).await
    }
}
