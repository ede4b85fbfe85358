//! Background work shared by every replica: each job runs in every process, but a pass happens
//! only in the replica holding the job's lease in the database (`Metadata::try_lease`), so N
//! replicas do each pass once. A replica that dies mid-pass loses the lease when it expires, and
//! another takes over; passes are idempotent.

use berth_core::Registry;
use std::time::Duration;

/// When and how old: Distribution's `storage.maintenance.uploadpurging`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadPurging {
    pub enabled: bool,
    /// Uploads started longer ago than this are purged.
    pub age: Duration,
    /// How often a pass runs.
    pub interval: Duration,
}

impl Default for UploadPurging {
    fn default() -> UploadPurging {
        UploadPurging {
            enabled: true,
            age: Duration::from_secs(168 * 3600),
            interval: Duration::from_secs(24 * 3600),
        }
    }
}

/// Runs the upload purging job until the process ends. `instance` names this replica in the
/// lease.
pub async fn purge_uploads(registry: Registry, settings: UploadPurging, instance: String) {
    if !settings.enabled {
        return;
    }
    // A pass holds the lease for one interval (at least a minute), so that the next pass, by
    // any replica, starts an interval later.
    let lease = settings.interval.max(Duration::from_secs(1));
    let mut tick = tokio::time::interval(settings.interval.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let held = registry
            .metadata()
            .try_lease("upload-purging", &instance, lease.as_millis() as i64)
            .await;
        match held {
            Ok(true) => match registry.purge_stale_uploads(settings.age).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "purged uploads older than {:?}", settings.age),
                Err(e) => tracing::warn!(error = %e, "purging stale uploads failed; will retry"),
            },
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the upload-purging lease; will retry")
            }
        }
    }
}
