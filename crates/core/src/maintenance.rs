//! Maintenance the background jobs run: purging uploads that were started long ago and never
//! finished, with their stored chunks.

use std::time::Duration;

use crate::{Registry, RegistryError};

/// Uploads purged per pass; the next pass continues.
const PURGE_BATCH: i64 = 1000;

impl Registry {
    /// Removes uploads started more than `age` ago: the session row first — an upload being
    /// finished at that moment then fails instead of recording a blob whose chunks are going —
    /// and then, only if this pass ended the session, its chunks. Answers how many were purged.
    pub async fn purge_stale_uploads(&self, age: Duration) -> Result<usize, RegistryError> {
        let before = berth_metadata::now_millis() - age.as_millis() as i64;
        let stale = self.inner.meta.stale_uploads(before, PURGE_BATCH).await?;
        let mut purged = 0;
        for id in stale {
            if self.inner.meta.delete_upload(&id).await? {
                self.inner.hashes.forget(&id);
                self.inner.store.delete_upload(&id).await?;
                purged += 1;
            }
        }
        Ok(purged)
    }
}
