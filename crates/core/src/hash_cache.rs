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
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    /// The stored chunks the digest covers, in order (their keys are never reused).
    parts: Vec<String>,
    hasher: Hasher,
}

impl HashCache {
    /// Takes the running digest of `upload_id` if it covers exactly the stored chunks `parts`.
    pub(crate) fn take(&self, upload_id: &str, parts: &[String]) -> Option<Hasher> {
        let mut entries = self.entries.lock().ok()?;
        match entries.remove(upload_id) {
            Some(entry) if entry.parts == parts => Some(entry.hasher),
            _ => None,
        }
    }

    pub(crate) fn put(&self, upload_id: &str, parts: Vec<String>, hasher: Hasher) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                if let Some(k) = entries.keys().next().cloned() {
                    entries.remove(&k);
                }
            }
            entries.insert(upload_id.to_string(), Entry { parts, hasher });
        }
    }

    pub(crate) fn forget(&self, upload_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(upload_id);
        }
    }
}
