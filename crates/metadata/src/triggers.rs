//! Image change triggers: a project's webhooks that fire when an image stream tag's current
//! image changes (push, tag, rollback, alias following). The firing is an outbox row for
//! endpoint `trigger:<project>/<name>`, written by `set_tag` in the transaction that moves the
//! tag; the deliverer posts it to the trigger's URL.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_millis, Metadata, MetadataError, Result, WriteTx};

/// The outbox endpoint name of a trigger.
pub fn trigger_endpoint(project: &str, name: &str) -> String {
    format!("trigger:{project}/{name}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRow {
    pub project: String,
    pub name: String,
    pub uid: String,
    /// `<project>/<stream>`.
    pub repository: String,
    pub tag: String,
    pub url: String,
    /// A JSON object of header name → value.
    pub headers: String,
    pub created_at: i64,
    pub last_image: String,
    pub last_triggered_at: Option<i64>,
}

const COLUMNS: &str = "project, name, uid, repository, tag, url, headers, created_at, last_image, \
     last_triggered_at";

fn row(r: &AnyRow) -> Result<TriggerRow> {
    Ok(TriggerRow {
        project: r.try_get("project")?,
        name: r.try_get("name")?,
        uid: r.try_get("uid")?,
        repository: r.try_get("repository")?,
        tag: r.try_get("tag")?,
        url: r.try_get("url")?,
        headers: r.try_get("headers")?,
        created_at: r.try_get("created_at")?,
        last_image: r.try_get("last_image")?,
        last_triggered_at: r.try_get("last_triggered_at")?,
    })
}

/// Writes a firing of every trigger on `repository:tag`, now pointing at `digest`.
pub(crate) async fn fire(w: &mut WriteTx, repository: &str, tag: &str, digest: &str) -> Result<()> {
    let triggers =
        sqlx::query("SELECT project, name FROM image_triggers WHERE repository = $1 AND tag = $2")
            .bind(repository)
            .bind(tag)
            .fetch_all(&mut *w.tx)
            .await?;
    let mut events = Vec::with_capacity(triggers.len());
    for t in &triggers {
        let project: String = t.try_get("project")?;
        let name: String = t.try_get("name")?;
        // The payload without the registry's host, which the deliverer adds.
        let payload = format!(
            "{{\"kind\":\"ImageChangeTrigger\",\"name\":{},\"namespace\":{},\"imageStreamTag\":{},\"image\":{},\"repository\":{}}}",
            json_string(&name),
            json_string(&project),
            json_string(&format!(
                "{}:{tag}",
                repository.split_once('/').map_or(repository, |(_, s)| s)
            )),
            json_string(digest),
            json_string(repository),
        );
        events.push(crate::NewNotification {
            event_id: uuid::Uuid::new_v4().to_string(),
            endpoint: trigger_endpoint(&project, &name),
            action: "trigger".into(),
            repository: repository.to_string(),
            digest: digest.to_string(),
            tag: tag.to_string(),
            payload,
        });
    }
    crate::outbox::insert(w, &events).await
}

/// A JSON string literal (names, tags and digests are validated, but quote anyway).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Metadata {
    /// Creates a trigger in an existing project; `AlreadyExists` when the name is taken.
    pub async fn create_trigger(
        &self,
        project: &str,
        name: &str,
        repository: &str,
        tag: &str,
        url: &str,
        headers: &str,
    ) -> Result<TriggerRow> {
        let mut w = self.write().await?;
        crate::access::project_must_exist(&mut w, project).await?;
        let done = sqlx::query(
            "INSERT INTO image_triggers (project, name, uid, repository, tag, url, headers, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (project, name) DO NOTHING",
        )
        .bind(project)
        .bind(name)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(repository)
        .bind(tag)
        .bind(url)
        .bind(headers)
        .bind(now_millis())
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(MetadataError::AlreadyExists(format!(
                "imagechangetrigger {project}/{name}"
            )));
        }
        w.commit().await?;
        self.trigger(project, name)
            .await?
            .ok_or_else(|| MetadataError::NotFound(format!("imagechangetrigger {project}/{name}")))
    }

    pub async fn trigger(&self, project: &str, name: &str) -> Result<Option<TriggerRow>> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM image_triggers WHERE project = $1 AND name = $2"
        ))
        .bind(project)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        r.as_ref().map(row).transpose()
    }

    /// A project's triggers by name (a project has few).
    pub async fn triggers(&self, project: &str) -> Result<Vec<TriggerRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM image_triggers WHERE project = $1 ORDER BY name LIMIT 10000"
        ))
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Deletes a trigger and its undelivered firings; false when there was none.
    pub async fn delete_trigger(&self, project: &str, name: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM image_triggers WHERE project = $1 AND name = $2")
            .bind(project)
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM notification_outbox WHERE endpoint = $1 AND delivered_at IS NULL")
            .bind(trigger_endpoint(project, name))
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The triggers with firings waiting, as outbox endpoint names.
    pub async fn triggers_with_pending_firings(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT endpoint FROM notification_outbox \
             WHERE delivered_at IS NULL AND endpoint LIKE 'trigger:%' LIMIT 1000",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("endpoint")?))
            .collect()
    }

    /// Records that a trigger fired with `digest`.
    pub async fn trigger_fired(&self, project: &str, name: &str, digest: &str) -> Result<()> {
        let mut w = self.write().await?;
        sqlx::query(
            "UPDATE image_triggers SET last_image = $1, last_triggered_at = $2 \
             WHERE project = $3 AND name = $4",
        )
        .bind(digest)
        .bind(now_millis())
        .bind(project)
        .bind(name)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }
}
