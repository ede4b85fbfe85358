//! Berth's metadata store: one schema and one query layer over SQLite (the single binary) and
//! PostgreSQL (several replicas sharing state), through `sqlx`'s `Any` driver.
//!
//! Queries are written once, with `$1, $2, …` placeholders in ascending order (both engines
//! accept them). The schema lives in two migration directories, one per SQL dialect, kept in
//! lockstep (see `tests::both_dialects_define_the_same_tables`).
//!
//! Write transactions go through [`Metadata::write`]. On SQLite it also takes a process-wide
//! lock: SQLite has one writer at a time, and serialising writers here avoids the
//! "database is locked" failures of read-then-write transactions racing each other.

mod access;
mod blobs;
mod changes;
mod db;
mod images;
mod outbox;
mod projects;
mod repositories;
mod settings;
mod stream_writes;
mod streams;
mod tags;
mod triggers;
mod uploads;

pub use access::{ApiTokenRow, BindingRow, NewApiToken, ServiceAccountRow, UserRow};
pub use blobs::{BlobCommit, BlobRow};
pub use changes::{ChangeKind, ChangeRow, LogPosition, Resource};
pub use db::{Dialect, Metadata, WriteTx};
pub use images::{ImageRecord, ImageRow, ImageSummary, Reference, ReferenceKind};
pub use outbox::{NewNotification, NotificationRow};
pub use projects::ProjectRow;
pub use stream_writes::{SpecTagAction, StreamUpdate};
pub use streams::{ImageDetailRow, StreamRow, StreamTag};
pub use tags::TagEvent;
pub use triggers::{trigger_endpoint, TriggerRow};

/// Errors of the metadata layer.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A manifest names blobs or manifests its repository does not hold.
    #[error("manifest references content not in the repository: {0:?}")]
    MissingReferences(Vec<String>),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A push into a project that does not exist, with project creation on push off.
    #[error("project {0} does not exist")]
    ProjectUnknown(String),
    /// A resource that already exists was created again.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// A resource that does not exist was changed or deleted.
    #[error("{0} not found")]
    NotFound(String),
    /// The upload session being finished no longer exists.
    #[error("the upload session no longer exists")]
    UploadGone,
    /// An update based on a stale resourceVersion.
    #[error("{0} was changed by someone else: read it again and retry")]
    Conflict(String),
}

pub type Result<T, E = MetadataError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, the unit of every timestamp column.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
