//! Image streams (`/apis/image.openshift.io/v1/namespaces/<p>/imagestreams`, and
//! `/apis/image.openshift.io/v1/imagestreams` across the projects a caller may see): list with
//! label selectors, paging and watch; create, get, update and patch with optimistic concurrency;
//! delete. The spec's tags are applied when written (see [`super::spec_tags`]).

use axum::http::{Method, StatusCode};
use berth_access::Verb;
use berth_metadata::{Resource, StreamRow, StreamTag, StreamUpdate};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

use super::images::{continue_token, paged_list, paging, API_VERSION};
use super::patch::PatchKind;
use super::selector::ObjectSelector;
use super::spec_tags::{plan_spec, SpecTarget};
use super::{ok, timestamp, Ctx, ResourceResult, Status};

/// The most streams one list request looks at when a selector filters them.
const MAX_SCANNED: i64 = 5000;

/// An image stream as OpenShift shows it.
pub fn stream_json(ctx: &Ctx, s: &StreamRow, tags: &[StreamTag]) -> Value {
    let name = s
        .repository
        .split_once('/')
        .map(|(_, n)| n)
        .unwrap_or(&s.repository);
    let repo = format!("{}/{}", ctx.host, s.repository);
    let conditions = json_object(&s.conditions);
    let mut status_tags: Vec<Value> = tags
        .iter()
        .map(|t| {
            let mut v = json!({
                "tag": t.tag,
                "items": t.history.iter().map(|e| json!({
                    "created": timestamp(e.created_at),
                    "dockerImageReference": format!("{repo}@{}", e.digest),
                    "image": e.digest,
                    "generation": e.generation,
                })).collect::<Vec<_>>(),
            });
            if let Some(c) = conditions.get(&t.tag) {
                v["conditions"] = c.clone();
            }
            v
        })
        .collect();
    for (tag, c) in &conditions {
        if !tags.iter().any(|t| &t.tag == tag) {
            status_tags.push(json!({"tag": tag, "items": [], "conditions": c}));
        }
    }
    let mut spec = serde_json::from_str::<Value>(&s.spec).unwrap_or_else(|_| json!({}));
    if spec.get("lookupPolicy").is_none() {
        spec["lookupPolicy"] = json!({"local": false});
    }
    let mut status = json!({
        "dockerImageRepository": repo,
        "tags": status_tags,
    });
    if let Some(public) = &ctx.app.public_hostname {
        status["publicDockerImageRepository"] = json!(format!("{public}/{}", s.repository));
    }
    let mut metadata = json!({
        "name": name,
        "namespace": s.project,
        "uid": s.uid,
        "resourceVersion": s.resource_version.to_string(),
        "generation": s.generation,
        "creationTimestamp": timestamp(s.created_at),
    });
    let labels = json_object(&s.labels);
    if !labels.is_empty() {
        metadata["labels"] = Value::Object(labels);
    }
    let annotations = json_object(&s.annotations);
    if !annotations.is_empty() {
        metadata["annotations"] = Value::Object(annotations);
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": "ImageStream",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    })
}

/// A stored JSON object, or an empty one.
pub fn json_object(text: &str) -> Map<String, Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// `metadata.labels` or `metadata.annotations` of a body: an object of strings (labels also
/// checked as Kubernetes checks them), as stored JSON.
pub fn string_map(body: &Value, field: &str) -> Result<String, Status> {
    let v = &body["metadata"][field];
    if v.is_null() {
        return Ok("{}".into());
    }
    let Some(map) = v.as_object() else {
        return Err(Status::invalid(format!(
            "metadata.{field} must be an object"
        )));
    };
    for (k, val) in map {
        let Some(s) = val.as_str() else {
            return Err(Status::invalid(format!(
                "metadata.{field}.{k} must be a string"
            )));
        };
        if field == "labels"
            && (super::selector::label_key(k).is_none()
                || super::selector::label_value(s).is_none())
        {
            return Err(Status::invalid(format!(
                "metadata.labels: {k}={s:?} is not a valid label (keys and values: at most 63 alphanumerics, '-', '_', '.')"
            )));
        }
        if field == "annotations" && (k.is_empty() || k.len() > 316) {
            return Err(Status::invalid(format!(
                "metadata.annotations: {k:?} is not a valid key"
            )));
        }
    }
    Ok(v.to_string())
}

fn is_watch(query: &HashMap<String, Vec<String>>) -> bool {
    query
        .get("watch")
        .and_then(|v| v.first())
        .is_some_and(|v| v == "true" || v == "1")
}

pub fn selector(query: &HashMap<String, Vec<String>>) -> Result<ObjectSelector, Status> {
    ObjectSelector::from_query(query)
}

/// Whether `selector` picks stream `s`.
pub fn selects(selector: &ObjectSelector, s: &StreamRow) -> bool {
    let name = s
        .repository
        .split_once('/')
        .map_or(s.repository.as_str(), |(_, n)| n);
    selector.matches(&json_object(&s.labels), name, &s.project)
}

/// `GET|POST namespaces/<project>/imagestreams`.
pub async fn collection(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    query: &HashMap<String, Vec<String>>,
    body: Value,
) -> ResourceResult {
    match *method {
        Method::GET => {}
        Method::POST => return create(ctx, project, body).await,
        _ => return Err(Status::method_not_allowed("GET, POST")),
    }
    ctx.require_in_project(Verb::ViewProject, project).await?;
    if is_watch(query) {
        return super::watch::serve(ctx, Resource::ImageStream, Some(project), query).await;
    }
    list(ctx, Some(vec![project.to_string()]), query).await
}

/// `GET imagestreams` across every project the caller may see.
pub async fn all_projects(
    ctx: &Ctx,
    method: &Method,
    query: &HashMap<String, Vec<String>>,
) -> ResourceResult {
    if *method != Method::GET {
        return Err(Status::method_not_allowed("GET"));
    }
    if is_watch(query) {
        return super::watch::serve(ctx, Resource::ImageStream, None, query).await;
    }
    let projects = ctx
        .app
        .access
        .projects_allowing(ctx.principal(), Verb::ViewProject)
        .await?;
    list(ctx, projects, query).await
}

async fn list(
    ctx: &Ctx,
    projects: Option<Vec<String>>,
    query: &HashMap<String, Vec<String>>,
) -> ResourceResult {
    let (limit, mut after) = paging(query)?;
    let selector = selector(query)?;
    let meta = ctx.app.access.metadata();
    let position = meta.change_log_position().await?;
    let mut items = Vec::new();
    let mut next = String::new();
    // With a selector, pages are read until `limit` streams match, the streams run out, or
    // `MAX_SCANNED` were looked at: then the page is shorter and `continue` goes on from there,
    // so one request costs at most that much whatever the store holds.
    let mut scanned: i64 = 0;
    loop {
        let rows = meta
            .image_streams_in(projects.as_deref(), &after, limit)
            .await?;
        let full = rows.len() as i64 == limit;
        scanned += rows.len() as i64;
        for s in &rows {
            after = s.repository.clone();
            if !selects(&selector, s) {
                continue;
            }
            items.push(stream_json(ctx, s, &meta.stream_tags(&s.repository).await?));
            if items.len() as i64 == limit {
                break;
            }
        }
        if items.len() as i64 == limit || (full && scanned >= MAX_SCANNED) {
            next = continue_token(Some(&after), true);
            break;
        }
        if !full {
            break;
        }
    }
    Ok(paged_list("ImageStreamList", items, next, position.newest))
}

async fn create(ctx: &Ctx, project: &str, body: Value) -> ResourceResult {
    ctx.require_in_project(Verb::Push, project).await?;
    let name = super::str_at(&body, &["metadata", "name"])
        .ok_or_else(|| Status::invalid("metadata.name is required"))?;
    check_namespace(&body, project)?;
    let repository = stream_repository(project, name)?;
    let target = SpecTarget {
        project,
        stream: name,
        old_spec: &json!({}),
        old_conditions: &Map::new(),
        generation: 1,
        force_tag: None,
    };
    let plan = plan_spec(ctx, &target, &body["spec"]).await?;
    let update = StreamUpdate {
        labels: string_map(&body, "labels")?,
        annotations: string_map(&body, "annotations")?,
        spec: plan.spec.to_string(),
        conditions: Value::Object(plan.conditions).to_string(),
        spec_changed: false,
        tag_actions: plan.actions,
        ..StreamUpdate::default()
    };
    let meta = ctx.app.access.metadata();
    let row = meta.create_image_stream(&repository, &update).await?;
    let tags = meta.stream_tags(&repository).await?;
    Ok(super::created(stream_json(ctx, &row, &tags)))
}

pub fn stream_repository(project: &str, name: &str) -> Result<String, Status> {
    let repository = format!("{project}/{name}");
    repository
        .parse::<berth_oci::RepoName>()
        .map_err(|e| Status::invalid(e.to_string()))?;
    Ok(repository)
}

fn check_namespace(body: &Value, project: &str) -> Result<(), Status> {
    match super::str_at(body, &["metadata", "namespace"]) {
        Some(ns) if ns != project => Err(Status::bad_request(format!(
            "metadata.namespace {ns:?} does not match the project {project:?} of the request"
        ))),
        _ => Ok(()),
    }
}

/// `GET|PUT|PATCH|DELETE namespaces/<project>/imagestreams/<name>`.
pub async fn item(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    name: &str,
    body: Value,
) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    let repository = format!("{project}/{name}");
    match *method {
        Method::GET => {
            ctx.require_in_project(Verb::ViewProject, project).await?;
            let Some(s) = meta.image_stream(&repository).await? else {
                return Err(Status::not_found("imagestream", name));
            };
            let tags = meta.stream_tags(&repository).await?;
            Ok(ok(stream_json(ctx, &s, &tags)))
        }
        Method::DELETE => {
            ctx.require_in_project(Verb::Push, project).await?;
            if meta.delete_image_stream(&repository).await? {
                Ok(super::status::deleted("imagestreams", name))
            } else {
                Err(Status::not_found("imagestream", name))
            }
        }
        Method::PUT | Method::PATCH => {
            ctx.require_in_project(Verb::Push, project).await?;
            let kind = match *method {
                Method::PATCH => Some(PatchKind::of(&ctx.content_type, &body)?),
                _ => None,
            };
            // A write that names no resourceVersion is based on the stream as read here, and
            // read again when a push or another write changed it in between.
            let pinned = match kind {
                Some(_) => super::patch::pins_version(&body),
                None => expected_version(&body)?.is_some(),
            };
            let mut attempts = 0;
            loop {
                attempts += 1;
                let desired = match kind {
                    None => body.clone(),
                    Some(kind) => {
                        let Some(s) = meta.image_stream(&repository).await? else {
                            return Err(Status::not_found("imagestream", name));
                        };
                        let tags = meta.stream_tags(&repository).await?;
                        let mut current = stream_json(ctx, &s, &tags);
                        kind.apply(&mut current, body.clone())?;
                        current
                    }
                };
                match replace(ctx, project, name, desired).await {
                    Err(s) if s.code == StatusCode::CONFLICT && !pinned && attempts < 8 => {
                        super::back_off(attempts).await
                    }
                    other => return other,
                }
            }
        }
        _ => Err(Status::method_not_allowed("GET, PUT, PATCH, DELETE")),
    }
}

/// A whole-object update: labels, annotations and spec replaced; status ignored.
/// `metadata.resourceVersion`, when given, must be the current one (else 409 Conflict).
async fn replace(ctx: &Ctx, project: &str, name: &str, body: Value) -> ResourceResult {
    if !body.is_object() {
        return Err(Status::bad_request(
            "the body must be an ImageStream object",
        ));
    }
    if let Some(n) = super::str_at(&body, &["metadata", "name"]) {
        if n != name {
            return Err(Status::bad_request(format!(
                "metadata.name {n:?} does not match the name {name:?} in the path"
            )));
        }
    }
    check_namespace(&body, project)?;
    let expected = expected_version(&body)?;
    let repository = format!("{project}/{name}");
    let meta = ctx.app.access.metadata();
    let Some(current) = meta.image_stream(&repository).await? else {
        return Err(Status::not_found("imagestream", name));
    };
    if expected.is_some_and(|v| v != current.resource_version) {
        return Err(conflict("imagestreams", name));
    }
    let old_spec = serde_json::from_str::<Value>(&current.spec).unwrap_or_else(|_| json!({}));
    let target = SpecTarget {
        project,
        stream: name,
        old_spec: &old_spec,
        old_conditions: &json_object(&current.conditions),
        generation: current.generation + 1,
        force_tag: None,
    };
    let plan = plan_spec(ctx, &target, &body["spec"]).await?;
    let update = StreamUpdate {
        expected_version: Some(expected.unwrap_or(current.resource_version)),
        labels: string_map(&body, "labels")?,
        annotations: string_map(&body, "annotations")?,
        spec_changed: plan.spec != old_spec,
        spec: plan.spec.to_string(),
        conditions: Value::Object(plan.conditions).to_string(),
        tag_actions: plan.actions,
        ..StreamUpdate::default()
    };
    let row = match meta.update_image_stream(&repository, &update).await {
        Err(berth_metadata::MetadataError::Conflict(_)) => {
            return Err(conflict("imagestreams", name))
        }
        other => other?,
    };
    let tags = meta.stream_tags(&repository).await?;
    Ok(ok(stream_json(ctx, &row, &tags)))
}

/// `metadata.resourceVersion` of an update: the version the writer read, if it says.
pub fn expected_version(body: &Value) -> Result<Option<i64>, Status> {
    match &body["metadata"]["resourceVersion"] {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => s.parse::<i64>().map(Some).map_err(|_| {
            Status::invalid(format!(
                "metadata.resourceVersion {s:?} is not one this server gave"
            ))
        }),
        _ => Err(Status::invalid("metadata.resourceVersion must be a string")),
    }
}

/// The 409 of an update based on a stale resourceVersion.
pub fn conflict(resource: &str, name: &str) -> Status {
    Status::new(
        axum::http::StatusCode::CONFLICT,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {resource} {name:?}: the object has been modified; \
             please apply your changes to the latest version and try again"
        ),
    )
}
