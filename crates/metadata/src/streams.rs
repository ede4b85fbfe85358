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
}
