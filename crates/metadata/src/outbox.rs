//! The notification outbox: registry events waiting for (or done with) delivery to each
//! configured endpoint. Rows are inserted inside the transaction of the change they describe
//! (so an event exists exactly when its change does), and the deliverer reads an endpoint's
//! pending rows in order and marks them delivered or failed.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_millis, Metadata, Result, WriteTx};

/// An event for one endpoint, to be written with the change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub event_id: String,
    pub endpoint: String,
    pub action: String,
    pub repository: String,
    pub digest: String,
    pub tag: String,
    /// The event as JSON.
    pub payload: String,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub event_id: String,
    pub endpoint: String,
    pub action: String,
    pub repository: String,
    pub digest: String,
    pub tag: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub delivered_at: Option<i64>,
    pub last_error: String,
}

const COLUMNS: &str = "event_id, endpoint, action, repository, digest, tag, payload, created_at, \
     attempts, delivered_at, last_error";

fn row(r: &AnyRow) -> Result<NotificationRow> {
    Ok(NotificationRow {
        event_id: r.try_get("event_id")?,
        endpoint: r.try_get("endpoint")?,
        action: r.try_get("action")?,
        repository: r.try_get("repository")?,
        digest: r.try_get("digest")?,
        tag: r.try_get("tag")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
        attempts: r.try_get("attempts")?,
        delivered_at: r.try_get("delivered_at")?,
        last_error: r.try_get("last_error")?,
    })
}

/// Inserts `items` in the transaction; the deliverer is woken when it commits.
pub(crate) async fn insert(w: &mut WriteTx, items: &[NewNotification]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let now = now_millis();
    // The counter row stays locked until the transaction ends, so numbers follow commit order.
    let count = items.len() as i64;
    let newest: i64 = sqlx::query(
        "UPDATE counters SET value = value + $1 WHERE name = 'notifications' RETURNING value",
    )
    .bind(count)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("value")?;
    for (i, n) in items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO notification_outbox (event_id, endpoint, action, repository, digest, tag, \
             payload, created_at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (event_id, endpoint) DO NOTHING",
        )
        .bind(&n.event_id)
        .bind(&n.endpoint)
        .bind(&n.action)
        .bind(&n.repository)
        .bind(&n.digest)
        .bind(&n.tag)
        .bind(&n.payload)
        .bind(now)
        .bind(newest - count + 1 + i as i64)
        .execute(&mut *w.tx)
        .await?;
    }
    w.wrote_notifications = true;
    Ok(())
}

impl Metadata {
    /// Writes events that describe no stored change (pulls) in a transaction of their own.
    pub async fn enqueue_notifications(&self, items: &[NewNotification]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut w = self.write().await?;
        insert(&mut w, items).await?;
        w.commit().await
    }

    /// Waits until a transaction of this process wrote notifications (or `timeout` passed).
    pub async fn notifications_written(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.notifications_signal.notified()).await;
    }

    /// Up to `limit` undelivered events of `endpoint`, in the order they were committed.
    pub async fn pending_notifications(
        &self,
        endpoint: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notification_outbox WHERE endpoint = $1 AND delivered_at IS NULL \
             ORDER BY seq LIMIT $2"
        ))
        .bind(endpoint)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Records a delivery: `error` is `None` when the endpoint took the event.
    pub async fn notification_attempted(
        &self,
        event_id: &str,
        endpoint: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let sql = match error {
            None => {
                "UPDATE notification_outbox SET attempts = attempts + 1, delivered_at = $1, \
                     last_error = '' WHERE event_id = $2 AND endpoint = $3"
            }
            Some(_) => {
                "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $4 \
                        WHERE event_id = $2 AND endpoint = $3 AND $1 > 0"
            }
        };
        let mut q = sqlx::query(sql)
            .bind(now_millis())
            .bind(event_id)
            .bind(endpoint);
        if let Some(e) = error {
            q = q.bind(e.chars().take(1000).collect::<String>());
        }
        // Through the writer (on SQLite, writes are serialised in this process).
        let mut w = self.write().await?;
        q.execute(&mut *w.tx).await?;
        w.commit().await
    }

    /// A page of the outbox, newest first, after the row `after` (created, event id, endpoint)
    /// when given, only `endpoint`'s when given.
    pub async fn notifications_page(
        &self,
        endpoint: Option<&str>,
        after: Option<(i64, &str, &str)>,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let (created, id, ep) = after.unwrap_or((i64::MAX, "", ""));
        let position = if after.is_some() {
            "(created_at < $1 OR (created_at = $1 AND (event_id < $2 OR (event_id = $2 AND endpoint < $3))))"
        } else {
            "created_at <= $1 AND $2 = $2 AND $3 = $3"
        };
        let filter = if endpoint.is_some() {
            " AND endpoint = $5"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM notification_outbox WHERE {position}{filter} \
             ORDER BY created_at DESC, event_id DESC, endpoint DESC LIMIT $4"
        );
        let mut q = sqlx::query(&sql)
            .bind(created)
            .bind(id)
            .bind(ep)
            .bind(limit);
        if let Some(e) = endpoint {
            q = q.bind(e);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(row).collect()
    }

    /// Deletes events delivered before `cutoff`; returns how many went.
    pub async fn trim_delivered_notifications(&self, cutoff: i64) -> Result<u64> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM notification_outbox WHERE delivered_at IS NOT NULL AND delivered_at < $1",
        )
        .bind(cutoff)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(done.rows_affected())
    }
}
