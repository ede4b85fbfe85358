//! Images (manifests): storing them with their references, finding them by tag or digest,
//! deleting them from a repository, and the referrers of a subject.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::repositories::ensure_repository;
use crate::tags::set_tag;
use crate::{now_millis, Metadata, MetadataError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    Blob,
    Manifest,
}

impl ReferenceKind {
    fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Blob => "blob",
            ReferenceKind::Manifest => "manifest",
        }
    }
}

/// Content an image names, which its repository must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: String,
    pub kind: ReferenceKind,
}

/// An image as pushed.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    pub digest: String,
    pub media_type: String,
    pub content: Vec<u8>,
    pub config_digest: Option<String>,
    pub artifact_type: Option<String>,
    pub subject_digest: Option<String>,
    /// The manifest's annotations as a JSON object, if it has any.
    pub annotations: Option<String>,
}

/// An image as served.
#[derive(Debug, Clone)]
pub struct ImageRow {
    pub digest: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// An image as listed in a referrers response.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
}

fn image_row(row: &AnyRow) -> Result<ImageRow> {
    Ok(ImageRow {
        digest: row.try_get("digest")?,
        media_type: row.try_get("media_type")?,
        content: row.try_get("content")?,
    })
}

impl Metadata {
    /// Stores `image` in `repository` and points `tags` at it, in one transaction, after
    /// checking that the repository holds everything the image references. Nothing changes
    /// when something is missing.
    pub async fn put_image(
        &self,
        repository: &str,
        image: &ImageRecord,
        references: &[Reference],
        tags: &[String],
        notifications: &[crate::NewNotification],
    ) -> Result<()> {
        let mut w = self.write().await?;
        let lock = w.for_share();
        let mut missing = Vec::new();
        for r in references {
            let table = match r.kind {
                ReferenceKind::Blob => "repository_blobs",
                ReferenceKind::Manifest => "repository_images",
            };
            let sql =
                format!("SELECT digest FROM {table} WHERE repository = $1 AND digest = $2{lock}");
            let found = sqlx::query(&sql)
                .bind(repository)
                .bind(&r.target)
                .fetch_optional(&mut *w.tx)
                .await?;
            if found.is_none() {
                missing.push(r.target.clone());
            }
        }
        if !missing.is_empty() {
            return Err(MetadataError::MissingReferences(missing));
        }
        let now = now_millis();
        sqlx::query(
            "INSERT INTO images (digest, media_type, size, content, config_digest, artifact_type, \
             subject_digest, annotations, created_at, uid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&image.digest)
        .bind(&image.media_type)
        .bind(image.content.len() as i64)
        .bind(image.content.clone())
        .bind(image.config_digest.clone())
        .bind(image.artifact_type.clone())
        .bind(image.subject_digest.clone())
        .bind(image.annotations.clone())
        .bind(now)
        .bind(uuid::Uuid::new_v4().to_string())
        .execute(&mut *w.tx)
        .await?;
        for r in references {
            sqlx::query(
                "INSERT INTO image_references (image, target, kind) VALUES ($1, $2, $3) \
                 ON CONFLICT (image, target, kind) DO NOTHING",
            )
            .bind(&image.digest)
            .bind(&r.target)
            .bind(r.kind.as_str())
            .execute(&mut *w.tx)
            .await?;
        }
        ensure_repository(&mut w, repository, self.creates_projects).await?;
        let linked = sqlx::query(
            "INSERT INTO repository_images (repository, digest, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (repository, digest) DO NOTHING",
        )
        .bind(repository)
        .bind(&image.digest)
        .bind(now)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if linked > 0 {
            // Logged per project that gains the image: a watcher sees it through that project.
            let project = repository.split('/').next().unwrap_or(repository);
            w.image_added(project, &image.digest);
        }
        for tag in tags {
            set_tag(&mut w, repository, tag, &image.digest, now).await?;
        }
        crate::outbox::insert(&mut w, notifications).await?;
        w.commit().await
    }

    /// The image `digest` if `repository` holds it.
    pub async fn image_in_repository(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Option<ImageRow>> {
        let row = sqlx::query(
            "SELECT i.digest, i.media_type, i.content FROM repository_images r \
             JOIN images i ON i.digest = r.digest WHERE r.repository = $1 AND r.digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(image_row).transpose()
    }

    /// The image `tag` of `repository` points at.
    pub async fn image_by_tag(&self, repository: &str, tag: &str) -> Result<Option<ImageRow>> {
        let row = sqlx::query(
            "SELECT i.digest, i.media_type, i.content FROM tags t \
             JOIN images i ON i.digest = t.digest WHERE t.repository = $1 AND t.name = $2",
        )
        .bind(repository)
        .bind(tag)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(image_row).transpose()
    }

    /// Removes image `digest` from `repository`, with the tags that point at it. Returns whether
    /// the repository held it. The image itself stays until pruning.
    pub async fn delete_image(
        &self,
        repository: &str,
        digest: &str,
        notifications: &[crate::NewNotification],
    ) -> Result<bool> {
        let mut w = self.write().await?;
        let untagged = sqlx::query("DELETE FROM tags WHERE repository = $1 AND digest = $2")
            .bind(repository)
            .bind(digest)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if untagged > 0 {
            w.stream_changed(repository, crate::ChangeKind::Modified);
        }
        let done =
            sqlx::query("DELETE FROM repository_images WHERE repository = $1 AND digest = $2")
                .bind(repository)
                .bind(digest)
                .execute(&mut *w.tx)
                .await?;
        let existed = done.rows_affected() > 0;
        if existed {
            crate::outbox::insert(&mut w, notifications).await?;
        }
        w.commit().await?;
        Ok(existed)
    }

    /// One page of the images in `repository` whose subject is `subject`, in digest order after
    /// `last`, optionally only those of `artifact_type`.
    pub async fn referrers(
        &self,
        repository: &str,
        subject: &str,
        artifact_type: Option<&str>,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ImageSummary>> {
        let base = "SELECT i.digest, i.media_type, i.size, i.artifact_type, i.annotations \
             FROM repository_images r JOIN images i ON i.digest = r.digest \
             WHERE r.repository = $1 AND i.subject_digest = $2 AND i.digest > $3";
        let rows = match artifact_type {
            Some(t) => {
                let sql = format!("{base} AND i.artifact_type = $4 ORDER BY i.digest LIMIT $5");
                sqlx::query(&sql)
                    .bind(repository)
                    .bind(subject)
                    .bind(last.unwrap_or(""))
                    .bind(t)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("{base} ORDER BY i.digest LIMIT $4");
                sqlx::query(&sql)
                    .bind(repository)
                    .bind(subject)
                    .bind(last.unwrap_or(""))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(ImageSummary {
                    digest: row.try_get("digest")?,
                    media_type: row.try_get("media_type")?,
                    size: row.try_get("size")?,
                    artifact_type: row.try_get("artifact_type")?,
                    annotations: row.try_get("annotations")?,
                })
            })
            .collect()
    }
}
