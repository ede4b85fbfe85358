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

/// How deep tags tracking tags tracking tags may go before Berth stops following.
const MAX_TRACKING_DEPTH: usize = 16;

/// Points `tag` at `digest`. A new digest adds a revision to the tag's history, marks the
/// stream modified, and moves the tags tracking this one (aliases) along; the same digest again
/// changes nothing. Returns whether the tag moved. On PostgreSQL the tag's row is locked so
/// that concurrent pushes of one tag leave one consistent history.
pub(crate) async fn set_tag(
    w: &mut WriteTx,
    repository: &str,
    tag: &str,
    digest: &str,
    now: i64,
) -> Result<bool> {
    if !move_tag(w, repository, tag, digest, now).await? {
        return Ok(false);
    }
    let mut moved = vec![(repository.to_string(), tag.to_string())];
    let mut queue = vec![(repository.to_string(), tag.to_string(), 0)];
    while let Some((source, source_tag, depth)) = queue.pop() {
        if depth >= MAX_TRACKING_DEPTH {
            continue;
        }
        let followers = sqlx::query(
            "SELECT repository, tag FROM tag_tracking WHERE source_repository = $1 AND source_tag = $2",
        )
        .bind(&source)
        .bind(&source_tag)
        .fetch_all(&mut *w.tx)
        .await?;
        for f in followers {
            let repo: String = f.try_get("repository")?;
            let t: String = f.try_get("tag")?;
            if moved.contains(&(repo.clone(), t.clone())) {
                continue;
            }
            link_image(w, &source, digest, &repo, now).await?;
            if move_tag(w, &repo, &t, digest, now).await? {
                moved.push((repo.clone(), t.clone()));
                queue.push((repo, t, depth + 1));
            }
        }
    }
    Ok(true)
}

/// Points one tag at `digest` and records the revision; returns whether it moved.
async fn move_tag(
    w: &mut WriteTx,
    repository: &str,
    tag: &str,
    digest: &str,
    now: i64,
) -> Result<bool> {
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
        let lock = w.for_update();
        let sql = format!("SELECT digest FROM tags WHERE repository = $1 AND name = $2{lock}");
        let current: String = sqlx::query(&sql)
            .bind(repository)
            .bind(tag)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("digest")?;
        if current == digest {
            return Ok(false);
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
    w.stream_changed(repository, crate::ChangeKind::Modified);
    crate::triggers::fire(w, repository, tag, digest).await?;
    Ok(true)
}

/// Links image `digest` of `source`, with its blobs and child manifests, into `destination`
/// (an existing repository), so that a tag there never names content it cannot serve.
/// [`MetadataError::NotFound`] when `source` does not hold the image.
pub(crate) async fn link_image(
    w: &mut WriteTx,
    source: &str,
    digest: &str,
    destination: &str,
    now: i64,
) -> Result<()> {
    if source == destination {
        let held = sqlx::query(
            "SELECT digest FROM repository_images WHERE repository = $1 AND digest = $2",
        )
        .bind(source)
        .bind(digest)
        .fetch_optional(&mut *w.tx)
        .await?;
        return match held {
            Some(_) => Ok(()),
            None => Err(MetadataError::NotFound(format!(
                "image {digest} in {source}"
            ))),
        };
    }
    let lock = w.for_share();
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
        let linked = sqlx::query(
            "INSERT INTO repository_images (repository, digest, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (repository, digest) DO NOTHING",
        )
        .bind(destination)
        .bind(&image)
        .bind(now)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if linked > 0 {
            let project = destination.split('/').next().unwrap_or(destination);
            w.image_added(project, &image);
        }
    }
    Ok(())
}

/// Removes `tag` of `repository` and what it tracked; returns whether the tag existed.
pub(crate) async fn remove_tag(w: &mut WriteTx, repository: &str, tag: &str) -> Result<bool> {
    sqlx::query("DELETE FROM tag_tracking WHERE repository = $1 AND tag = $2")
        .bind(repository)
        .bind(tag)
        .execute(&mut *w.tx)
        .await?;
    let done = sqlx::query("DELETE FROM tags WHERE repository = $1 AND name = $2")
        .bind(repository)
        .bind(tag)
        .execute(&mut *w.tx)
        .await?;
    let existed = done.rows_affected() > 0;
    if existed {
        w.stream_changed(repository, crate::ChangeKind::Modified);
    }
    Ok(existed)
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
    pub async fn delete_tag(
        &self,
        repository: &str,
        tag: &str,
        notifications: &[crate::NewNotification],
    ) -> Result<bool> {
        let mut w = self.write().await?;
        let existed = remove_tag(&mut w, repository, tag).await?;
        if existed {
            crate::outbox::insert(&mut w, notifications).await?;
        }
        w.commit().await?;
        Ok(existed)
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
    /// Links image `digest` of `source` into `destination` and, when `tag` is given, points
    /// that tag of `destination` at it (they may be the same
    /// stream): the image, its blobs and its child manifests are linked into `destination`
    /// first, in the same transaction, so the tag never names content its repository cannot
    /// serve. A new digest adds a revision to the tag's history. [`MetadataError::NotFound`]
    /// when `source` does not hold the image.
    pub async fn tag_from(
        &self,
        source: &str,
        digest: &str,
        destination: &str,
        tag: Option<&str>,
    ) -> Result<()> {
        let mut w = self.write().await?;
        let now = now_millis();
        crate::repositories::ensure_repository(&mut w, destination, self.creates_projects).await?;
        link_image(&mut w, source, digest, destination, now).await?;
        if let Some(tag) = tag {
            set_tag(&mut w, destination, tag, digest, now).await?;
        }
        w.commit().await
    }
}
