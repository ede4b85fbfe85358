//! Blob storage for Berth, over the `object_store` crate so that the filesystem, memory, S3, GCS
//! and Azure are one interface. Nothing above this crate knows which backend is in use.
//!
//! Storage layout (keys below the store's root):
//!
//! ```text
//! uploads/<upload-id>/<offset>-<nonce>      one object per chunk of an upload in progress
//!                                           (offset: 20 digits; a new nonce for every write)
//! blobs/<algorithm>/<first two hex>/<hex>   a verified blob that was composed of several chunks,
//!                                           or promoted from a single chunk by a cheap rename
//! ```
//!
//! A blob's bytes can live under either prefix: the metadata store maps each digest to the key
//! that holds it, so a verified single-chunk upload is never copied on backends where renaming
//! means copying (§13 of the spec). Objects are only ever written whole (multipart uploads that
//! complete atomically), so a reader never sees a partial object.

mod azure_container;
mod cloud;
mod keys;
mod local_read;
mod store;

pub use cloud::{AzureSettings, CloudError, GcsSettings, S3Settings};
pub use keys::{blob_key, upload_prefix};
pub use store::{BlobStore, ByteStream, Part, StorageError};
