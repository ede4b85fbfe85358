//! Blobs and their per-repository links.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::repositories::ensure_repository;
use crate::{now_millis, Metadata, MetadataError, Result};

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    pub digest: String,
    pub size: i64,
    pub object_key: String,
}

/// What happened when a verified upload was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCommit {
    /// The blob as stored: when it was already known, its existing key.
    pub blob: BlobRow,
    /// False when the blob was already stored; the new copy is then redundant.
    pub inserted: bool,
}

fn blob_row(row: &AnyRow) -> Result<BlobRow> {
    Ok(BlobRow {
        digest: row.try_get("digest")?,
        size: row.try_get("size")?,
        object_key: row.try_get("object_key")?,
    })
}

const SELECT_LINKED: &str = "SELECT b.digest, b.size, b.object_key FROM repository_blobs l \
     JOIN blobs b ON b.digest = l.digest WHERE l.repository = $1 AND l.digest = $2";

impl Metadata {
    /// The blob `digest` if it is stored, in any repository.
    pub async fn blob(&self, digest: &str) -> Result<Option<BlobRow>> {
        let row = sqlx::query("SELECT digest, size, object_key FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(blob_row).transpose()
    }

    /// The blob `digest` if `repository` may serve it.
    pub async fn blob_in_repository(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Option<BlobRow>> {
        let row = sqlx::query(SELECT_LINKED)
            .bind(repository)
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(blob_row).transpose()
    }

    /// Records a verified upload as blob `digest` linked to `repository`, and ends the upload,
    /// in one transaction.
    pub async fn commit_blob(
        &self,
        upload_id: &str,
        repository: &str,
        digest: &str,
        size: i64,
        object_key: &str,
        notifications: &[crate::NewNotification],
    ) -> Result<BlobCommit> {
        let mut w = self.write().await?;
        // The session ends first: if it is gone (purged, cancelled, or finished by a racing
        // request), nothing is recorded, so no blob row can point at chunks being deleted.
        let ended = sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(upload_id)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if ended != 1 {
            return Err(MetadataError::UploadGone);
        }
        let now = now_millis();
        let inserted = sqlx::query(
            "INSERT INTO blobs (digest, size, object_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest)
        .bind(size)
        .bind(object_key)
        .bind(now)
        .execute(&mut *w.tx)
        .await?
        .rows_affected()
            > 0;
        let row = sqlx::query("SELECT digest, size, object_key FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_one(&mut *w.tx)
            .await?;
        let blob = blob_row(&row)?;
        ensure_repository(&mut w, repository, self.creates_projects).await?;
        link(&mut w.tx, repository, digest, now).await?;
        crate::outbox::insert(&mut w, notifications).await?;
        w.commit().await?;
        Ok(BlobCommit { blob, inserted })
    }

    /// Links blob `digest` from `from` into `repository`, if `from` holds it.
    pub async fn mount_blob(
        &self,
        repository: &str,
        from: &str,
        digest: &str,
        notifications: &[crate::NewNotification],
    ) -> Result<Option<BlobRow>> {
        let mut w = self.write().await?;
        let sql = format!("{SELECT_LINKED}{}", w.for_share());
        let row = sqlx::query(&sql)
            .bind(from)
            .bind(digest)
            .fetch_optional(&mut *w.tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let blob = blob_row(&row)?;
        ensure_repository(&mut w, repository, self.creates_projects).await?;
        link(&mut w.tx, repository, digest, now_millis()).await?;
        crate::outbox::insert(&mut w, notifications).await?;
        w.commit().await?;
        Ok(Some(blob))
    }

    /// Removes blob `digest` from `repository`; returns whether it was linked. The bytes stay
    /// until pruning finds no repository and no image using them.
    pub async fn unlink_blob(
        &self,
        repository: &str,
        digest: &str,
        notifications: &[crate::NewNotification],
    ) -> Result<bool> {
        let mut w = self.write().await?;
        let done =
            sqlx::query("DELETE FROM repository_blobs WHERE repository = $1 AND digest = $2")
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
}

async fn link(
    conn: &mut sqlx::AnyConnection,
    repository: &str,
    digest: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO repository_blobs (repository, digest, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (repository, digest) DO NOTHING",
    )
    .bind(repository)
    .bind(digest)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
