//! The registry domain: upload sessions, blobs, manifests, tags, catalog and referrers, built on
//! `berth-storage` (bytes) and `berth-metadata` (what exists where). No HTTP here: the api crate
//! parses requests, calls a [`Registry`] method and maps [`RegistryError`] to a response.
//!
//! The invariants of SPEC §9 that live here:
//! - a blob becomes visible (a `blobs` row and a repository link) only after its digest was
//!   verified over the stored bytes and the object was completely written (`uploads.rs`);
//! - a manifest is recorded only in the same transaction that checks every blob and child
//!   manifest it names is linked to its repository (`manifests.rs`, `Metadata::put_image`);
//! - a repository serves only blobs and manifests linked to it (`blobs.rs`).

mod blobs;
mod error;
mod hash_cache;
mod images;
mod listing;
mod maintenance;
mod manifests;
mod notify;
mod upload_token;
mod uploads;

pub use blobs::{BlobContent, ByteRange};
pub use error::RegistryError;
pub use images::{ImageInfo, Layer};
pub use listing::Referrer;
pub use manifests::{PutManifest, StoredManifest};
pub use notify::{Action, EndpointFilter, Notifier, Origin, Target, ENVELOPE_MEDIA_TYPE};
pub use upload_token::UploadToken;
pub use uploads::UploadProgress;

use berth_metadata::Metadata;
use berth_storage::BlobStore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The registry service shared by every request handler.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    store: BlobStore,
    meta: Metadata,
    tokens: upload_token::UploadSigner,
    hashes: hash_cache::HashCache,
    read_only: AtomicBool,
    notifier: Notifier,
}

impl Registry {
    /// A registry over `store` and `meta`; upload URLs are signed with `http_secret`.
    pub fn new(store: BlobStore, meta: Metadata, http_secret: &[u8]) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                store,
                meta,
                tokens: upload_token::UploadSigner::new(http_secret),
                hashes: hash_cache::HashCache::default(),
                read_only: AtomicBool::new(false),
                notifier: Notifier::default(),
            }),
        }
    }

    /// The same registry, sending events to `notifier`'s endpoints. Call before sharing it.
    pub fn with_notifier(self, notifier: Notifier) -> Registry {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.notifier = notifier;
                Registry {
                    inner: Arc::new(inner),
                }
            }
            Err(inner) => {
                tracing::error!("the registry was shared before notifications were configured");
                Registry { inner }
            }
        }
    }

    pub fn notifier(&self) -> &Notifier {
        &self.inner.notifier
    }

    /// Records a pull (a manifest or blob GET) for the endpoints that want pulls; a failure
    /// to record is logged, not returned: the pull itself succeeded.
    pub async fn notify_pull(&self, origin: &Origin, target: &Target<'_>) {
        if !self.inner.notifier.wants(Action::Pull) {
            return;
        }
        let events = self.inner.notifier.events(origin, Action::Pull, target);
        if let Err(e) = self.inner.meta.enqueue_notifications(&events).await {
            tracing::warn!(error = %e, repository = target.repository, "could not record a pull event");
        }
    }

    pub fn metadata(&self) -> &Metadata {
        &self.inner.meta
    }

    pub fn storage(&self) -> &BlobStore {
        &self.inner.store
    }

    /// In read-only mode pushes and deletes are refused.
    pub fn set_read_only(&self, read_only: bool) {
        self.inner.read_only.store(read_only, Ordering::Relaxed);
    }

    pub fn is_read_only(&self) -> bool {
        self.inner.read_only.load(Ordering::Relaxed)
    }

    fn check_writable(&self) -> Result<(), RegistryError> {
        if self.is_read_only() {
            Err(RegistryError::ReadOnly)
        } else {
            Ok(())
        }
    }
}
