//! Projects and repositories (image streams).

use sqlx::AnyConnection;

use crate::{now_millis, Metadata, Result, WriteTx};

/// Creates the project and the repository when they do not exist yet.
pub(crate) async fn ensure_repository(conn: &mut AnyConnection, repository: &str) -> Result<()> {
    let project = repository.split('/').next().unwrap_or(repository);
    let now = now_millis();
    sqlx::query(
        "INSERT INTO projects (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(project)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO repositories (name, project, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(repository)
    .bind(project)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl WriteTx {
    pub async fn ensure_repository(&mut self, repository: &str) -> Result<()> {
        ensure_repository(&mut self.tx, repository).await
    }
}

impl Metadata {
    pub async fn repository_exists(&self, repository: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM repositories WHERE name = $1")
            .bind(repository)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// One page of repository names in lexical order, after `last`.
    pub async fn catalog(&self, last: Option<&str>, limit: i64) -> Result<Vec<String>> {
        let sql = self
            .joined_names("SELECT name FROM repositories WHERE name > $1 ORDER BY name LIMIT $2");
        let query = sqlx::query(&sql).bind(last.unwrap_or("")).bind(limit);
        self.fetch_names(query).await
    }
}
