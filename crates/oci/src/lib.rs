//! OCI protocol types for Berth: digests, repository names, tags and references, media types,
//! manifest parsing, and the registry error codes of the distribution specification.
//!
//! Everything here is pure: no I/O, no HTTP types. Each parser refuses what the specification
//! refuses, so a value of one of these types is always valid.

mod digest;
mod error;
mod manifest;
mod name;

pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use error::ErrorCode;
pub use manifest::{media, Descriptor, Manifest, ManifestError, ManifestKind, MAX_MANIFEST_BYTES};
pub use name::{NameError, Reference, RepoName, Tag};
