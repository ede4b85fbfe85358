//! Image streams (repositories) and images as API resources read them: streams of a project,
//! page by page; each stream's current tags with their history; images by digest.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::repositories::placeholders;
use crate::{Metadata, Result, TagEvent};

/// An image stream: `<project>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRow {
    pub repository: String,
    pub project: String,
    pub created_at: i64,
}

/// A current tag of a stream with its history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTag {
    pub tag: String,
    pub history: Vec<TagEvent>,
}

/// An image (manifest) with what the API shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDetailRow {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub content: Vec<u8>,
    pub config_digest: Option<String>,
    pub created_at: i64,
}

fn stream_row(r: &AnyRow) -> Result<StreamRow> {
    Ok(StreamRow {
        repository: r.try_get("name")?,
        project: r.try_get("project")?,
        created_at: r.try_get("created_at")?,
    })
}

const IMAGE_COLUMNS: &str = "digest, media_type, size, content, config_digest, created_at";

fn image_detail_row(r: &AnyRow) -> Result<ImageDetailRow> {
    Ok(ImageDetailRow {
        digest: r.try_get("digest")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        content: r.try_get("content")?,
        config_digest: r.try_get("config_digest")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Metadata {
    /// A page of a project's image streams in name order, after `after` (a full
    /// `<project>/<name>`), at most `limit`.
    pub async fn image_streams(
        &self,
        project: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<StreamRow>> {
        let rows = sqlx::query(
            "SELECT name, project, created_at FROM repositories WHERE project = $1 AND name > $2 \
             ORDER BY name LIMIT $3",
        )
        .bind(project)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stream_row).collect()
    }

    pub async fn image_stream(&self, repository: &str) -> Result<Option<StreamRow>> {
        let row = sqlx::query("SELECT name, project, created_at FROM repositories WHERE name = $1")
            .bind(repository)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(stream_row).transpose()
    }

    /// The current tags of a stream, each with its whole history newest first.
    pub async fn stream_tags(&self, repository: &str) -> Result<Vec<StreamTag>> {
        let rows = sqlx::query(
            "SELECT e.tag AS tag, e.generation AS generation, e.digest AS digest, e.created_at AS created_at \
             FROM tag_events e JOIN tags t ON t.repository = e.repository AND t.name = e.tag \
             WHERE e.repository = $1 ORDER BY e.tag, e.generation DESC",
        )
        .bind(repository)
        .fetch_all(&self.pool)
        .await?;
        let mut tags: Vec<StreamTag> = Vec::new();
        for r in &rows {
            let tag: String = r.try_get("tag")?;
            let event = TagEvent {
                generation: r.try_get("generation")?,
                digest: r.try_get("digest")?,
                created_at: r.try_get("created_at")?,
            };
            match tags.last_mut() {
                Some(last) if last.tag == tag => last.history.push(event),
                _ => tags.push(StreamTag {
                    tag,
                    history: vec![event],
                }),
            }
        }
        Ok(tags)
    }

    /// An image by digest, whichever repositories hold it.
    pub async fn image_detail(&self, digest: &str) -> Result<Option<ImageDetailRow>> {
        let row = sqlx::query(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images WHERE digest = $1"
        ))
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(image_detail_row).transpose()
    }

    /// The first repository (by name) holding image `digest` among `projects` (all when
    /// `None`): where the caller may see it.
    pub async fn image_repository(
        &self,
        digest: &str,
        projects: Option<&[String]>,
    ) -> Result<Option<String>> {
        let (filter, n) = match projects {
            None => (String::new(), 0),
            Some([]) => return Ok(None),
            Some(p) => (
                format!(" AND r.project IN ({})", placeholders(2, p.len())),
                p.len(),
            ),
        };
        let sql = format!(
            "SELECT ri.repository AS repository FROM repository_images ri JOIN repositories r ON r.name = ri.repository \
             WHERE ri.digest = $1{filter} ORDER BY ri.repository LIMIT 1"
        );
        let mut q = sqlx::query(&sql).bind(digest);
        for p in projects.unwrap_or_default().iter().take(n) {
            q = q.bind(p.as_str());
        }
        let row = q.fetch_optional(&self.pool).await?;
        row.map(|r| Ok(r.try_get::<String, _>("repository")?))
            .transpose()
    }

    /// A page of images in digest order after `after`, only those held by repositories of
    /// `projects` (all when `None`).
    pub async fn images_page(
        &self,
        projects: Option<&[String]>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<ImageDetailRow>> {
        let rows = match projects {
            None => {
                sqlx::query(&format!(
                    "SELECT {IMAGE_COLUMNS} FROM images WHERE digest > $1 ORDER BY digest LIMIT $2"
                ))
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            Some([]) => return Ok(Vec::new()),
            Some(p) => {
                let sql = format!(
                    "SELECT {IMAGE_COLUMNS} FROM images WHERE digest > $1 AND digest IN \
                     (SELECT ri.digest FROM repository_images ri JOIN repositories r ON r.name = ri.repository \
                      WHERE r.project IN ({})) ORDER BY digest LIMIT $2",
                    placeholders(3, p.len())
                );
                let mut q = sqlx::query(&sql).bind(after).bind(limit);
                for name in p {
                    q = q.bind(name.as_str());
                }
                q.fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(image_detail_row).collect()
    }
}

impl Metadata {
    /// Creates an empty image stream in an existing project; `AlreadyExists` when it exists.
    pub async fn create_image_stream(&self, repository: &str) -> Result<StreamRow> {
        let project = repository.split('/').next().unwrap_or(repository);
        let mut w = self.write().await?;
        crate::access::project_must_exist(&mut w, project).await?;
        let now = crate::now_millis();
        let done = sqlx::query(
            "INSERT INTO repositories (name, project, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(repository)
        .bind(project)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(crate::MetadataError::AlreadyExists(format!(
                "imagestream {repository}"
            )));
        }
        w.commit().await?;
        Ok(StreamRow {
            repository: repository.to_string(),
            project: project.to_string(),
            created_at: now,
        })
    }

    /// Deletes an image stream: its tags, history and links go; images and blobs stay for
    /// pruning. False when there was none.
    pub async fn delete_image_stream(&self, repository: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM repositories WHERE name = $1")
            .bind(repository)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
