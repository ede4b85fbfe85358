//! `?watch=true`: a stream of newline-delimited JSON events (`{"type": "ADDED" | "MODIFIED" |
//! "DELETED" | "ERROR", "object": …}`) read from the change log, as Kubernetes watches are.
//!
//! Without `resourceVersion` (or with `0`) the watch first sends every existing object as
//! ADDED; with one, it sends the changes after it (410 Expired in an ERROR event when the log no
//! longer reaches back that far). Changes committed through this process wake the watch at
//! once; those of other replicas are found by polling the log. Each event carries the event's
//! number as the object's `resourceVersion` (resuming from it repeats nothing and misses
//! nothing); an image stream's tag history is shown as of that change, its other fields as they
//! are when sent. What the caller may see is checked again every
//! few seconds: a watch on a project the caller lost ends, and a watch across projects skips
//! projects the caller can no longer see.

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_access::Verb;
use berth_metadata::{ChangeKind, ChangeRow, Metadata, Resource};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use super::images::{image_json, API_VERSION};
use super::selector::ObjectSelector;
use super::streams::{selector, selects, stream_json};
use super::{Ctx, ResourceResult, Status};

/// Marks a response as a watch stream (not re-encoded as YAML).
#[derive(Debug, Clone, Copy)]
pub struct WatchStream;

/// How often the log is read when nothing woke the watch (changes through other replicas).
const POLL: Duration = Duration::from_millis(500);
/// How often what the caller may see is checked again.
const RECHECK: Duration = Duration::from_secs(5);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
const BATCH: i64 = 200;
/// Watches one caller may hold open in one process; more get 429.
const MAX_WATCHES_PER_CALLER: usize = 64;

/// Open watches per caller in this process.
static OPEN_WATCHES: std::sync::LazyLock<std::sync::Mutex<HashMap<String, usize>>> =
    std::sync::LazyLock::new(Default::default);

/// One of a caller's open watches; given back when dropped.
struct WatchSlot(String);

impl WatchSlot {
    fn take(caller: String) -> Option<WatchSlot> {
        let mut open = OPEN_WATCHES.lock().ok()?;
        let n = open.entry(caller.clone()).or_insert(0);
        if *n >= MAX_WATCHES_PER_CALLER {
            return None;
        }
        *n += 1;
        Some(WatchSlot(caller))
    }
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN_WATCHES.lock() {
            if let Some(n) = open.get_mut(&self.0) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.0);
                }
            }
        }
    }
}

struct Watch {
    ctx: Ctx,
    resource: Resource,
    project: Option<String>,
    selector: ObjectSelector,
    /// With a selector: the streams (`<project>/<name>`) this watch has shown as matching.
    matched: std::collections::HashSet<String>,
    /// Projects the caller may see (all when `None`); refreshed every [`RECHECK`].
    visible: Option<Vec<String>>,
    checked: Instant,
    tx: mpsc::Sender<Bytes>,
}

pub async fn serve(
    ctx: &Ctx,
    resource: Resource,
    project: Option<&str>,
    query: &HashMap<String, Vec<String>>,
) -> ResourceResult {
    let first = |k: &str| query.get(k).and_then(|v| v.first()).map(String::as_str);
    let timeout = match first("timeoutSeconds") {
        None | Some("") | Some("0") => DEFAULT_TIMEOUT,
        Some(raw) => raw
            .parse::<u64>()
            .map(|s| Duration::from_secs(s).min(MAX_TIMEOUT))
            .map_err(|_| Status::bad_request(format!("timeoutSeconds={raw:?} is not a number")))?,
    };
    let selector = selector(query)?;
    let meta = ctx.app.access.metadata().clone();
    let position = meta.change_log_position().await?;
    let (start, initial) = match first("resourceVersion") {
        None | Some("") | Some("0") => (position.newest, true),
        Some(raw) => {
            let n = raw.parse::<i64>().map_err(|_| {
                Status::bad_request(format!(
                    "resourceVersion={raw:?} is not one this server gave"
                ))
            })?;
            (n, false)
        }
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let mut w = Watch {
        ctx: ctx.clone(),
        resource,
        project: project.map(str::to_string),
        selector,
        matched: std::collections::HashSet::new(),
        visible: None,
        checked: Instant::now(),
        tx,
    };
    w.refresh_visible().await?;
    if !initial && start < position.trimmed {
        let expired = Status::new(
            StatusCode::GONE,
            "Expired",
            format!("too old resource version: {start} ({})", position.trimmed),
        );
        let expired = event("ERROR", expired.to_json());
        return Ok(stream_response(Body::from(expired)));
    }
    let Some(slot) = WatchSlot::take(ctx.principal().name()) else {
        return Err(Status {
            retry_after: Some(5),
            ..Status::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                format!(
                    "{} has {MAX_WATCHES_PER_CALLER} watches open here already: close some",
                    ctx.principal()
                ),
            )
        });
    };
    let mut stopping = ctx.app.stopping.clone();
    tokio::spawn(async move {
        let _slot = slot;
        let deadline = Instant::now() + timeout;
        let result = tokio::select! {
            r = w.run(meta, start, initial) => r,
            _ = tokio::time::sleep_until(deadline.into()) => Ok(()),
            _ = stopping.wait_for(|s| *s) => Ok(()),
        };
        if let Err(e) = result {
            tracing::info!(reason = e.reason, "a watch ended: {}", e.message);
            let _ = w.tx.send(event("ERROR", e.to_json())).await;
        }
    });
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    }));
    Ok(stream_response(body))
}

fn stream_response(body: Body) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    response.extensions_mut().insert(WatchStream);
    response
}

fn event(kind: &str, object: Value) -> Bytes {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

impl Watch {
    async fn run(&mut self, meta: Metadata, start: i64, initial: bool) -> Result<(), Status> {
        let mut woken = meta.subscribe_changes();
        if initial && !self.send_existing(&meta).await? {
            return Ok(());
        }
        let mut after = start;
        loop {
            if self.checked.elapsed() >= RECHECK {
                self.refresh_visible().await?;
                // Fallen behind what the log keeps: the client must list again.
                let position = meta.change_log_position().await?;
                if after < position.trimmed {
                    return Err(Status::new(
                        StatusCode::GONE,
                        "Expired",
                        format!("too old resource version: {after} ({})", position.trimmed),
                    ));
                }
            }
            let batch = meta
                .changes_after(self.resource, self.project.as_deref(), after, BATCH)
                .await?;
            for change in &batch {
                after = change.seq;
                if !self.may_see(&change.project) {
                    continue;
                }
                if let Some((kind, object)) = self.render(&meta, change).await? {
                    if self.tx.send(event(kind, object)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if batch.len() as i64 == BATCH {
                continue;
            }
            tokio::select! {
                _ = woken.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = self.tx.closed() => return Ok(()),
            }
        }
    }

    /// Re-reads what the caller may see; a watch on one project the caller can no longer see
    /// ends.
    async fn refresh_visible(&mut self) -> Result<(), Status> {
        self.checked = Instant::now();
        let verb = match self.resource {
            Resource::ImageStream => Verb::ViewProject,
            Resource::Image => Verb::Pull,
        };
        match &self.project {
            Some(p) => {
                if !self.ctx.allows(Verb::ViewProject, p).await? {
                    return Err(Status::not_found("project", p));
                }
            }
            None => {
                self.visible = self
                    .ctx
                    .app
                    .access
                    .projects_allowing(self.ctx.principal(), verb)
                    .await?;
            }
        }
        Ok(())
    }

    fn may_see(&self, project: &str) -> bool {
        match (&self.project, &self.visible) {
            (Some(p), _) => p == project,
            (None, None) => true,
            (None, Some(v)) => v.iter().any(|x| x == project),
        }
    }

    /// Sends every existing object as ADDED; false when the client went away.
    async fn send_existing(&mut self, meta: &Metadata) -> Result<bool, Status> {
        let projects: Option<Vec<String>> = match &self.project {
            Some(p) => Some(vec![p.clone()]),
            None => self.visible.clone(),
        };
        let mut after = String::new();
        loop {
            let objects = match self.resource {
                Resource::ImageStream => {
                    let rows = meta
                        .image_streams_in(projects.as_deref(), &after, BATCH)
                        .await?;
                    let mut out = Vec::new();
                    for s in &rows {
                        after = s.repository.clone();
                        if selects(&self.selector, s) {
                            if !self.selector.is_empty() {
                                self.matched.insert(s.repository.clone());
                            }
                            let tags = meta.stream_tags(&s.repository).await?;
                            out.push(stream_json(&self.ctx, s, &tags));
                        }
                    }
                    (out, rows.len())
                }
                Resource::Image => {
                    let rows = meta.images_page(projects.as_deref(), &after, BATCH).await?;
                    let n = rows.len();
                    let mut out = Vec::new();
                    for row in rows {
                        after = row.digest.clone();
                        if let Some(v) = self.image(meta, &row.digest).await? {
                            out.push(v);
                        }
                    }
                    (out, n)
                }
            };
            for object in objects.0 {
                if self.tx.send(event("ADDED", object)).await.is_err() {
                    return Ok(false);
                }
            }
            if (objects.1 as i64) < BATCH {
                return Ok(true);
            }
        }
    }

    /// The event to send for `change`, if any. With a label or field selector, a stream that
    /// starts matching is ADDED and one that stops matching is DELETED, as Kubernetes does;
    /// `matched` remembers which streams this watch has shown.
    async fn render(
        &mut self,
        meta: &Metadata,
        change: &ChangeRow,
    ) -> Result<Option<(&'static str, Value)>, Status> {
        let version = change.seq.to_string();
        // What is left of an object deleted since: its name (a resumed watch still sees the
        // change, in order).
        let gone = || match change.resource {
            Resource::ImageStream => json!({
                "apiVersion": API_VERSION,
                "kind": "ImageStream",
                "metadata": { "name": change.name, "namespace": change.project },
            }),
            Resource::Image => json!({
                "apiVersion": API_VERSION,
                "kind": "Image",
                "metadata": { "name": change.name },
            }),
        };
        let key = format!("{}/{}", change.project, change.name);
        let filtered = change.resource == Resource::ImageStream && !self.selector.is_empty();
        let (kind, mut object) = match (change.resource, change.kind) {
            (_, ChangeKind::Deleted) => {
                if filtered && !self.matched.remove(&key) {
                    return Ok(None);
                }
                ("DELETED", gone())
            }
            (Resource::ImageStream, kind) => match meta.image_stream(&key).await? {
                Some(s) => {
                    let tags = meta.stream_tags_at(&key, Some(change.seq)).await?;
                    let object = stream_json(&self.ctx, &s, &tags);
                    if !filtered {
                        (kind.as_str(), object)
                    } else if selects(&self.selector, &s) {
                        match self.matched.insert(key) {
                            true => ("ADDED", object),
                            false => (kind.as_str(), object),
                        }
                    } else if self.matched.remove(&key) {
                        ("DELETED", object)
                    } else {
                        return Ok(None);
                    }
                }
                None if filtered && !self.matched.contains(&key) => return Ok(None),
                None => (kind.as_str(), gone()),
            },
            (Resource::Image, kind) => match self.image(meta, &change.name).await? {
                Some(v) => (kind.as_str(), v),
                None => return Ok(None),
            },
        };
        object["metadata"]["resourceVersion"] = json!(version);
        Ok(Some((kind, object)))
    }

    async fn image(&self, meta: &Metadata, digest: &str) -> Result<Option<Value>, Status> {
        let projects = match &self.project {
            Some(p) => Some(vec![p.clone()]),
            None => self.visible.clone(),
        };
        let Some(repo) = meta.image_repository(digest, projects.as_deref()).await? else {
            return Ok(None);
        };
        let Some(info) = super::images::load_image(&self.ctx, digest).await? else {
            return Ok(None);
        };
        let labels = super::streams::json_object(&info.row.labels);
        if !self.selector.matches(&labels, digest, "") {
            return Ok(None);
        }
        Ok(Some(image_json(&self.ctx.host, Some(&repo), &info)))
    }
}
