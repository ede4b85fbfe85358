//! Reading and deleting blobs of a repository.

use berth_oci::{Digest, RepoName};
use berth_storage::ByteStream;
use bytes::Bytes;
use futures::StreamExt;

use crate::{Registry, RegistryError};

/// A blob a repository may serve.
#[derive(Debug, Clone)]
pub enum BlobContent {
    /// Bytes in the object store.
    Stored { size: u64, key: String },
    /// A manifest of the repository asked for through the blob endpoint.
    Manifest(Bytes),
}

impl BlobContent {
    pub fn size(&self) -> u64 {
        match self {
            BlobContent::Stored { size, .. } => *size,
            BlobContent::Manifest(b) => b.len() as u64,
        }
    }
}

/// A byte range as a client asks for it: `a-b`, `a-` or `-n` (the last n bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: Option<u64>,
    pub end: Option<u64>,
}

impl ByteRange {
    /// The first byte and the length this range selects in a blob of `size` bytes.
    pub fn resolve(self, size: u64) -> Result<(u64, u64), RegistryError> {
        let unsatisfiable = RegistryError::RangeNotSatisfiable { size };
        let (start, end) = match (self.start, self.end) {
            (Some(s), Some(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
            (Some(s), None) => (s, size.saturating_sub(1)),
            (None, Some(n)) if n > 0 => (size.saturating_sub(n), size.saturating_sub(1)),
            _ => return Err(unsatisfiable),
        };
        if size == 0 || start >= size {
            return Err(unsatisfiable);
        }
        Ok((start, end + 1 - start))
    }
}

impl Registry {
    /// The blob `digest` if `repo` may serve it.
    pub async fn blob(
        &self,
        repo: &RepoName,
        digest: &Digest,
    ) -> Result<BlobContent, RegistryError> {
        let d = digest.to_string();
        if let Some(row) = self
            .inner
            .meta
            .blob_in_repository(repo.as_str(), &d)
            .await?
        {
            return Ok(BlobContent::Stored {
                size: row.size as u64,
                key: row.object_key,
            });
        }
        match self
            .inner
            .meta
            .image_in_repository(repo.as_str(), &d)
            .await?
        {
            Some(image) => Ok(BlobContent::Manifest(Bytes::from(image.content))),
            None => Err(RegistryError::BlobUnknown),
        }
    }

    /// Streams `len` bytes of `content` from `start`.
    /// With `storage.redirect` on a cloud store: a short-lived signed URL from which the client
    /// reads the blob directly; `None` when the registry serves the bytes itself.
    pub async fn blob_redirect(
        &self,
        content: &BlobContent,
    ) -> Result<Option<String>, RegistryError> {
        match content {
            BlobContent::Stored { key, .. } => Ok(self
                .inner
                .store
                .redirect_url(key, std::time::Duration::from_secs(20 * 60))
                .await?),
            BlobContent::Manifest(_) => Ok(None),
        }
    }

    pub async fn read_blob(
        &self,
        content: &BlobContent,
        start: u64,
        len: u64,
    ) -> Result<ByteStream, RegistryError> {
        match content {
            BlobContent::Stored { key, .. } => Ok(self.inner.store.read(key, start, len).await?),
            BlobContent::Manifest(bytes) => {
                let slice = bytes.slice(start as usize..(start + len) as usize);
                Ok(futures::stream::once(async move { Ok(slice) }).boxed())
            }
        }
    }

    /// Removes blob `digest` from `repo`. Its bytes stay until pruning.
    pub async fn delete_blob(
        &self,
        repo: &RepoName,
        digest: &Digest,
        origin: &crate::Origin,
    ) -> Result<(), RegistryError> {
        self.check_writable()?;
        let d = digest.to_string();
        let target = crate::Target {
            repository: repo.as_str(),
            digest: Some(&d),
            kind: "blobs",
            ..crate::Target::default()
        };
        let events = self
            .inner
            .notifier
            .events(origin, crate::Action::Delete, &target);
        if self
            .inner
            .meta
            .unlink_blob(repo.as_str(), &d, &events)
            .await?
        {
            Ok(())
        } else {
            Err(RegistryError::BlobUnknown)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: Option<u64>, end: Option<u64>) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn ranges_resolve_like_http() {
        assert_eq!(r(Some(0), Some(9)).resolve(100).unwrap(), (0, 10));
        assert_eq!(r(Some(90), None).resolve(100).unwrap(), (90, 10));
        assert_eq!(r(None, Some(5)).resolve(100).unwrap(), (95, 5));
        assert_eq!(r(Some(50), Some(500)).resolve(100).unwrap(), (50, 50));
        assert!(r(Some(100), None).resolve(100).is_err());
        assert!(r(Some(5), Some(4)).resolve(100).is_err());
        assert!(r(None, Some(0)).resolve(100).is_err());
        assert!(r(Some(0), None).resolve(0).is_err());
    }
}
