//! [`BlobStore`]: the one facade over `object_store` that the registry uses.

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use std::path::PathBuf;
use std::sync::Arc;

use crate::keys::{blob_key, part_offset, upload_part_key, upload_prefix};

/// A stream of blob bytes.
pub type ByteStream = BoxStream<'static, Result<Bytes, StorageError>>;

/// Size of the pieces an upload is written in (also S3's minimum multipart part size).
const WRITE_CHUNK: usize = 5 * 1024 * 1024;
/// Pieces of one upload being written at the same time.
const WRITE_CONCURRENCY: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object {0} not found in storage")]
    NotFound(String),
    #[error("storage backend failed: {0}")]
    Backend(#[source] object_store::Error),
    #[error("storage I/O failed: {0}")]
    Io(String),
    /// The data the client sent could not be read (the connection broke, the body was cut).
    #[error("reading the request body failed: {0}")]
    Body(String),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => StorageError::NotFound(path),
            other => StorageError::Backend(other),
        }
    }
}

/// One stored chunk of an upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub offset: u64,
    pub size: u64,
    pub key: Path,
}

/// Blob storage over any `object_store` backend.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Cloud stores can sign URLs that let a client read an object directly.
    signer: Option<Arc<dyn object_store::signer::Signer>>,
    /// Whether blob reads are answered with a redirect to a signed URL.
    redirect: bool,
    /// Set for the filesystem backend: enables large-chunk reads and cheap promotion by rename.
    local_root: Option<PathBuf>,
    backend: &'static str,
}

impl BlobStore {
    /// Blobs in a directory on the local filesystem (created when missing).
    pub fn filesystem(root: impl Into<PathBuf>) -> Result<BlobStore, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| StorageError::Io(format!("creating {}: {e}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(|e| StorageError::Io(format!("resolving {}: {e}", root.display())))?;
        let store = LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true);
        Ok(BlobStore {
            store: Arc::new(store),
            signer: None,
            redirect: false,
            local_root: Some(root),
            backend: "filesystem",
        })
    }

    /// Blobs in memory, lost when the process ends (`emptyDir`).
    pub fn memory() -> BlobStore {
        BlobStore {
            store: Arc::new(InMemory::new()),
            signer: None,
            redirect: false,
            local_root: None,
            backend: "emptyDir",
        }
    }

    /// Any other `object_store` backend.
    pub fn from_object_store(store: Arc<dyn ObjectStore>, backend: &'static str) -> BlobStore {
        BlobStore {
            store,
            signer: None,
            redirect: false,
            local_root: None,
            backend,
        }
    }

    /// A cloud store that can also sign URLs for direct reads.
    pub(crate) fn with_signer(
        mut self,
        signer: Arc<dyn object_store::signer::Signer>,
    ) -> BlobStore {
        self.signer = Some(signer);
        self
    }

    /// Answers blob reads with redirects to signed URLs (`storage.redirect`). False when the
    /// backend cannot sign URLs.
    pub fn set_redirect(&mut self, on: bool) -> bool {
        self.redirect = on && self.signer.is_some();
        self.redirect == on
    }

    /// A short-lived signed URL to read the object `key` directly from the store, when
    /// redirects are on.
    pub async fn redirect_url(
        &self,
        key: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, StorageError> {
        match (&self.signer, self.redirect) {
            (Some(signer), true) => {
                let url = signer
                    .signed_url(http::Method::GET, &Path::from(key), ttl)
                    .await?;
                Ok(Some(url.to_string()))
            }
            _ => Ok(None),
        }
    }

    /// A short name of the backend, for logs.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Writes one chunk of an upload, starting at `offset`, streaming `body` to storage and
    /// showing every piece to `inspect` (used to hash while streaming). The chunk becomes
    /// visible only when all of it is stored; on any error nothing is left behind.
    /// Returns the part written, or `None` for an empty body (which writes nothing).
    pub async fn write_part<S, E>(
        &self,
        upload_id: &str,
        offset: u64,
        body: S,
        mut inspect: impl FnMut(&[u8]),
    ) -> Result<Option<Part>, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let mut body = std::pin::pin!(body);
        // Do not create an object for an empty body.
        let first = loop {
            match body.next().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(StorageError::Body(e.to_string())),
                Some(Ok(b)) if b.is_empty() => continue,
                Some(Ok(b)) => break b,
            }
        };
        let key = upload_part_key(upload_id, offset);
        let upload = self.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, WRITE_CHUNK);
        let mut written = 0u64;
        let mut next: Option<Result<Bytes, String>> = Some(Ok(first));
        while let Some(item) = next {
            let chunk = match item {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(StorageError::Body(e.to_string()));
                }
            };
            inspect(&chunk);
            written += chunk.len() as u64;
            if let Err(e) = writer.wait_for_capacity(WRITE_CONCURRENCY).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            writer.put(chunk);
            next = body.next().await.map(|r| r.map_err(|e| e.to_string()));
        }
        writer.finish().await?;
        Ok(Some(Part {
            offset,
            size: written,
            key,
        }))
    }

    /// The stored chunks of an upload, in order. Errors when they do not follow each other.
    pub async fn list_parts(&self, upload_id: &str) -> Result<Vec<Part>, StorageError> {
        let prefix = upload_prefix(upload_id);
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut parts: Vec<Part> = metas
            .into_iter()
            .filter_map(|m| {
                part_offset(&m.location).map(|offset| Part {
                    offset,
                    size: m.size,
                    key: m.location,
                })
            })
            .collect();
        parts.sort_by_key(|p| p.offset);
        let mut expected = 0;
        for p in &parts {
            if p.offset != expected {
                return Err(StorageError::Io(format!(
                    "upload {upload_id} has a gap or overlapping chunks at offset {expected} \
                     (concurrent writes to one upload?)"
                )));
            }
            expected += p.size;
        }
        Ok(parts)
    }

    /// Streams `len` bytes of the object at `key`, starting at `start`.
    pub async fn read(&self, key: &str, start: u64, len: u64) -> Result<ByteStream, StorageError> {
        if let Some(root) = &self.local_root {
            let path = root.join(key);
            if !path.is_file() {
                return Err(StorageError::NotFound(key.to_string()));
            }
            return Ok(crate::local_read::stream_file(path, start, len));
        }
        if len == 0 {
            return Ok(futures::stream::empty().boxed());
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(start..start + len)),
            ..Default::default()
        };
        let result = self.store.get_opts(&Path::from(key), options).await?;
        Ok(result.into_stream().map_err(StorageError::from).boxed())
    }

    /// Streams the parts of an upload one after another.
    pub fn read_parts(&self, parts: Vec<Part>) -> ByteStream {
        let this = self.clone();
        futures::stream::iter(parts)
            .then(move |p| {
                let this = this.clone();
                async move { this.read(p.key.as_ref(), 0, p.size).await }
            })
            .try_flatten()
            .boxed()
    }

    /// Makes the verified parts of an upload into the blob `digest` and returns the key that
    /// now holds it. One part on the filesystem is renamed (cheap and atomic); one part elsewhere
    /// stays where it is (renaming would copy); several parts are concatenated into the blob key.
    pub async fn promote(
        &self,
        upload_id: &str,
        parts: Vec<Part>,
        digest: &berth_oci::Digest,
    ) -> Result<String, StorageError> {
        let target = blob_key(digest);
        let composed = parts.len() > 1;
        match parts.len() {
            0 => {
                self.store.put(&target, PutPayload::default()).await?;
            }
            1 if self.local_root.is_none() => return Ok(parts[0].key.to_string()),
            1 => {
                self.store.rename(&parts[0].key, &target).await?;
            }
            _ => {
                let upload = self.store.put_multipart(&target).await?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, WRITE_CHUNK);
                let mut data = self.read_parts(parts);
                while let Some(chunk) = data.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = writer.abort().await;
                            return Err(e);
                        }
                    };
                    writer.wait_for_capacity(WRITE_CONCURRENCY).await?;
                    writer.put(chunk);
                }
                writer.finish().await?;
            }
        }
        self.sync_local(&target).await?;
        if composed {
            self.delete_upload(upload_id).await?;
        }
        Ok(target.to_string())
    }

    /// On the filesystem backend, flushes a blob's file and its directory to disk, so that an
    /// acknowledged blob survives a crash of the machine, not only of the process. Object
    /// stores acknowledge a completed put only once it is durable.
    async fn sync_local(&self, key: &Path) -> Result<(), StorageError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let path = root.join(key.as_ref());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&path)?.sync_all()?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| StorageError::Io(e.to_string()))?
        .map_err(|e| StorageError::Io(format!("syncing {key}: {e}")))
    }

    /// Checks that the backend answers (for readiness): a missing object is an answer.
    pub async fn ping(&self) -> Result<(), StorageError> {
        match self.store.head(&Path::from("_berth/ready")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StorageError::Backend(e)),
        }
    }

    /// Removes every stored chunk of an upload. Missing objects are not an error.
    pub async fn delete_upload(&self, upload_id: &str) -> Result<(), StorageError> {
        let prefix = upload_prefix(upload_id);
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        for m in metas {
            self.delete(m.location.as_ref()).await?;
        }
        Ok(())
    }

    /// Removes one object. A missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of the object at `key`.
    pub async fn size(&self, key: &str) -> Result<u64, StorageError> {
        Ok(self.store.head(&Path::from(key)).await?.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_oci::Digest;

    fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures::stream::iter(
            chunks
                .iter()
                .map(|c| Ok(Bytes::from_static(c)))
                .collect::<Vec<_>>(),
        )
    }

    async fn collect(s: ByteStream) -> Vec<u8> {
        s.try_fold(Vec::new(), |mut v, b| async move {
            v.extend_from_slice(&b);
            Ok(v)
        })
        .await
        .unwrap()
    }

    async fn round_trip(store: BlobStore) {
        let mut seen = Vec::new();
        let n = store
            .write_part("u1", 0, body(&[b"hello ", b"world"]), |b| {
                seen.extend_from_slice(b)
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.size, 11);
        assert_eq!(seen, b"hello world");
        store
            .write_part("u1", 11, body(&[b"!"]), |_| {})
            .await
            .unwrap();
        assert_eq!(
            store.write_part("u1", 12, body(&[]), |_| {}).await.unwrap(),
            None
        );
        let parts = store.list_parts("u1").await.unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], n);
        assert_eq!(
            collect(store.read_parts(parts.clone())).await,
            b"hello world!"
        );
        let digest = Digest::sha256(b"hello world!");
        let key = store.promote("u1", parts, &digest).await.unwrap();
        assert_eq!(
            collect(store.read(&key, 6, 5).await.unwrap()).await,
            b"world"
        );
        assert!(store.list_parts("u1").await.unwrap().is_empty());

        store
            .write_part("u2", 0, body(&[b"single"]), |_| {})
            .await
            .unwrap();
        let parts = store.list_parts("u2").await.unwrap();
        let key = store
            .promote("u2", parts, &Digest::sha256(b"single"))
            .await
            .unwrap();
        assert_eq!(store.size(&key).await.unwrap(), 6);
        assert!(matches!(
            store.read("blobs/nope", 0, 1).await.err(),
            Some(StorageError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn filesystem_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        round_trip(BlobStore::filesystem(dir.path()).unwrap()).await;
    }

    #[tokio::test]
    async fn memory_round_trip() {
        round_trip(BlobStore::memory()).await;
    }

    #[tokio::test]
    async fn racing_writes_of_one_chunk_are_an_overlap() {
        let store = BlobStore::memory();
        store
            .write_part("r", 0, body(&[b"aaaa"]), |_| {})
            .await
            .unwrap();
        store
            .write_part("r", 4, body(&[b"bbbb"]), |_| {})
            .await
            .unwrap();
        store
            .write_part("r", 4, body(&[b"cccc"]), |_| {})
            .await
            .unwrap();
        assert!(store.list_parts("r").await.is_err());
    }

    #[tokio::test]
    async fn broken_body_leaves_nothing() {
        let store = BlobStore::memory();
        let s = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(std::io::Error::other("cut")),
        ]);
        assert!(store.write_part("u", 0, s, |_| {}).await.is_err());
        assert!(store.list_parts("u").await.unwrap().is_empty());
    }
}
