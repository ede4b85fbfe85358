//! Projects as API resources: create, read, list, delete.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::repositories::placeholders;
use crate::{now_millis, Metadata, MetadataError, Result};

/// A project as stored. `labels` and `annotations` are JSON objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    pub name: String,
    pub uid: String,
    pub resource_version: i64,
    pub labels: String,
    pub annotations: String,
    pub created_at: i64,
}

const COLUMNS: &str = "name, uid, resource_version, labels, annotations, created_at";

fn project_row(row: &AnyRow) -> Result<ProjectRow> {
    Ok(ProjectRow {
        name: row.try_get("name")?,
        uid: row.try_get("uid")?,
        resource_version: row.try_get("resource_version")?,
        labels: row.try_get("labels")?,
        annotations: row.try_get("annotations")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a project unless one of that name exists; true when it was inserted.
pub(crate) async fn insert_project(
    conn: &mut AnyConnection,
    name: &str,
    labels: &str,
    annotations: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO projects (name, created_at, uid, resource_version, labels, annotations) \
         VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now)
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(labels)
    .bind(annotations)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether project `name` exists, seen from inside a transaction. With `lock` (PostgreSQL's
/// ` FOR SHARE`) the row stays until the transaction ends, so a concurrent delete of the
/// project waits for it.
pub(crate) async fn project_exists(
    conn: &mut AnyConnection,
    name: &str,
    lock: &str,
) -> Result<bool> {
    let sql = format!("SELECT 1 AS one FROM projects WHERE name = $1{lock}");
    let row = sqlx::query(&sql)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

impl Metadata {
    /// Creates a project and makes `admin` (a user or service account name) its admin, in one
    /// transaction. [`MetadataError::AlreadyExists`] when the name is taken.
    pub async fn create_project(
        &self,
        name: &str,
        labels: &str,
        annotations: &str,
        admin: Option<&str>,
    ) -> Result<ProjectRow> {
        let mut w = self.write().await?;
        let now = now_millis();
        if !insert_project(&mut w.tx, name, labels, annotations, now).await? {
            return Err(MetadataError::AlreadyExists(format!("project {name}")));
        }
        if let Some(admin) = admin {
            crate::access::insert_binding(&mut w.tx, name, "admin", "User", admin, now).await?;
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM projects WHERE name = $1"))
            .bind(name)
            .fetch_one(&mut *w.tx)
            .await?;
        let project = project_row(&row)?;
        w.commit().await?;
        Ok(project)
    }

    pub async fn project(&self, name: &str) -> Result<Option<ProjectRow>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM projects WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(project_row).transpose()
    }

    /// Projects by name, all of them when `names` is `None`, in name order.
    pub async fn projects(&self, names: Option<&[String]>) -> Result<Vec<ProjectRow>> {
        let rows = match names {
            None => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM projects ORDER BY name"))
                    .fetch_all(&self.pool)
                    .await?
            }
            Some([]) => return Ok(Vec::new()),
            Some(names) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM projects WHERE name IN ({}) ORDER BY name",
                    placeholders(1, names.len())
                );
                let mut q = sqlx::query(&sql);
                for n in names {
                    q = q.bind(n.as_str());
                }
                q.fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(project_row).collect()
    }

    /// Deletes a project with its repositories (image streams, tags, links), service accounts
    /// and their tokens, and every binding in it or naming its service accounts. Images and
    /// blobs stay for pruning. False when there was no such project.
    pub async fn delete_project(&self, name: &str) -> Result<bool> {
        let mut w = self.write().await?;
        // The project row is locked first, so no stream can be created in it meanwhile (its
        // foreign key needs the row); its streams go with it (ON DELETE CASCADE) and watchers
        // are told.
        let lock = w.for_update();
        sqlx::query(&format!("SELECT name FROM projects WHERE name = $1{lock}"))
            .bind(name)
            .fetch_optional(&mut *w.tx)
            .await?;
        let streams = sqlx::query("SELECT name FROM repositories WHERE project = $1")
            .bind(name)
            .fetch_all(&mut *w.tx)
            .await?;
        // The project row goes first: its lock makes bindings being added to it concurrently
        // either fail or commit before the bindings below are deleted.
        let done = sqlx::query("DELETE FROM projects WHERE name = $1")
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        for row in &streams {
            let repository: String = sqlx::Row::try_get(row, "name")?;
            w.stream_changed(&repository, crate::ChangeKind::Deleted);
        }
        sqlx::query("DELETE FROM role_bindings WHERE project = $1")
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        // Project names are DNS labels, so they hold no LIKE wildcards.
        sqlx::query("DELETE FROM role_bindings WHERE subject_kind = 'User' AND subject LIKE $1")
            .bind(format!("system:serviceaccount:{name}:%"))
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives projects created before access control existed a uid.
    pub(crate) async fn fill_missing_project_uids(&self) -> Result<()> {
        self.fill_missing_uids("projects").await
    }
}
