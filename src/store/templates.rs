//! Saved campaign content (templates).

use super::{now, Store};
use crate::template::TemplateName;

#[derive(Debug, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: i64,
    pub name: String,
    /// The compose form as JSON.
    pub content: String,
    pub updated_at: i64,
}

impl Store {
    pub async fn templates(&self) -> Result<Vec<TemplateRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, name, content, updated_at FROM templates ORDER BY lower(name)")
            .fetch_all(&self.pool)
            .await
    }

    pub async fn template(&self, id: i64) -> Result<Option<TemplateRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, name, content, updated_at FROM templates WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// A new template; a taken name (names ignore case) is a unique violation.
    pub async fn create_template(&self, name: &TemplateName, content: &str, by: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO templates (name, content, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             RETURNING id",
        )
        .bind(name.as_str())
        .bind(content)
        .bind(by)
        .bind(now())
        .fetch_one(&self.pool)
        .await
    }

    /// Renames and replaces a template's content. Ok(false) if there is no such template.
    pub async fn update_template(&self, id: i64, name: &TemplateName, content: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("UPDATE templates SET name = $1, content = $2, updated_at = $3 WHERE id = $4")
            .bind(name.as_str())
            .bind(content)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn delete_template(&self, id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM templates WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(result.rows_affected() == 1)
    }
}
