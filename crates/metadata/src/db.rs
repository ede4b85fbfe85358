//! Connecting, migrating, and write transactions.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::{MetadataError, Result};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The metadata store: a connection pool plus what the dialect needs.
#[derive(Clone)]
pub struct Metadata {
    pub(crate) pool: AnyPool,
    dialect: Dialect,
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    /// Whether a push into a project that does not exist creates it (the open registry of
    /// `auth: none`); with access control, projects are created only through the API.
    pub(crate) creates_projects: bool,
    /// The number of the newest change committed through this process, for local watchers to
    /// wake at once (changes made by other replicas are found by polling).
    pub(crate) changes_seen: Arc<tokio::sync::watch::Sender<i64>>,
    /// Wakes the notification deliverer of this process when a transaction wrote events.
    pub(crate) notifications_signal: Arc<tokio::sync::Notify>,
}

/// A write transaction. Commit it, or drop it to roll back.
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, sqlx::Any>,
    pub(crate) dialect: Dialect,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Resources this transaction changed, logged when it commits.
    pub(crate) changes: Vec<crate::changes::Change>,
    changes_seen: Arc<tokio::sync::watch::Sender<i64>>,
    /// Whether this transaction wrote notification events.
    pub(crate) wrote_notifications: bool,
    notifications_signal: Arc<tokio::sync::Notify>,
}

impl WriteTx {
    /// Logs the changes this transaction made (numbering them, and setting each resource's
    /// resourceVersion), then commits.
    pub async fn commit(mut self) -> Result<()> {
        let newest = crate::changes::log(&mut self).await?;
        self.tx.commit().await?;
        if self.wrote_notifications {
            self.notifications_signal.notify_waiters();
        }
        if let Some(seq) = newest {
            self.changes_seen.send_if_modified(|v| {
                let newer = seq > *v;
                if newer {
                    *v = seq;
                }
                newer
            });
        }
        Ok(())
    }

    /// ` FOR SHARE` on PostgreSQL, where concurrent writers exist; nothing on SQLite, whose
    /// writers are serialised.
    pub(crate) fn for_share(&self) -> &'static str {
        self.on_postgres(" FOR SHARE")
    }

    /// ` FOR UPDATE`: the row is deleted or its key may change.
    pub(crate) fn for_update(&self) -> &'static str {
        self.on_postgres(" FOR UPDATE")
    }

    /// ` FOR NO KEY UPDATE`: the row is changed but keeps its key, so rows referencing it (which
    /// take a key-share lock for their foreign key) can still be inserted meanwhile.
    pub(crate) fn for_no_key_update(&self) -> &'static str {
        self.on_postgres(" FOR NO KEY UPDATE")
    }

    fn on_postgres(&self, clause: &'static str) -> &'static str {
        match self.dialect {
            Dialect::Postgres => clause,
            Dialect::Sqlite => "",
        }
    }
}

impl Metadata {
    /// Connects to `url` (`sqlite://PATH` — created when missing — or `postgres://…`) and
    /// applies pending migrations.
    pub async fn connect(url: &str) -> Result<Metadata> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(MetadataError::UnsupportedUrl(url.to_string()));
        };
        let url = match dialect {
            Dialect::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        match dialect {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let meta = Metadata {
            pool,
            dialect,
            sqlite_writer: Arc::new(tokio::sync::Mutex::new(())),
            creates_projects: true,
            changes_seen: Arc::new(tokio::sync::watch::channel(0).0),
            notifications_signal: Arc::new(tokio::sync::Notify::new()),
        };
        meta.fill_missing_project_uids().await?;
        meta.fill_missing_stream_uids().await?;
        Ok(meta)
    }

    /// Whether pushes create missing projects (on by default; off with access control).
    pub fn set_creates_projects(&mut self, on: bool) {
        self.creates_projects = on;
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A short name of the backend, for logs.
    pub fn backend(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Wraps `inner`, a query selecting one `name` column in order, so that the whole page comes
    /// back as one newline-joined value: one row to fetch instead of one per name, which matters
    /// for pages of thousands of tags. Names never contain newlines (they are validated).
    pub(crate) fn joined_names(&self, inner: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                format!("SELECT group_concat(name, char(10) ORDER BY name) AS names FROM ({inner})")
            }
            Dialect::Postgres => {
                format!(
                    "SELECT string_agg(name, chr(10) ORDER BY name) AS names FROM ({inner}) page"
                )
            }
        }
    }

    /// Runs a [`Metadata::joined_names`] query and splits its result.
    pub(crate) async fn fetch_names<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<String>> {
        use sqlx::Row;
        let row = query.fetch_one(&self.pool).await?;
        let names: Option<String> = row.try_get("names")?;
        Ok(names
            .map(|n| n.split('\n').map(str::to_string).collect())
            .unwrap_or_default())
    }

    /// Begins a write transaction.
    pub async fn write(&self) -> Result<WriteTx> {
        let guard = match self.dialect {
            Dialect::Sqlite => Some(self.sqlite_writer.clone().lock_owned().await),
            Dialect::Postgres => None,
        };
        // On SQLite the write lock is taken when the transaction begins (and waited for, up to
        // busy_timeout): a transaction that read first and wrote later could otherwise fail with
        // "database is locked" when another connection wrote in between.
        let tx = match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            dialect: self.dialect,
            _writer: guard,
            changes: Vec::new(),
            changes_seen: self.changes_seen.clone(),
            wrote_notifications: false,
            notifications_signal: self.notifications_signal.clone(),
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
