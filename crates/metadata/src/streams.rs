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
    pub uid: String,
    /// The number of the stream's last change.
    pub resource_version: i64,
    /// Bumped on each change of the spec.
    pub generation: i64,
    /// JSON objects of strings.
    pub labels: String,
    pub annotations: String,
    /// The spec as last written (JSON).
    pub spec: String,
    /// Status conditions per tag: a JSON object of tag → array of conditions.
    pub conditions: String,
}

const STREAM_COLUMNS: &str = "name, project, created_at, uid, resource_version, generation, \
     labels, annotations, spec, conditions";

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
    pub uid: String,
    pub resource_version: i64,
    /// The Image object's labels and annotations (JSON objects).
    pub labels: String,
    pub object_annotations: String,
}

fn stream_row(r: &AnyRow) -> Result<StreamRow> {
    Ok(StreamRow {
        repository: r.try_get("name")?,
        project: r.try_get("project")?,
        created_at: r.try_get("created_at")?,
        uid: r.try_get("uid")?,
        resource_version: r.try_get("resource_version")?,
        generation: r.try_get("generation")?,
        labels: r.try_get("labels")?,
        annotations: r.try_get("annotations")?,
        spec: r.try_get("spec")?,
        conditions: r.try_get("conditions")?,
    })
}

const IMAGE_COLUMNS: &str = "digest, media_type, size, content, config_digest, created_at, uid, \
     resource_version, labels, object_annotations";

fn image_detail_row(r: &AnyRow) -> Result<ImageDetailRow> {
    Ok(ImageDetailRow {
        digest: r.try_get("digest")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        content: r.try_get("content")?,
        config_digest: r.try_get("config_digest")?,
        created_at: r.try_get("created_at")?,
        uid: r.try_get("uid")?,
        resource_version: r.try_get("resource_version")?,
        labels: r.try_get("labels")?,
        object_annotations: r.try_get("object_annotations")?,
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
        let rows = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM repositories WHERE project = $1 AND name > $2 \
             ORDER BY name LIMIT $3"
        ))
        .bind(project)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stream_row).collect()
    }

    pub async fn image_stream(&self, repository: &str) -> Result<Option<StreamRow>> {
        let row = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM repositories WHERE name = $1"
        ))
        .bind(repository)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stream_row).transpose()
    }

    /// The current tags of a stream, each with its whole history newest first.
    pub async fn stream_tags(&self, repository: &str) -> Result<Vec<StreamTag>> {
        self.stream_tags_at(repository, None).await
    }

    /// [`Metadata::stream_tags`] as of change number `change` (its revisions made by that change
    /// or before), or now when `None`.
    pub async fn stream_tags_at(
        &self,
        repository: &str,
        change: Option<i64>,
    ) -> Result<Vec<StreamTag>> {
        let base = "SELECT e.tag AS tag, e.generation AS generation, e.digest AS digest, e.created_at AS created_at \
             FROM tag_events e JOIN tags t ON t.repository = e.repository AND t.name = e.tag \
             WHERE e.repository = $1";
        let rows = match change {
            None => {
                sqlx::query(&format!("{base} ORDER BY e.tag, e.generation DESC"))
                    .bind(repository)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(seq) => {
                sqlx::query(&format!(
                    "{base} AND (e.change_seq IS NULL OR e.change_seq <= $2) \
                     ORDER BY e.tag, e.generation DESC"
                ))
                .bind(repository)
                .bind(seq)
                .fetch_all(&self.pool)
                .await?
            }
        };
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
        let rows = self
            .page_in_projects(
                &format!("SELECT {IMAGE_COLUMNS} FROM images WHERE digest > $1"),
                "digest IN (SELECT ri.digest FROM repository_images ri \
                 JOIN repositories r ON r.name = ri.repository WHERE r.project IN ({projects}))",
                "digest",
                projects,
                after,
                limit,
            )
            .await?;
        rows.iter().map(image_detail_row).collect()
    }
}

impl Metadata {
    /// Runs `select` (which binds `after` as `$1`) for one page in `order`, limited to
    /// `projects` when given through `within` (whose `{projects}` becomes their placeholders).
    async fn page_in_projects(
        &self,
        select: &str,
        within: &str,
        order: &str,
        projects: Option<&[String]>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<AnyRow>> {
        let filter = match projects {
            None => String::new(),
            Some([]) => return Ok(Vec::new()),
            Some(p) => format!(
                " AND {}",
                within.replace("{projects}", &placeholders(3, p.len()))
            ),
        };
        let sql = format!("{select}{filter} ORDER BY {order} LIMIT $2");
        let mut q = sqlx::query(&sql).bind(after).bind(limit);
        for name in projects.unwrap_or_default() {
            q = q.bind(name.as_str());
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// A page of the image streams of every project in `projects` (all when `None`), in
    /// `<project>/<name>` order after `after`.
    pub async fn image_streams_in(
        &self,
        projects: Option<&[String]>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<StreamRow>> {
        let rows = self
            .page_in_projects(
                &format!("SELECT {STREAM_COLUMNS} FROM repositories WHERE name > $1"),
                "project IN ({projects})",
                "name",
                projects,
                after,
                limit,
            )
            .await?;
        rows.iter().map(stream_row).collect()
    }

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
        w.commit().await?;
        self.image_stream(repository)
            .await?
            .ok_or_else(|| crate::MetadataError::NotFound(format!("imagestream {repository}")))
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
        let lock = match w.dialect {
            crate::Dialect::Postgres => " FOR NO KEY UPDATE",
            crate::Dialect::Sqlite => "",
        };
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
        let lock = match w.dialect {
            crate::Dialect::Postgres => " FOR NO KEY UPDATE",
            crate::Dialect::Sqlite => "",
        };
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
