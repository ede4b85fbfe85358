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

impl Metadata {
    /// Uploads started before `before` (milliseconds), oldest first, at most `limit`.
    pub async fn stale_uploads(&self, before: i64, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM uploads WHERE created_at < $1 ORDER BY created_at LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("id")?))
            .collect()
    }

    /// Takes (or renews) the lease `name` for `holder` until `ttl_ms` from now, unless another
    /// holder's lease is still running. True when `holder` now holds it. One statement, so two
    /// replicas racing for it cannot both win.
    pub async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool> {
        let now = now_millis();
        let mut w = self.write().await?;
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.expires_at < $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
