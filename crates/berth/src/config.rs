//! `berth serve`'s configuration: defaults, then the YAML file, then `BERTH_…` environment
//! variables and flags (clap merges those two: a flag wins over its variable).
//!
//! The file's keys follow the registry configuration resource (`configs.imageregistry/cluster`,
//! SPEC §7) — `storage`, `httpSecret`, `readOnly`, `managementState` — plus the server's own:
//! `listen`, `dataDir`, `database: {url}`, `log: {format}`, `auth` (`token`, the default, or
//! `none` for an open development registry). Unknown keys are refused, so a typo
//! stops start-up with a message naming the key.

use berth_jobs::UploadPurging;
use berth_storage::{AzureSettings, GcsSettings, S3Settings};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// The configuration file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<DatabaseSection>,
    pub storage: Option<StorageSection>,
    pub http_secret: Option<String>,
    pub read_only: Option<bool>,
    pub management_state: Option<String>,
    pub log: Option<LogSection>,
    pub auth: Option<String>,
    /// How many replicas share this configuration (the configuration resource's `replicas`).
    pub replicas: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseSection {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogSection {
    pub format: Option<String>,
}

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

/// Values given on the command line or in the environment; they win over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub storage: Option<String>,
    pub http_secret: Option<String>,
    pub read_only: Option<bool>,
    pub log_format: Option<String>,
    pub auth: Option<String>,
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

/// Whether callers must authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Access control on: users, tokens and role bindings decide (the default).
    Token,
    /// An open registry for development: anyone may pull and push.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The resolved configuration `berth serve` runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub storage: Storage,
    pub http_secret: Option<String>,
    pub read_only: bool,
    pub log_format: LogFormat,
    pub auth: AuthMode,
    pub replicas: u32,
    pub upload_purging: UploadPurging,
    pub redirect: bool,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if text.trim().is_empty() {
            return Ok(FileConfig::default());
        }
        serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

impl Config {
    /// Resolves the configuration from the file (if any) and the overrides.
    pub fn resolve(file: FileConfig, o: Overrides) -> Result<Config, ConfigError> {
        let listen_raw = o
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:5000".into());
        let listen = listen_raw
            .parse()
            .map_err(|_| invalid("listen", format!("{listen_raw:?} is not an address of the form HOST:PORT (for example 127.0.0.1:5000)")))?;
        let data_dir = o
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("berth-data"));
        let database_url = o
            .database_url
            .or(file.database.and_then(|d| d.url))
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("berth.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                format!("{database_url:?} is neither sqlite://PATH nor postgres://…"),
            ));
        }
        let upload_purging = resolve_upload_purging(
            file.storage
                .as_ref()
                .and_then(|s| s.maintenance.as_ref())
                .and_then(|m| m.uploadpurging.as_ref()),
        )?;
        let redirect = file
            .storage
            .as_ref()
            .and_then(|s| s.redirect)
            .unwrap_or(false);
        let storage = resolve_storage(file.storage, o.storage.as_deref(), &data_dir)?;
        if redirect && matches!(storage, Storage::Filesystem(_) | Storage::EmptyDir) {
            return Err(invalid(
                "storage.redirect",
                "redirects need an object store that signs URLs: s3, gcs or azure",
            ));
        }
        if let Some(state) = &file.management_state {
            if state != "Managed" {
                return Err(invalid(
                    "managementState",
                    format!("{state:?} is not supported by this version; only Managed is"),
                ));
            }
        }
        let http_secret = o.http_secret.or(file.http_secret);
        if http_secret.as_deref().is_some_and(|s| s.len() < 16) {
            return Err(invalid("httpSecret", "must be at least 16 characters"));
        }
        let log_format = match o.log_format.or(file.log.and_then(|l| l.format)).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log.format",
                    format!("{other:?} is not text or json"),
                ))
            }
        };
        let auth = match o.auth.or(file.auth).as_deref() {
            None | Some("token") => AuthMode::Token,
            Some("none") => AuthMode::None,
            Some(other) => {
                return Err(invalid(
                    "auth",
                    format!("{other:?} is not token (access control on) or none (open registry)"),
                ))
            }
        };
        let replicas = file.replicas.unwrap_or(1);
        if replicas > 1 {
            if storage == Storage::EmptyDir {
                return Err(invalid(
                    "storage.emptyDir",
                    format!("keeps blobs in one process's memory, so it cannot serve {replicas} replicas: use s3, gcs, azure or a shared filesystem"),
                ));
            }
            if database_url.starts_with("sqlite:") {
                return Err(invalid(
                    "database.url",
                    format!("SQLite belongs to one process, so it cannot serve {replicas} replicas: use postgres://…"),
                ));
            }
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            storage,
            http_secret,
            read_only: o.read_only.or(file.read_only).unwrap_or(false),
            log_format,
            auth,
            replicas,
            upload_purging,
            redirect,
        })
    }
}

fn resolve_upload_purging(
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

fn resolve_storage(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<FileConfig, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(yaml)
    }

    #[test]
    fn defaults_live_under_berth_data() {
        let c = Config::resolve(FileConfig::default(), Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(c.database_url, "sqlite://berth-data/berth.db");
        assert_eq!(c.storage, Storage::Filesystem("berth-data".into()));
        assert_eq!(c.auth, AuthMode::Token);
    }

    #[test]
    fn file_then_overrides() {
        let f = parse("listen: 0.0.0.0:6000\nstorage: {emptyDir: {}}\ndatabase: {url: 'postgres://x/y'}\nreadOnly: true").unwrap();
        let o = Overrides {
            listen: Some("127.0.0.1:7000".into()),
            ..Default::default()
        };
        let c = Config::resolve(f, o).unwrap();
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.storage, Storage::EmptyDir);
        assert_eq!(c.database_url, "postgres://x/y");
        assert!(c.read_only);
    }

    #[test]
    fn bad_configuration_names_the_key() {
        assert!(parse("lisen: x").unwrap_err().to_string().contains("lisen"));
        let e =
            Config::resolve(parse("listen: nowhere").unwrap(), Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("`listen`"), "{e}");
        let e = Config::resolve(
            parse("storage: {s3: {region: eu-west-1}}").unwrap(),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("storage.s3.bucket"), "{e}");
        let e = Config::resolve(
            parse("storage: {s3: {bucket: b}, emptyDir: {}}").unwrap(),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        assert!(parse("storage: {s3: {bucket: b, regon: x}}")
            .unwrap_err()
            .to_string()
            .contains("regon"));
        let e = Config::resolve(
            parse("replicas: 2\nstorage: {emptyDir: {}}\ndatabase: {url: 'postgres://h/d'}")
                .unwrap(),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("storage.emptyDir"), "{e}");
        let e = Config::resolve(parse("replicas: 2").unwrap(), Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
        let e = Config::resolve(
            parse("database: {url: 'mysql://x'}").unwrap(),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
        let e =
            Config::resolve(parse("httpSecret: short").unwrap(), Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("httpSecret"), "{e}");
        let e = Config::resolve(parse("auth: off").unwrap(), Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("`auth`"), "{e}");
    }
}
