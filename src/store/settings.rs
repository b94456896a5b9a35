use super::Store;

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await
    }

    /// Stores `value` unless the key already has one; returns the value that is stored.
    /// Two processes starting at once on an empty database thus agree on one value.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, sqlx::Error> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(self.setting(key).await?.unwrap_or_else(|| value.to_owned()))
    }
}
