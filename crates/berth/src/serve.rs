//! `berth serve`: open the backends, build the registry, serve HTTP until SIGTERM/SIGINT, then
//! let in-flight requests finish.

use anyhow::Context;
use axum::serve::ListenerExt;
use berth_access::{Access, Bootstrap};
use berth_core::Registry;
use berth_metadata::Metadata;
use berth_storage::BlobStore;
use rand::RngCore;

use crate::config::{AuthMode, Config, Storage};

/// Opens storage and metadata as configured and builds the registry and its access control.
pub async fn build_registry(config: &Config) -> anyhow::Result<(Registry, Access)> {
    let mut store = match &config.storage {
        Storage::Filesystem(root) => BlobStore::filesystem(root)
            .with_context(|| format!("storage.filesystem.rootDirectory {}", root.display()))?,
        Storage::EmptyDir => BlobStore::memory(),
        Storage::S3(s) => BlobStore::s3(s).await?,
        Storage::Gcs(g) => BlobStore::gcs(g).await?,
        Storage::Azure(a) => BlobStore::azure(a).await?,
    };
    if !store.set_redirect(config.redirect) {
        anyhow::bail!("storage.redirect: this storage backend cannot sign URLs");
    }
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating dataDir {}", config.data_dir.display()))?;
    }
    let mut meta = Metadata::connect(&config.database_url)
        .await
        .with_context(|| format!("database.url {}", redact(&config.database_url)))?;
    let auth_on = config.auth == AuthMode::Token;
    // With access control, projects are made through the API, never by a push.
    meta.set_creates_projects(!auth_on);
    let secret = match &config.http_secret {
        Some(s) => s.clone(),
        None => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            meta.setting_or_init("httpSecret", &hex::encode(bytes))
                .await
                .context("storing the generated httpSecret")?
        }
    };
    let access = Access::new(meta.clone(), secret.as_bytes(), auth_on);
    let registry = Registry::new(store, meta, secret.as_bytes());
    registry.set_read_only(config.read_only);
    Ok((registry, access))
}

/// The first start with access control creates the administrator; a generated password is
/// shown this once.
async fn bootstrap(access: &Access) -> anyhow::Result<()> {
    if !access.enabled() {
        tracing::warn!(
            "access control is OFF (auth: none): anyone who can reach this server may pull, push and delete"
        );
        return Ok(());
    }
    let from_env = std::env::var("BERTH_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    match access
        .bootstrap(from_env.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("creating the administrator: {e}"))?
    {
        Bootstrap::Created {
            generated: Some(generated),
        } => {
            tracing::info!("created the administrator \"admin\" with a generated password (printed once on stderr)");
            eprintln!(
                "\n  Berth created the administrator \"admin\".\n  Its password, shown only this once: {generated}\n  Log in with: berth login <url> -u admin -p '{generated}'\n"
            );
        }
        Bootstrap::Created { generated: None } => {
            tracing::info!(
                "created the administrator \"admin\" with the password from BERTH_ADMIN_PASSWORD"
            )
        }
        Bootstrap::Existing if from_env.is_some() => {
            tracing::info!(
                "administrator exists; BERTH_ADMIN_PASSWORD is used only at the first start"
            )
        }
        Bootstrap::Existing => {}
    }
    Ok(())
}

/// Hides a password in a database URL for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let instance = uuid::Uuid::new_v4();
    // Every connection and every blob being read holds a file descriptor; the usual soft limit of
    // 1024 would refuse connections long before the machine runs out of anything.
    let open_files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    let (registry, access) = build_registry(&config).await?;
    let registry = registry.with_notifier(berth_core::Notifier {
        endpoints: config
            .notifications
            .iter()
            .map(|e| e.filter.clone())
            .collect(),
        source_addr: source_addr(&config),
        instance_id: instance.to_string(),
    });
    bootstrap(&access).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen {}", config.listen))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        instance = %instance,
        listen = %config.listen,
        storage = %config.storage.describe(),
        database = registry.metadata().backend(),
        database_url = %redact(&config.database_url),
        read_only = config.read_only,
        access_control = access.enabled(),
        open_files,
        "berth started"
    );
    tokio::spawn(berth_jobs::purge_uploads(
        registry.clone(),
        config.upload_purging,
        instance.to_string(),
    ));
    if !config.notifications.is_empty() {
        tokio::spawn(berth_jobs::notifications::deliver_notifications(
            registry.clone(),
            config.notifications.clone(),
            instance.to_string(),
        ));
    }
    tokio::spawn(berth_jobs::notifications::deliver_triggers(
        registry.clone(),
        instance.to_string(),
        config
            .public_hostname
            .clone()
            .unwrap_or_else(|| registry_host(&config)),
    ));
    tokio::spawn(berth_jobs::trim_change_log(
        registry.clone(),
        instance.to_string(),
    ));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let app = berth_api::router(berth_api::AppState {
        registry: registry.clone(),
        access,
        scheme: "http",
        listen_host: config.listen.to_string(),
        public_hostname: config.public_hostname.clone(),
        stopping,
    });
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await
        .context("serving HTTP")?;
    registry.metadata().close().await;
    tracing::info!("berth stopped");
    Ok(())
}

/// This replica as events name their source: `<host name>:<port>`, or the listen address.
fn source_addr(config: &Config) -> String {
    match std::env::var("HOSTNAME") {
        Ok(h) if !h.is_empty() => format!("{h}:{}", config.listen.port()),
        _ => config.listen.to_string(),
    }
}

/// How clients reach this registry when no public host name is configured: the listen address,
/// or the host name when listening on every address.
fn registry_host(config: &Config) -> String {
    if config.listen.ip().is_unspecified() {
        source_addr(config)
    } else {
        config.listen.to_string()
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
