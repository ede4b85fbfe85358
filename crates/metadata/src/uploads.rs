//! Upload sessions in progress.

use sqlx::Row;

use crate::{now_millis, Metadata, Result};

impl Metadata {
    pub async fn create_upload(&self, id: &str, repository: &str) -> Result<()> {
        let mut w = self.write().await?;
        sqlx::query("INSERT INTO uploads (id, repository, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(repository)
            .bind(now_millis())
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Whether the upload `id` of `repository` is in progress.
    pub async fn upload_exists(&self, id: &str, repository: &str) -> Result<bool> {
        let row = sqlx::query("SELECT repository FROM uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<String, _>("repository")? == repository,
            None => false,
        })
    }

    /// Ends an upload; returns whether it existed.
    pub async fn delete_upload(&self, id: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
