//! Background work shared by every replica: each job runs in every process, but a pass happens
//! only in the replica holding the job's lease in the database (`Metadata::try_lease`), so N
//! replicas do each pass once. A replica that dies mid-pass loses the lease when it expires, and
//! another takes over; passes are idempotent.

pub mod notifications;

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

/// How long the change log (which watches resume from) keeps changes.
pub const CHANGE_LOG_RETENTION: Duration = Duration::from_secs(3600);

/// Trims the change log every few minutes, keeping [`CHANGE_LOG_RETENTION`]; a watch resuming
/// from before what is kept gets 410 Expired and lists again, as with Kubernetes.
pub async fn trim_change_log(registry: Registry, instance: String) {
    let interval = Duration::from_secs(300);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let meta = registry.metadata();
        match meta
            .try_lease(
                "change-log-trimming",
                &instance,
                interval.as_millis() as i64,
            )
            .await
        {
            Ok(true) => {
                let cutoff = berth_metadata::now_millis() - CHANGE_LOG_RETENTION.as_millis() as i64;
                if let Err(e) = meta.trim_change_log(cutoff).await {
                    tracing::warn!(error = %e, "trimming the change log failed; will retry");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot take the change-log lease; will retry"),
        }
    }
}
