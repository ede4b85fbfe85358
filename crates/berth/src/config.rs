//! `berth serve`'s configuration: defaults, then the YAML file, then `BERTH_…` environment
//! variables and flags (clap merges those two: a flag wins over its variable).
//!
//! The file's keys follow the registry configuration resource (`configs.imageregistry/cluster`,
//! SPEC §7) — `storage`, `httpSecret`, `readOnly`, `managementState` — plus the server's own:
//! `listen`, `dataDir`, `database: {url}`, `log: {format}`, `auth` (`token`, the default, or
//! `none` for an open development registry). Unknown keys are refused, so a typo
//! stops start-up with a message naming the key.

use berth_jobs::UploadPurging;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod notifications;
mod storage;
use notifications::resolve_notifications;
pub use notifications::NotificationsSection;
pub use storage::*;
use storage::{resolve_storage, resolve_upload_purging};

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
    /// The host name (and port) clients outside reach the registry by; image streams show
    /// their `publicDockerImageRepository` under it.
    pub public_hostname: Option<String>,
    /// Webhook endpoints for registry events, with CNCF Distribution's keys.
    pub notifications: Option<NotificationsSection>,
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
    pub public_hostname: Option<String>,
    pub notifications: Vec<berth_jobs::notifications::EndpointConfig>,
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
        let notifications = resolve_notifications(file.notifications)?;
        let public_hostname = file.public_hostname.filter(|h| !h.is_empty());
        if let Some(h) = &public_hostname {
            let valid = h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
                && !h.starts_with(['.', '-', ':']);
            if !valid {
                return Err(invalid(
                    "publicHostname",
                    format!("{h:?} is not a host name with an optional port (for example registry.example.com or registry.example.com:5000; no scheme, no path)"),
                ));
            }
        }
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
            public_hostname,
            notifications,
        })
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
