//! Repositories (image streams) and the catalog.

use sqlx::Row;

use crate::changes::ChangeKind;
use crate::{now_millis, Metadata, MetadataError, Result, WriteTx};

/// Creates the repository when it does not exist yet, and its project too when
/// `create_project` is set; otherwise a missing project is [`MetadataError::ProjectUnknown`].
pub(crate) async fn ensure_repository(
    w: &mut WriteTx,
    repository: &str,
    create_project: bool,
) -> Result<()> {
    let project = repository.split('/').next().unwrap_or(repository);
    let now = now_millis();
    if create_project {
        crate::projects::insert_project(&mut w.tx, project, "{}", "{}", now).await?;
    } else if !crate::projects::project_exists(&mut w.tx, project, "").await? {
        return Err(MetadataError::ProjectUnknown(project.to_string()));
    }
    insert_repository(w, repository, now).await?;
    Ok(())
}

/// Inserts an empty repository (image stream) unless it exists; returns whether it did not.
pub(crate) async fn insert_repository(w: &mut WriteTx, repository: &str, now: i64) -> Result<bool> {
    let project = repository.split('/').next().unwrap_or(repository);
    let created = sqlx::query(
        "INSERT INTO repositories (name, project, created_at, uid) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(repository)
    .bind(project)
    .bind(now)
    .bind(uuid::Uuid::new_v4().to_string())
    .execute(&mut *w.tx)
    .await?
    .rows_affected()
        > 0;
    if created {
        w.stream_changed(repository, ChangeKind::Added);
    }
    Ok(created)
}

impl Metadata {
    /// Gives streams created before streams had uids one.
    pub(crate) async fn fill_missing_stream_uids(&self) -> Result<()> {
        self.fill_missing_uids("repositories").await
    }

    /// Gives every row of `table` (keyed by `name`) with an empty uid one.
    pub(crate) async fn fill_missing_uids(&self, table: &'static str) -> Result<()> {
        let rows = sqlx::query(&format!("SELECT name FROM {table} WHERE uid = ''"))
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let name: String = row.try_get("name")?;
            sqlx::query(&format!(
                "UPDATE {table} SET uid = $1 WHERE name = $2 AND uid = ''"
            ))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(name)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

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

    /// One page of the repositories in the given projects, or in every project when `projects`
    /// is `None`: the catalog as a caller who may pull only from some projects sees it.
    pub async fn catalog_in(
        &self,
        projects: Option<&[String]>,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let Some(projects) = projects else {
            return self.catalog(last, limit).await;
        };
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(3, projects.len());
        let sql = self.joined_names(&format!(
            "SELECT name FROM repositories WHERE name > $1 AND project IN ({list}) ORDER BY name LIMIT $2"
        ));
        let mut query = sqlx::query(&sql).bind(last.unwrap_or("")).bind(limit);
        for p in projects {
            query = query.bind(p.as_str());
        }
        self.fetch_names(query).await
    }
}

/// `$first, $first+1, …` for `count` values, for `IN (…)` lists.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
