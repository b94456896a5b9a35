use super::{now, Store};

/// An admin as stored. Deliberately not `Serialize`: the hash must never leave the server.
#[derive(sqlx::FromRow)]
pub struct AdminRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    /// IANA name; times are shown to this admin in it.
    pub time_zone: String,
    /// `owner`, `editor` or `viewer` (see `admin::role::Role`).
    pub role: String,
}

impl Store {
    pub async fn admin_exists(&self) -> Result<bool, sqlx::Error> {
        let any: Option<i64> = sqlx::query_scalar("SELECT id FROM admins LIMIT 1").fetch_optional(&self.pool).await?;
        Ok(any.is_some())
    }

    pub async fn admin_by_username(&self, username: &str) -> Result<Option<AdminRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, username, password_hash, time_zone, role FROM admins WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn admin_by_id(&self, id: i64) -> Result<Option<AdminRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, username, password_hash, time_zone, role FROM admins WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Every admin, oldest first: (id, user name, created at, role).
    pub async fn admins(&self) -> Result<Vec<(i64, String, i64, String)>, sqlx::Error> {
        sqlx::query_as("SELECT id, username, created_at, role FROM admins ORDER BY id").fetch_all(&self.pool).await
    }

    /// Gives `username` another role. Returns the role they had, or `None` if there is
    /// no such admin. Refused (`Ok(Err(()))`) when it would leave no owner, also when two
    /// owners demote each other at once.
    pub async fn set_admin_role(&self, username: &str, role: &str) -> Result<Option<Result<String, ()>>, sqlx::Error> {
        let mut tx = self.begin().await?;
        // On PostgreSQL two owners demoting each other at once would each still see the
        // other as an owner (their updates touch different rows): locking the owners
        // first makes the second wait and then see the first's change. SQLite writes one
        // at a time anyway.
        sqlx::query(self.sql("SELECT 1", "SELECT id FROM admins WHERE role = 'owner' FOR UPDATE"))
            .execute(&mut *tx)
            .await?;
        let before: Option<String> = sqlx::query_scalar("SELECT role FROM admins WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(before) = before else { return Ok(None) };
        let changed = sqlx::query(
            "UPDATE admins SET role = $1 WHERE username = $2
               AND ($1 = 'owner' OR EXISTS (SELECT 1 FROM admins o WHERE o.role = 'owner' AND o.username <> $2))",
        )
        .bind(role)
        .bind(username)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(if changed.rows_affected() == 1 { Ok(before) } else { Err(()) }))
    }

    /// Sets an admin's password. Returns whether there is such an admin.
    pub async fn set_admin_password(&self, username: &str, password_hash: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE admins SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Adds an admin; returns `None` if the user name is taken.
    pub async fn create_admin(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO admins (username, password_hash, created_at, role) VALUES ($1, $2, $3, $4)
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now())
        .bind(role)
        .fetch_optional(&self.pool)
        .await
    }

    /// Creates the first admin; returns `None` if one already exists. The check and the
    /// insert are one statement, so two racing set-up requests cannot both win.
    pub async fn create_first_admin(&self, username: &str, password_hash: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO admins (username, password_hash, created_at)
             SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM admins)
             RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn set_admin_time_zone(&self, id: i64, time_zone: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE admins SET time_zone = $1 WHERE id = $2")
            .bind(time_zone)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
