//! Upload sessions: start, append chunks, report progress, finish with a digest, cancel, mount.
//!
//! Chunks are stored as separate objects (see `berth-storage`), so an upload survives a restart
//! and can continue on any replica; the upload's existence is a row in the metadata store.
//! A blob becomes visible only in `finish`, after the digest of the stored bytes was verified.

use berth_oci::{Algorithm, Digest, Hasher, RepoName};
use berth_storage::{Part, StorageError};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::{Registry, RegistryError};

/// Where an upload stands: its signed reference and how many bytes it holds.
#[derive(Debug, Clone)]
pub struct UploadProgress {
    pub reference: String,
    pub offset: u64,
}

struct Session {
    id: String,
    parts: Vec<Part>,
    offset: u64,
}

impl Session {
    fn part_keys(&self) -> Vec<String> {
        self.parts.iter().map(|p| p.key.to_string()).collect()
    }
}

impl Registry {
    /// Starts an upload session in `repo`.
    pub async fn start_upload(&self, repo: &RepoName) -> Result<UploadProgress, RegistryError> {
        self.check_writable()?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let issued = berth_metadata::now_millis();
        self.inner.meta.create_upload(&id, repo.as_str()).await?;
        Ok(UploadProgress {
            reference: self.inner.tokens.sign(repo.as_str(), &id, issued),
            offset: 0,
        })
    }

    async fn session(&self, repo: &RepoName, reference: &str) -> Result<Session, RegistryError> {
        let token = self
            .inner
            .tokens
            .verify(repo.as_str(), reference)
            .ok_or(RegistryError::BlobUploadUnknown)?;
        if !self
            .inner
            .meta
            .upload_exists(&token.id, repo.as_str())
            .await?
        {
            return Err(RegistryError::BlobUploadUnknown);
        }
        let parts = self
            .inner
            .store
            .list_parts(&token.id)
            .await
            .map_err(|e| match e {
                // Stored chunks that do not follow each other: the upload cannot go on.
                StorageError::Io(m) => RegistryError::BlobUploadInvalid(m),
                // The store did not answer: try again later.
                other => RegistryError::Storage(other),
            })?;
        let offset = parts.iter().map(|p| p.size).sum();
        Ok(Session {
            id: token.id,
            parts,
            offset,
        })
    }

    /// How many bytes the upload holds.
    pub async fn upload_status(
        &self,
        repo: &RepoName,
        reference: &str,
    ) -> Result<UploadProgress, RegistryError> {
        let s = self.session(repo, reference).await?;
        Ok(UploadProgress {
            reference: reference.to_string(),
            offset: s.offset,
        })
    }

    /// The running sha256 of the session's first `offset` bytes: from the cache, or by reading
    /// the stored chunks again.
    async fn running_hash(
        &self,
        s: &Session,
        algorithm: Algorithm,
    ) -> Result<Hasher, RegistryError> {
        if algorithm == Algorithm::Sha256 {
            if let Some(h) = self.inner.hashes.take(&s.id, &s.part_keys()) {
                return Ok(h);
            }
        }
        let mut hasher = Hasher::new(algorithm);
        let mut data = self.inner.store.read_parts(s.parts.clone());
        while let Some(chunk) = data.next().await {
            hasher.update(&chunk?);
        }
        Ok(hasher)
    }

    /// Appends a chunk. With `range` (from `Content-Range`), the chunk must start where the
    /// upload ends and have exactly the announced length.
    pub async fn append_upload<S, E>(
        &self,
        repo: &RepoName,
        reference: &str,
        range: Option<(u64, u64)>,
        body: S,
    ) -> Result<UploadProgress, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        self.check_writable()?;
        let s = self.session(repo, reference).await?;
        let expected_len = match range {
            Some((start, end)) => {
                if start != s.offset {
                    return Err(RegistryError::ChunkOutOfOrder { offset: s.offset });
                }
                let len = end.checked_sub(start).and_then(|d| d.checked_add(1));
                Some(len.ok_or_else(|| {
                    RegistryError::SizeInvalid(format!(
                        "Content-Range {start}-{end} is not a valid range"
                    ))
                })?)
            }
            None => None,
        };
        let mut hasher = self.running_hash(&s, Algorithm::Sha256).await?;
        let part = self
            .inner
            .store
            .write_part(&s.id, s.offset, body, |b| hasher.update(b))
            .await
            .map_err(upload_write_error)?;
        let written = part.as_ref().map_or(0, |p| p.size);
        if let Some(expected) = expected_len {
            if written != expected {
                if let Some(p) = &part {
                    self.inner.store.delete(p.key.as_ref()).await?;
                }
                return Err(RegistryError::SizeInvalid(format!(
                    "Content-Range announced {expected} bytes but the body had {written}"
                )));
            }
        }
        let offset = s.offset + written;
        let mut keys = s.part_keys();
        keys.extend(part.map(|p| p.key.to_string()));
        self.inner.hashes.put(&s.id, keys, hasher);
        Ok(UploadProgress {
            reference: reference.to_string(),
            offset,
        })
    }

    /// Finishes an upload with its last chunk (possibly empty): verifies `digest` over all the
    /// stored bytes, then makes the blob visible in `repo`. A wrong digest ends the upload and
    /// leaves nothing behind.
    pub async fn finish_upload<S, E>(
        &self,
        repo: &RepoName,
        reference: &str,
        digest: &Digest,
        body: S,
        origin: &crate::Origin,
    ) -> Result<Digest, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        self.check_writable()?;
        let mut s = self.session(repo, reference).await?;
        let mut hasher = self.running_hash(&s, digest.algorithm()).await?;
        let part = self
            .inner
            .store
            .write_part(&s.id, s.offset, body, |b| hasher.update(b))
            .await
            .map_err(upload_write_error)?;
        if let Some(part) = part {
            s.offset += part.size;
            s.parts.push(part);
        }
        self.inner.hashes.forget(&s.id);
        let actual = hasher.finish();
        if &actual != digest {
            self.discard(&s.id).await?;
            return Err(RegistryError::DigestInvalid(format!(
                "the uploaded content has digest {actual}, not {digest}"
            )));
        }
        self.commit(repo, &s, digest, origin).await?;
        Ok(actual)
    }

    async fn commit(
        &self,
        repo: &RepoName,
        s: &Session,
        digest: &Digest,
        origin: &crate::Origin,
    ) -> Result<(), RegistryError> {
        let (store, meta) = (&self.inner.store, &self.inner.meta);
        let size = s.offset as i64;
        let d = digest.to_string();
        let events = self.inner.notifier.events(
            origin,
            crate::Action::Push,
            &crate::Target::blob(repo.as_str(), &d, size),
        );
        if let Some(existing) = meta.blob(&d).await? {
            meta.commit_blob(
                &s.id,
                repo.as_str(),
                &existing.digest,
                existing.size,
                &existing.object_key,
                &events,
            )
            .await?;
            store.delete_upload(&s.id).await?;
            return Ok(());
        }
        let key = store.promote(&s.id, s.parts.clone(), digest).await?;
        let done = meta
            .commit_blob(&s.id, repo.as_str(), &d, size, &key, &events)
            .await?;
        if !done.inserted && done.blob.object_key != key {
            // Another upload of the same content won the race; ours is redundant.
            store.delete(&key).await?;
        }
        Ok(())
    }

    async fn discard(&self, id: &str) -> Result<(), RegistryError> {
        self.inner.meta.delete_upload(id).await?;
        self.inner.store.delete_upload(id).await?;
        Ok(())
    }

    /// Cancels an upload and removes its data.
    pub async fn cancel_upload(
        &self,
        repo: &RepoName,
        reference: &str,
    ) -> Result<(), RegistryError> {
        self.check_writable()?;
        let s = self.session(repo, reference).await?;
        self.inner.hashes.forget(&s.id);
        self.discard(&s.id).await
    }

    /// Links blob `digest` of repository `from` into `repo`. `None` when `from` does not hold it
    /// (the caller then starts an ordinary upload).
    pub async fn mount_blob(
        &self,
        repo: &RepoName,
        from: &RepoName,
        digest: &Digest,
        origin: &crate::Origin,
    ) -> Result<Option<Digest>, RegistryError> {
        self.check_writable()?;
        let d = digest.to_string();
        let meta = &self.inner.meta;
        // The event needs the blob's size: read only when some endpoint listens.
        let blob = match self.inner.notifier.endpoints.is_empty() {
            true => None,
            false => meta.blob(&d).await?,
        };
        let events = match blob {
            Some(blob) => {
                let target = crate::Target {
                    from_repository: Some(from.as_str()),
                    ..crate::Target::blob(repo.as_str(), &d, blob.size)
                };
                self.inner
                    .notifier
                    .events(origin, crate::Action::Mount, &target)
            }
            None => Vec::new(),
        };
        let mounted = meta
            .mount_blob(repo.as_str(), from.as_str(), &d, &events)
            .await?;
        Ok(mounted.map(|_| digest.clone()))
    }
}

fn upload_write_error(e: StorageError) -> RegistryError {
    match e {
        StorageError::Body(msg) => {
            RegistryError::BlobUploadInvalid(format!("the upload body could not be read: {msg}"))
        }
        other => RegistryError::Storage(other),
    }
}
