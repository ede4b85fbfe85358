//! The change log: every write transaction that adds, modifies or deletes an image stream or an
//! image appends one numbered row per resource when it commits. The number is the resource's
//! `resourceVersion`, and watches read the log from a number on.
//!
//! Numbers come from the `changes` counter row, incremented inside the transaction just before
//! it commits: the row lock (PostgreSQL) or the single writer (SQLite) makes transactions that
//! log changes commit in number order, so a reader that has seen number N has seen everything
//! before it — on every replica.

use sqlx::Row;
use tokio::sync::watch;

use crate::{now_millis, Metadata, Result, WriteTx};

/// What kind of resource changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    ImageStream,
    Image,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::ImageStream => "imagestreams",
            Resource::Image => "images",
        }
    }
}

/// How it changed, as watch events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }

    fn parse(s: &str) -> ChangeKind {
        match s {
            "ADDED" => ChangeKind::Added,
            "DELETED" => ChangeKind::Deleted,
            _ => ChangeKind::Modified,
        }
    }
}

/// A change made by a transaction, not yet numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    resource: Resource,
    /// The project: of the stream, or where an image was pushed.
    project: String,
    /// The stream's name within its project, or the image's digest.
    name: String,
    kind: ChangeKind,
}

/// A logged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub seq: i64,
    pub resource: Resource,
    pub project: String,
    pub name: String,
    pub kind: ChangeKind,
}

impl WriteTx {
    /// Notes that this transaction changed image stream `repository` (`<project>/<name>`).
    pub(crate) fn stream_changed(&mut self, repository: &str, kind: ChangeKind) {
        let (project, name) = repository.split_once('/').unwrap_or(("", repository));
        self.note(Resource::ImageStream, project, name, kind);
    }

    /// Notes that this transaction added image `digest`, pushed into `project`.
    pub(crate) fn image_added(&mut self, project: &str, digest: &str) {
        self.note(Resource::Image, project, digest, ChangeKind::Added);
    }

    /// Notes a change of image `digest`, logged under `project` (one holding it).
    pub(crate) fn image_changed(&mut self, project: &str, digest: &str, kind: ChangeKind) {
        self.note(Resource::Image, project, digest, kind);
    }

    fn note(&mut self, resource: Resource, project: &str, name: &str, kind: ChangeKind) {
        let same = |c: &Change| c.resource == resource && c.project == project && c.name == name;
        if let Some(i) = self.changes.iter().position(same) {
            match (self.changes[i].kind, kind) {
                // Added and then deleted within one transaction: nobody saw it.
                (ChangeKind::Added, ChangeKind::Deleted) => {
                    self.changes.remove(i);
                }
                (_, ChangeKind::Deleted) => self.changes[i].kind = ChangeKind::Deleted,
                (ChangeKind::Deleted, ChangeKind::Added) => self.changes[i].kind = kind,
                _ => {}
            }
            return;
        }
        self.changes.push(Change {
            resource,
            project: project.to_string(),
            name: name.to_string(),
            kind,
        });
    }
}

/// Numbers and writes the transaction's changes; returns the newest number, if any.
pub(crate) async fn log(w: &mut WriteTx) -> Result<Option<i64>> {
    if w.changes.is_empty() {
        return Ok(None);
    }
    let count = w.changes.len() as i64;
    if w.dialect == crate::Dialect::Postgres {
        lock_changed_rows(w).await?;
    }
    let newest: i64 = sqlx::query(
        "UPDATE counters SET value = value + $1 WHERE name = 'changes' RETURNING value",
    )
    .bind(count)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("value")?;
    let now = now_millis();
    let changes = std::mem::take(&mut w.changes);
    for (i, c) in changes.iter().enumerate() {
        let seq = newest - count + 1 + i as i64;
        sqlx::query(
            "INSERT INTO changes (seq, resource, project, name, event, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(seq)
        .bind(c.resource.as_str())
        .bind(&c.project)
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        match (c.resource, c.kind) {
            (_, ChangeKind::Deleted) => {}
            (Resource::ImageStream, _) => {
                let repository = format!("{}/{}", c.project, c.name);
                sqlx::query("UPDATE repositories SET resource_version = $1 WHERE name = $2")
                    .bind(seq)
                    .bind(&repository)
                    .execute(&mut *w.tx)
                    .await?;
                sqlx::query(
                    "UPDATE tag_events SET change_seq = $1 WHERE repository = $2 AND change_seq IS NULL",
                )
                .bind(seq)
                .bind(&repository)
                .execute(&mut *w.tx)
                .await?;
            }
            (Resource::Image, _) => {
                sqlx::query("UPDATE images SET resource_version = $1 WHERE digest = $2")
                    .bind(seq)
                    .bind(&c.name)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
    }
    Ok(Some(newest))
}

/// Locks the rows whose resourceVersion the log will set, in name order, before the counter:
/// the counter is then always the last lock a transaction takes, so a transaction holding it
/// never waits for a row another one holds while waiting for the counter.
async fn lock_changed_rows(w: &mut WriteTx) -> Result<()> {
    let mut streams: Vec<String> = Vec::new();
    let mut images: Vec<String> = Vec::new();
    for c in &w.changes {
        match (c.resource, c.kind) {
            (_, ChangeKind::Deleted) => {}
            (Resource::ImageStream, _) => streams.push(format!("{}/{}", c.project, c.name)),
            (Resource::Image, _) => images.push(c.name.clone()),
        }
    }
    streams.sort();
    streams.dedup();
    images.sort();
    images.dedup();
    for name in &streams {
        sqlx::query("SELECT name FROM repositories WHERE name = $1 FOR NO KEY UPDATE")
            .bind(name)
            .fetch_optional(&mut *w.tx)
            .await?;
    }
    for digest in &images {
        sqlx::query("SELECT digest FROM images WHERE digest = $1 FOR NO KEY UPDATE")
            .bind(digest)
            .fetch_optional(&mut *w.tx)
            .await?;
    }
    Ok(())
}

/// Where the change log stands: the newest number, and the newest one trimmed away (a watch
/// can resume only from that number on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    pub newest: i64,
    pub trimmed: i64,
}

impl Metadata {
    pub async fn change_log_position(&self) -> Result<LogPosition> {
        let rows = sqlx::query(
            "SELECT name, value FROM counters WHERE name IN ('changes', 'changes_trimmed')",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut pos = LogPosition {
            newest: 0,
            trimmed: 0,
        };
        for r in rows {
            let name: String = r.try_get("name")?;
            let value: i64 = r.try_get("value")?;
            if name == "changes" {
                pos.newest = value;
            } else {
                pos.trimmed = value;
            }
        }
        Ok(pos)
    }

    /// Up to `limit` changes of `resource` after number `after`, oldest first, in `project`
    /// only when given.
    pub async fn changes_after(
        &self,
        resource: Resource,
        project: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChangeRow>> {
        let base = "SELECT seq, project, name, event FROM changes WHERE resource = $1 AND seq > $2";
        let rows = match project {
            Some(p) => {
                sqlx::query(&format!("{base} AND project = $3 ORDER BY seq LIMIT $4"))
                    .bind(resource.as_str())
                    .bind(after)
                    .bind(p)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(&format!("{base} ORDER BY seq LIMIT $3"))
                    .bind(resource.as_str())
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(ChangeRow {
                    seq: r.try_get("seq")?,
                    resource,
                    project: r.try_get("project")?,
                    name: r.try_get("name")?,
                    kind: ChangeKind::parse(&r.try_get::<String, _>("event")?),
                })
            })
            .collect()
    }

    /// A receiver that sees the newest change number committed through this process change;
    /// watchers wait on it (with a timeout, for changes made by other replicas).
    pub fn subscribe_changes(&self) -> watch::Receiver<i64> {
        self.changes_seen.subscribe()
    }

    /// Deletes changes logged before `cutoff` (milliseconds since the epoch), keeping the
    /// newest one; returns how many went.
    pub async fn trim_change_log(&self, cutoff: i64) -> Result<u64> {
        let mut w = self.write().await?;
        let upto: Option<i64> = sqlx::query(
            "SELECT MAX(seq) AS upto FROM changes WHERE created_at < $1 \
             AND seq < (SELECT MAX(seq) FROM changes)",
        )
        .bind(cutoff)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("upto")?;
        let Some(upto) = upto else {
            return Ok(0);
        };
        let done = sqlx::query("DELETE FROM changes WHERE seq <= $1")
            .bind(upto)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'changes_trimmed' AND value < $1")
            .bind(upto)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected())
    }
}
