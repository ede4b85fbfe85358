//! Writing image streams and images as API resources: creating, updating (labels,
//! annotations, spec with its tag actions, optimistic concurrency) and deleting streams;
//! relabelling and deleting images.

use sqlx::Row;

use crate::{Metadata, Result, StreamRow};

/// How a spec tag changes the stream's tags when it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecTagAction {
    /// Point the tag at image `digest`, which `source` holds (a copy of a reference).
    Copy { source: String, digest: String },
    /// Make the tag follow tag `source_tag` of `source` (an alias), now and from now on.
    Track { source: String, source_tag: String },
    /// Stop following anything; the tag keeps its image.
    Untrack,
}

/// A write of an image stream's metadata and spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamUpdate {
    /// The resourceVersion the writer read; a different current one is a
    /// [`crate::MetadataError::Conflict`]. `None` writes unconditionally.
    pub expected_version: Option<i64>,
    /// Create the stream when it does not exist (in an existing project).
    pub create: bool,
    pub labels: String,
    pub annotations: String,
    pub spec: String,
    pub conditions: String,
    /// Whether the spec changed (bumps the generation).
    pub spec_changed: bool,
    pub tag_actions: Vec<(String, SpecTagAction)>,
    /// Tags removed from the stream (with what they tracked).
    pub deleted_tags: Vec<String>,
}

impl Metadata {
    /// Creates an image stream in an existing project; `AlreadyExists` when it exists.
    pub async fn create_image_stream(
        &self,
        repository: &str,
        update: &StreamUpdate,
    ) -> Result<StreamRow> {
        let project = repository.split('/').next().unwrap_or(repository);
        let mut w = self.write().await?;
        crate::access::project_must_exist(&mut w, project).await?;
        let now = crate::now_millis();
        if !crate::repositories::insert_repository(&mut w, repository, now).await? {
            return Err(crate::MetadataError::AlreadyExists(format!(
                "imagestream {repository}"
            )));
        }
        apply_update(&mut w, repository, update, now).await?;
        self.commit_and_read(w, repository).await
    }

    /// Writes an image stream's labels, annotations and spec, and applies its spec tags, in
    /// one transaction; [`crate::MetadataError::Conflict`] when the stream changed since the
    /// writer read it, `NotFound` when it does not exist (and `update.create` is off).
    pub async fn update_image_stream(
        &self,
        repository: &str,
        update: &StreamUpdate,
    ) -> Result<StreamRow> {
        let project = repository.split('/').next().unwrap_or(repository);
        let mut w = self.write().await?;
        let now = crate::now_millis();
        if update.create {
            crate::access::project_must_exist(&mut w, project).await?;
            crate::repositories::insert_repository(&mut w, repository, now).await?;
        }
        let lock = w.for_no_key_update();
        let current = sqlx::query(&format!(
            "SELECT resource_version FROM repositories WHERE name = $1{lock}"
        ))
        .bind(repository)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(current) = current else {
            return Err(crate::MetadataError::NotFound(format!(
                "imagestream {repository}"
            )));
        };
        let version: i64 = current.try_get("resource_version")?;
        if update.expected_version.is_some_and(|v| v != version) {
            return Err(crate::MetadataError::Conflict(format!(
                "imagestream {repository}"
            )));
        }
        apply_update(&mut w, repository, update, now).await?;
        self.commit_and_read(w, repository).await
    }

    /// Commits a stream write and reads the stream as it now is.
    async fn commit_and_read(&self, w: crate::WriteTx, repository: &str) -> Result<StreamRow> {
        w.commit().await?;
        self.image_stream(repository)
            .await?
            .ok_or_else(|| crate::MetadataError::NotFound(format!("imagestream {repository}")))
    }

    /// Deletes an image stream: its tags, history and links go; images and blobs stay for
    /// pruning. False when there was none.
    pub async fn delete_image_stream(&self, repository: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM repositories WHERE name = $1")
            .bind(repository)
            .execute(&mut *w.tx)
            .await?;
        // Aliases of its tags follow nothing any more (a stream re-created under this name
        // must not feed them).
        sqlx::query("DELETE FROM tag_tracking WHERE source_repository = $1")
            .bind(repository)
            .execute(&mut *w.tx)
            .await?;
        let existed = done.rows_affected() == 1;
        if existed {
            w.stream_changed(repository, crate::ChangeKind::Deleted);
        }
        w.commit().await?;
        Ok(existed)
    }
}

async fn apply_update(
    w: &mut crate::WriteTx,
    repository: &str,
    u: &StreamUpdate,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE repositories SET labels = $1, annotations = $2, spec = $3, conditions = $4, \
         generation = generation + $5 WHERE name = $6",
    )
    .bind(&u.labels)
    .bind(&u.annotations)
    .bind(&u.spec)
    .bind(&u.conditions)
    .bind(i64::from(u.spec_changed))
    .bind(repository)
    .execute(&mut *w.tx)
    .await?;
    w.stream_changed(repository, crate::ChangeKind::Modified);
    for tag in &u.deleted_tags {
        crate::tags::remove_tag(w, repository, tag).await?;
    }
    for (tag, action) in &u.tag_actions {
        sqlx::query("DELETE FROM tag_tracking WHERE repository = $1 AND tag = $2")
            .bind(repository)
            .bind(tag)
            .execute(&mut *w.tx)
            .await?;
        match action {
            SpecTagAction::Untrack => {}
            SpecTagAction::Copy { source, digest } => {
                crate::tags::link_image(w, source, digest, repository, now).await?;
                crate::tags::set_tag(w, repository, tag, digest, now).await?;
            }
            SpecTagAction::Track { source, source_tag } => {
                sqlx::query(
                    "INSERT INTO tag_tracking (repository, tag, source_repository, source_tag) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(repository)
                .bind(tag)
                .bind(source)
                .bind(source_tag)
                .execute(&mut *w.tx)
                .await?;
                let current =
                    sqlx::query("SELECT digest FROM tags WHERE repository = $1 AND name = $2")
                        .bind(source)
                        .bind(source_tag)
                        .fetch_optional(&mut *w.tx)
                        .await?;
                if let Some(row) = current {
                    let digest: String = row.try_get("digest")?;
                    crate::tags::link_image(w, source, &digest, repository, now).await?;
                    crate::tags::set_tag(w, repository, tag, &digest, now).await?;
                }
            }
        }
    }
    Ok(())
}

impl Metadata {
    /// The first project (by name) with a stream holding image `digest`: where its changes are
    /// logged.
    async fn image_project(w: &mut crate::WriteTx, digest: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT MIN(r.project) AS project FROM repository_images ri \
             JOIN repositories r ON r.name = ri.repository WHERE ri.digest = $1",
        )
        .bind(digest)
        .fetch_one(&mut *w.tx)
        .await?;
        Ok(row.try_get("project")?)
    }

    /// Sets an image's labels and annotations; [`crate::MetadataError::Conflict`] when
    /// `expected_version` is given and not the current one.
    pub async fn update_image_metadata(
        &self,
        digest: &str,
        expected_version: Option<i64>,
        labels: &str,
        annotations: &str,
    ) -> Result<()> {
        let mut w = self.write().await?;
        let lock = w.for_no_key_update();
        let row = sqlx::query(&format!(
            "SELECT resource_version FROM images WHERE digest = $1{lock}"
        ))
        .bind(digest)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| crate::MetadataError::NotFound(format!("image {digest}")))?;
        let version: i64 = row.try_get("resource_version")?;
        if expected_version.is_some_and(|v| v != version) {
            return Err(crate::MetadataError::Conflict(format!("image {digest}")));
        }
        sqlx::query("UPDATE images SET labels = $1, object_annotations = $2 WHERE digest = $3")
            .bind(labels)
            .bind(annotations)
            .bind(digest)
            .execute(&mut *w.tx)
            .await?;
        let project = Self::image_project(&mut w, digest)
            .await?
            .unwrap_or_default();
        w.image_changed(&project, digest, crate::ChangeKind::Modified);
        w.commit().await
    }

    /// Removes image `digest` from every stream holding it, with the tags pointing at it (the
    /// Image object's delete). The manifest's bytes stay until pruning. False when no stream
    /// held it.
    pub async fn delete_image_everywhere(&self, digest: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let holders = sqlx::query(
            "SELECT DISTINCT r.project AS project FROM repository_images ri \
             JOIN repositories r ON r.name = ri.repository WHERE ri.digest = $1",
        )
        .bind(digest)
        .fetch_all(&mut *w.tx)
        .await?;
        if holders.is_empty() {
            return Ok(false);
        }
        for h in &holders {
            let project: String = h.try_get("project")?;
            w.image_changed(&project, digest, crate::ChangeKind::Deleted);
        }
        let tagged = sqlx::query("SELECT DISTINCT repository FROM tags WHERE digest = $1")
            .bind(digest)
            .fetch_all(&mut *w.tx)
            .await?;
        for row in &tagged {
            let repository: String = row.try_get("repository")?;
            w.stream_changed(&repository, crate::ChangeKind::Modified);
        }
        sqlx::query("DELETE FROM tags WHERE digest = $1")
            .bind(digest)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM repository_images WHERE digest = $1")
            .bind(digest)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(true)
    }
}
