//! The `storage` part of the configuration: one backend (filesystem, emptyDir, s3, gcs, azure),
//! credentials from the environment, redirects and upload purging.

use berth_jobs::UploadPurging;
use berth_storage::{AzureSettings, GcsSettings, S3Settings};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use super::{invalid, ConfigError};

/// `storage`: exactly one backend.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageSection {
    pub filesystem: Option<FilesystemSection>,
    pub empty_dir: Option<serde_json::Value>,
    pub s3: Option<S3Section>,
    pub gcs: Option<GcsSection>,
    pub azure: Option<AzureSection>,
    pub maintenance: Option<MaintenanceSection>,
    /// Blob reads answered with a redirect to a signed URL of the object store.
    pub redirect: Option<bool>,
}

/// `storage.maintenance`, as CNCF Distribution spells it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSection {
    pub uploadpurging: Option<UploadPurgingSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadPurgingSection {
    pub enabled: Option<bool>,
    pub age: Option<String>,
    pub interval: Option<String>,
    pub dryrun: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Section {
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub region_endpoint: Option<String>,
    pub encrypt: Option<bool>,
    #[serde(rename = "keyID")]
    pub key_id: Option<String>,
    pub cloud_front: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcsSection {
    pub bucket: Option<String>,
    pub region: Option<String>,
    #[serde(rename = "projectID")]
    pub project_id: Option<String>,
    #[serde(rename = "keyID")]
    pub key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureSection {
    pub account_name: Option<String>,
    pub container: Option<String>,
    pub cloud_name: Option<String>,
    /// The blob service URL, for emulators and sovereign clouds (a Berth addition).
    pub endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilesystemSection {
    pub root_directory: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum Storage {
    Filesystem(PathBuf),
    EmptyDir,
    S3(S3Settings),
    Gcs(GcsSettings),
    Azure(AzureSettings),
}

impl PartialEq for Storage {
    fn eq(&self, other: &Storage) -> bool {
        match (self, other) {
            (Storage::Filesystem(a), Storage::Filesystem(b)) => a == b,
            (Storage::EmptyDir, Storage::EmptyDir) => true,
            (Storage::S3(a), Storage::S3(b)) => a.bucket == b.bucket && a.region == b.region,
            (Storage::Gcs(a), Storage::Gcs(b)) => a.bucket == b.bucket,
            (Storage::Azure(a), Storage::Azure(b)) => {
                a.account_name == b.account_name && a.container == b.container
            }
            _ => false,
        }
    }
}

impl Storage {
    /// A one-line description for logs and `check-config`, without secrets.
    pub fn describe(&self) -> String {
        match self {
            Storage::Filesystem(p) => format!("filesystem {}", p.display()),
            Storage::EmptyDir => "emptyDir (in memory)".into(),
            Storage::S3(s) => format!(
                "s3 bucket {} in {}{}",
                s.bucket,
                s.region,
                s.endpoint
                    .as_deref()
                    .map(|e| format!(" at {e}"))
                    .unwrap_or_default()
            ),
            Storage::Gcs(g) => format!("gcs bucket {}", g.bucket),
            Storage::Azure(a) => format!("azure {}/{}", a.account_name, a.container),
        }
    }
}

pub(super) fn resolve_upload_purging(
    section: Option<&UploadPurgingSection>,
) -> Result<UploadPurging, ConfigError> {
    let mut p = UploadPurging::default();
    let Some(s) = section else { return Ok(p) };
    if s.dryrun == Some(true) {
        return Err(invalid(
            "storage.maintenance.uploadpurging.dryrun",
            "is not supported: set enabled: false to keep uploads",
        ));
    }
    p.enabled = s.enabled.unwrap_or(true);
    let duration = |key: &'static str, v: &str| {
        humantime::parse_duration(v).map_err(|e| {
            invalid(
                key,
                format!("{v:?} is not a duration like 168h or 30m: {e}"),
            )
        })
    };
    if let Some(age) = &s.age {
        p.age = duration("storage.maintenance.uploadpurging.age", age)?;
    }
    if let Some(interval) = &s.interval {
        p.interval = duration("storage.maintenance.uploadpurging.interval", interval)?;
        if p.interval.is_zero() {
            return Err(invalid(
                "storage.maintenance.uploadpurging.interval",
                "must be longer than zero",
            ));
        }
    }
    Ok(p)
}

pub(super) fn resolve_storage(
    section: Option<StorageSection>,
    flag: Option<&str>,
    data_dir: &Path,
) -> Result<Storage, ConfigError> {
    match flag {
        Some("filesystem") => return Ok(Storage::Filesystem(data_dir.to_path_buf())),
        Some("emptyDir") => return Ok(Storage::EmptyDir),
        Some(other) => {
            return Err(invalid(
                "storage",
                format!("{other:?} is not filesystem or emptyDir"),
            ))
        }
        None => {}
    }
    let Some(s) = section else {
        return Ok(Storage::Filesystem(data_dir.to_path_buf()));
    };
    let chosen = [
        s.filesystem.is_some(),
        s.empty_dir.is_some(),
        s.s3.is_some(),
        s.gcs.is_some(),
        s.azure.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if chosen > 1 {
        return Err(invalid(
            "storage",
            "configure exactly one backend (filesystem, emptyDir, s3, gcs or azure)",
        ));
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(s3) = s.s3 {
        if s3.cloud_front.is_some() {
            return Err(invalid(
                "storage.s3.cloudFront",
                "is not supported by this version of Berth",
            ));
        }
        return Ok(Storage::S3(S3Settings {
            bucket: s3
                .bucket
                .ok_or_else(|| invalid("storage.s3.bucket", "is required"))?,
            region: s3.region.unwrap_or_else(|| "us-east-1".into()),
            endpoint: s3.region_endpoint,
            encrypt: s3.encrypt.unwrap_or(false),
            key_id: s3.key_id,
            access_key: env("REGISTRY_STORAGE_S3_ACCESSKEY"),
            secret_key: env("REGISTRY_STORAGE_S3_SECRETKEY"),
        }));
    }
    if let Some(gcs) = s.gcs {
        if gcs.key_id.is_some() {
            return Err(invalid(
                "storage.gcs.keyID",
                "customer-managed encryption keys are not supported by this version of Berth",
            ));
        }
        return Ok(Storage::Gcs(GcsSettings {
            bucket: gcs
                .bucket
                .ok_or_else(|| invalid("storage.gcs.bucket", "is required"))?,
            key_file: env("REGISTRY_STORAGE_GCS_KEYFILE"),
        }));
    }
    if let Some(az) = s.azure {
        if let Some(cloud) = az
            .cloud_name
            .as_deref()
            .filter(|c| *c != "AzurePublicCloud")
        {
            if az.endpoint.is_none() {
                return Err(invalid(
                    "storage.azure.cloudName",
                    format!("{cloud:?}: give the blob service URL as storage.azure.endpoint"),
                ));
            }
        }
        return Ok(Storage::Azure(AzureSettings {
            account_name: az
                .account_name
                .ok_or_else(|| invalid("storage.azure.accountName", "is required"))?,
            container: az
                .container
                .ok_or_else(|| invalid("storage.azure.container", "is required"))?,
            account_key: env("REGISTRY_STORAGE_AZURE_ACCOUNTKEY"),
            endpoint: az.endpoint,
        }));
    }
    match (s.filesystem, s.empty_dir) {
        (Some(fs), _) => Ok(Storage::Filesystem(
            fs.root_directory.unwrap_or_else(|| data_dir.to_path_buf()),
        )),
        (None, Some(_)) => Ok(Storage::EmptyDir),
        (None, None) => Ok(Storage::Filesystem(data_dir.to_path_buf())),
    }
}
