//! Tags and their history.

use sqlx::Row;

use crate::{now_millis, Metadata, MetadataError, Result, WriteTx};

/// One revision of a tag's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEvent {
    pub generation: i64,
    pub digest: String,
    pub created_at: i64,
}

/// Points `tag` at `digest`. A new digest adds a revision to the tag's history; the same digest
/// again changes nothing. On PostgreSQL the tag's row is locked so that concurrent pushes of one
/// tag leave one consistent history.
pub(crate) async fn set_tag(
    w: &mut WriteTx,
    repository: &str,
    tag: &str,
    digest: &str,
    now: i64,
) -> Result<()> {
    let created = sqlx::query(
        "INSERT INTO tags (repository, name, digest, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (repository, name) DO NOTHING",
    )
    .bind(repository)
    .bind(tag)
    .bind(digest)
    .bind(now)
    .execute(&mut *w.tx)
    .await?
    .rows_affected()
        > 0;
    if !created {
        let lock = match w.dialect {
            crate::Dialect::Postgres => " FOR UPDATE",
            crate::Dialect::Sqlite => "",
        };
        let sql = format!("SELECT digest FROM tags WHERE repository = $1 AND name = $2{lock}");
        let current: String = sqlx::query(&sql)
            .bind(repository)
            .bind(tag)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("digest")?;
        if current == digest {
            return Ok(());
        }
        sqlx::query(
            "UPDATE tags SET digest = $1, updated_at = $2 WHERE repository = $3 AND name = $4",
        )
        .bind(digest)
        .bind(now)
        .bind(repository)
        .bind(tag)
        .execute(&mut *w.tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO tag_events (repository, tag, generation, digest, created_at) \
         SELECT $1, $2, COALESCE(MAX(generation), 0) + 1, $3, $4 FROM tag_events \
         WHERE repository = $1 AND tag = $2",
    )
    .bind(repository)
    .bind(tag)
    .bind(digest)
    .bind(now)
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

impl Metadata {
    /// One page of the tags of `repository` in lexical order, after `last`.
    pub async fn list_tags(
        &self,
        repository: &str,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let sql = self.joined_names(
            "SELECT name FROM tags WHERE repository = $1 AND name > $2 ORDER BY name LIMIT $3",
        );
        let query = sqlx::query(&sql)
            .bind(repository)
            .bind(last.unwrap_or(""))
            .bind(limit);
        self.fetch_names(query).await
    }

    /// Points `tag` at an image `repository` already holds.
    pub async fn tag_image(&self, repository: &str, tag: &str, digest: &str) -> Result<()> {
        let mut w = self.write().await?;
        set_tag(&mut w, repository, tag, digest, now_millis()).await?;
        w.commit().await
    }

    /// Removes `tag`; returns whether it existed. Its history stays.
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM tags WHERE repository = $1 AND name = $2")
            .bind(repository)
            .bind(tag)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The history of `tag`, newest first.
    pub async fn tag_history(&self, repository: &str, tag: &str) -> Result<Vec<TagEvent>> {
        let rows = sqlx::query(
            "SELECT generation, digest, created_at FROM tag_events WHERE repository = $1 AND tag = $2 \
             ORDER BY generation DESC",
        )
        .bind(repository)
        .bind(tag)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TagEvent {
                    generation: r.try_get("generation")?,
                    digest: r.try_get("digest")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

impl Metadata {
    /// Points `tag` of `destination` at image `digest` of `source` (they may be the same
    /// stream): the image, its blobs and its child manifests are linked into `destination`
    /// first, in the same transaction, so the tag never names content its repository cannot
    /// serve. A new digest adds a revision to the tag's history. [`MetadataError::NotFound`]
    /// when `source` does not hold the image.
    pub async fn tag_from(
        &self,
        source: &str,
        digest: &str,
        destination: &str,
        tag: &str,
    ) -> Result<()> {
        let mut w = self.write().await?;
        let lock = w.for_share();
        let now = now_millis();
        crate::repositories::ensure_repository(&mut w.tx, destination, self.creates_projects)
            .await?;
        let mut queue = vec![digest.to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(image) = queue.pop() {
            if !seen.insert(image.clone()) {
                continue;
            }
            let held = sqlx::query(&format!(
                "SELECT digest FROM repository_images WHERE repository = $1 AND digest = $2{lock}"
            ))
            .bind(source)
            .bind(&image)
            .fetch_optional(&mut *w.tx)
            .await?;
            if held.is_none() {
                return Err(MetadataError::NotFound(format!(
                    "image {image} in {source}"
                )));
            }
            let refs = sqlx::query("SELECT target, kind FROM image_references WHERE image = $1")
                .bind(&image)
                .fetch_all(&mut *w.tx)
                .await?;
            for r in &refs {
                let target: String = r.try_get("target")?;
                let kind: String = r.try_get("kind")?;
                if kind == "manifest" {
                    queue.push(target);
                    continue;
                }
                sqlx::query(
                    "INSERT INTO repository_blobs (repository, digest, created_at) \
                     SELECT $1, digest, $3 FROM repository_blobs WHERE repository = $2 AND digest = $4 \
                     ON CONFLICT (repository, digest) DO NOTHING",
                )
                .bind(destination)
                .bind(source)
                .bind(now)
                .bind(&target)
                .execute(&mut *w.tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO repository_images (repository, digest, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (repository, digest) DO NOTHING",
            )
            .bind(destination)
            .bind(&image)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        }
        set_tag(&mut w, destination, tag, digest, now).await?;
        w.commit().await
    }
}
