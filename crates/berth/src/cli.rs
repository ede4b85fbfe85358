//! The `berth` command line.

use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::{Config, FileConfig, LogFormat, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth: a container image registry with image streams, access control and pruning"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the registry. With no configuration it listens on 127.0.0.1:5000 and keeps blobs and
    /// a SQLite database under ./berth-data.
    Serve(ServeArgs),
    /// Check a configuration file (and the environment and flags) without starting anything.
    CheckConfig(ServeArgs),
    /// Print the version.
    Version,
    #[command(flatten)]
    Client(crate::client::ClientCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// YAML configuration file (keys as the configuration resource: storage, httpSecret, readOnly, …
    /// plus listen, dataDir, database.url, log.format).
    #[arg(long, short = 'c', env = "BERTH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, HOST:PORT [default: 127.0.0.1:5000].
    #[arg(long, env = "BERTH_LISTEN")]
    pub listen: Option<String>,
    /// Directory for filesystem blob storage and the default SQLite database [default: ./berth-data].
    #[arg(long, env = "BERTH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Metadata database: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://<data-dir>/berth.db].
    #[arg(long, env = "BERTH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Blob storage backend: filesystem (under the data directory) or emptyDir (in memory, lost on exit).
    #[arg(long, env = "BERTH_STORAGE")]
    pub storage: Option<String>,
    /// Secret that signs upload URLs; the same on every replica [default: generated once and kept in the database].
    #[arg(long, env = "BERTH_HTTP_SECRET", hide_env_values = true)]
    pub http_secret: Option<String>,
    /// Refuse pushes and deletes.
    #[arg(long, env = "BERTH_READ_ONLY")]
    pub read_only: Option<bool>,
    /// Log format: text or json.
    #[arg(long, env = "BERTH_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Access control: token (users, tokens and role bindings; the default) or none (an open
    /// registry for development).
    #[arg(long, env = "BERTH_AUTH")]
    pub auth: Option<String>,
}

impl ServeArgs {
    pub fn resolve(&self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let overrides = Overrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            storage: self.storage.clone(),
            http_secret: self.http_secret.clone(),
            read_only: self.read_only,
            log_format: self.log_format.clone(),
            auth: self.auth.clone(),
        };
        Ok(Config::resolve(file, overrides)?)
    }
}

/// Sets up logging: one line per event, text or JSON, filtered by `RUST_LOG` (default info).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
