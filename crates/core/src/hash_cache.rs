//! Running digests of uploads in progress, so that a chunked upload is hashed once while it
//! streams. The cache is only an optimisation: when an upload continues on another replica or
//! after a restart, its stored chunks are read back and hashed again.

use berth_oci::Hasher;
use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many uploads keep a running digest; beyond it the oldest entry is dropped.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub(crate) struct HashCache {
    entries: Mutex<HashMap<String, (u64, Hasher)>>,
}

impl HashCache {
    /// Takes the running digest of `upload_id` if it covers exactly the first `offset` bytes.
    pub(crate) fn take(&self, upload_id: &str, offset: u64) -> Option<Hasher> {
        let mut entries = self.entries.lock().ok()?;
        match entries.remove(upload_id) {
            Some((at, hasher)) if at == offset => Some(hasher),
            _ => None,
        }
    }

    pub(crate) fn put(&self, upload_id: &str, offset: u64, hasher: Hasher) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                if let Some(k) = entries.keys().next().cloned() {
                    entries.remove(&k);
                }
            }
            entries.insert(upload_id.to_string(), (offset, hasher));
        }
    }

    pub(crate) fn forget(&self, upload_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(upload_id);
        }
    }
}
