//! The registry domain's errors. Each maps to one OCI error code and HTTP status at the edge.

use berth_metadata::MetadataError;
use berth_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("blob unknown to registry")]
    BlobUnknown,
    #[error("blob upload unknown to registry")]
    BlobUploadUnknown,
    #[error("blob upload invalid: {0}")]
    BlobUploadInvalid(String),
    #[error("provided digest did not match uploaded content: {0}")]
    DigestInvalid(String),
    #[error("manifest references blobs or manifests unknown to this repository: {}", .0.join(", "))]
    ManifestBlobUnknown(Vec<String>),
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    #[error("manifest is larger than the {limit} bytes this registry accepts")]
    ManifestTooLarge { limit: usize },
    #[error("manifest unknown to registry")]
    ManifestUnknown,
    #[error("repository name not known to registry")]
    NameUnknown,
    #[error("invalid name or reference: {0}")]
    NameInvalid(String),
    #[error("{0}")]
    SizeInvalid(String),
    /// A chunk that does not start where the upload ends; `offset` is the upload's size.
    #[error("chunk out of order: the upload has {offset} bytes")]
    ChunkOutOfOrder { offset: u64 },
    #[error("requested range is not satisfiable for a blob of {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("{0}")]
    Unsupported(String),
    #[error("the registry is in read-only mode: pushes and deletes are refused")]
    ReadOnly,
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A push into a project that does not exist, where pushes do not create projects.
    #[error("project {0} does not exist: create it first (berth new-project {0})")]
    ProjectUnknown(String),
    #[error(transparent)]
    Metadata(MetadataError),
}

impl From<MetadataError> for RegistryError {
    fn from(e: MetadataError) -> RegistryError {
        match e {
            MetadataError::ProjectUnknown(p) => RegistryError::ProjectUnknown(p),
            MetadataError::UploadGone => RegistryError::BlobUploadUnknown,
            other => RegistryError::Metadata(other),
        }
    }
}
