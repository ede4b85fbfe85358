//! Image stream tags (`namespaces/<p>/imagestreamtags/<stream>:<tag>`) and image stream
//! mappings (`namespaces/<p>/imagestreammappings`, what a push records).
//!
//! Writing an image stream tag writes that tag's entry of the stream's `spec.tags` (see
//! [`super::spec_tags`]): `from` an `ImageStreamImage` copies a reference (`berth tag`,
//! `berth rollback`), `from` an `ImageStreamTag` makes an alias (`berth tag --alias`).

use axum::http::Method;
use axum::response::IntoResponse;
use berth_access::Verb;
use berth_metadata::{StreamRow, StreamTag, StreamUpdate};
use serde_json::{json, Value};

use super::images::{image_json, load_image, API_VERSION};
use super::spec_tags::{plan_spec, SpecTarget};
use super::streams::{json_object, stream_repository};
use super::{ok, timestamp, Ctx, ResourceResult, Status};

fn split(name: &str) -> Result<(&str, &str), Status> {
    name.split_once(':')
        .ok_or_else(|| Status::bad_request("an image stream tag is named <stream>:<tag>"))
}

/// `GET|PUT|POST|DELETE imagestreamtags/<stream>:<tag>`.
pub async fn item(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    name: &str,
    body: Value,
) -> ResourceResult {
    match *method {
        Method::GET => get(ctx, project, name).await,
        Method::PUT | Method::POST => Box::pin(put(ctx, project, name, body)).await,
        Method::DELETE => delete(ctx, project, name).await,
        _ => Err(Status::method_not_allowed("GET, PUT, POST, DELETE")),
    }
}

async fn get(ctx: &Ctx, project: &str, name: &str) -> ResourceResult {
    ctx.require_in_project(Verb::ViewProject, project).await?;
    let (stream, tag) = split(name)?;
    let meta = ctx.app.access.metadata();
    let repository = format!("{project}/{stream}");
    let Some(s) = meta.image_stream(&repository).await? else {
        return Err(Status::not_found("imagestreamtag", name));
    };
    let tags = meta.stream_tags(&repository).await?;
    let Some(t) = tags.iter().find(|t| t.tag == tag) else {
        return Err(Status::not_found("imagestreamtag", name));
    };
    match istag_json(ctx, &s, t).await? {
        Some(body) => Ok(ok(body)),
        None => Err(Status::not_found("imagestreamtag", name)),
    }
}

/// An `ImageStreamTag`: the tag's spec entry, its current image, conditions.
async fn istag_json(ctx: &Ctx, s: &StreamRow, t: &StreamTag) -> Result<Option<Value>, Status> {
    let Some(current) = t.history.first() else {
        return Ok(None);
    };
    let Some(info) = load_image(ctx, &current.digest).await? else {
        return Ok(None);
    };
    let stream = s
        .repository
        .split_once('/')
        .map_or(s.repository.as_str(), |(_, n)| n);
    let spec = serde_json::from_str::<Value>(&s.spec).unwrap_or(Value::Null);
    let reference = spec["tags"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == t.tag.as_str()).cloned());
    let mut body = json!({
        "apiVersion": API_VERSION,
        "kind": "ImageStreamTag",
        "metadata": {
            "name": format!("{stream}:{}", t.tag),
            "namespace": s.project,
            "uid": s.uid,
            "resourceVersion": s.resource_version.to_string(),
            "creationTimestamp": timestamp(current.created_at),
        },
        "tag": reference.unwrap_or_else(|| json!({"name": t.tag})),
        "generation": current.generation,
        "lookupPolicy": spec["lookupPolicy"].clone(),
        "image": image_json(&ctx.host, Some(&s.repository), &info),
    });
    if let Some(c) = json_object(&s.conditions).get(&t.tag) {
        body["conditions"] = c.clone();
    }
    Ok(Some(body))
}

/// `GET|POST namespaces/<project>/imagestreamtags`: every current tag of the project's streams
/// (`limit`/`continue` count streams, 50 by default), or a tag written as by `PUT`.
pub async fn collection(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    query: &std::collections::HashMap<String, Vec<String>>,
    body: Value,
) -> ResourceResult {
    match *method {
        Method::GET => {}
        Method::POST => {
            let name = super::str_at(&body, &["metadata", "name"])
                .ok_or_else(|| Status::invalid("metadata.name (<stream>:<tag>) is required"))?
                .to_string();
            return Box::pin(put(ctx, project, &name, body)).await;
        }
        _ => return Err(Status::method_not_allowed("GET, POST")),
    }
    ctx.require_in_project(Verb::ViewProject, project).await?;
    let mut query = query.clone();
    query
        .entry("limit".into())
        .or_insert_with(|| vec!["50".into()]);
    let (limit, after) = super::images::paging(&query)?;
    let meta = ctx.app.access.metadata();
    let streams = meta.image_streams(project, &after, limit).await?;
    let mut items = Vec::new();
    for s in &streams {
        for t in meta.stream_tags(&s.repository).await? {
            if let Some(v) = istag_json(ctx, s, &t).await? {
                items.push(v);
            }
        }
    }
    let next = super::images::continue_token(
        streams.last().map(|s| s.repository.as_str()),
        streams.len() as i64 == limit,
    );
    let version = meta.change_log_position().await?.newest;
    Ok(super::images::paged_list(
        "ImageStreamTagList",
        items,
        next,
        version,
    ))
}

/// Writes the tag's spec entry from `tag` of the body (its `from`, `reference`,
/// `referencePolicy`, `importPolicy`), creating the stream when needed, and applies it.
async fn put(ctx: &Ctx, project: &str, name: &str, body: Value) -> ResourceResult {
    let (stream, tag) = split(name)?;
    tag.parse::<berth_oci::Tag>()
        .map_err(|e| Status::invalid(format!("tag {tag:?}: {e}")))?;
    let repository = stream_repository(project, stream)?;
    ctx.require_in_project(Verb::Push, project).await?;
    let reference = &body["tag"];
    if reference["from"].is_null() {
        return Err(Status::invalid("tag.from is required"));
    }
    let meta = ctx.app.access.metadata();
    // Read, change this tag's entry, write back only if nothing changed the stream meanwhile
    // (another tag written, a push): otherwise read again, so no concurrent write is lost.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let update = spec_tag_update(ctx, project, stream, tag, reference).await?;
        match meta.update_image_stream(&repository, &update).await {
            Err(berth_metadata::MetadataError::Conflict(_)) if attempts < MAX_ATTEMPTS => {
                super::back_off(attempts).await
            }
            Err(berth_metadata::MetadataError::Conflict(_)) => {
                return Err(super::streams::conflict("imagestreamtags", name))
            }
            other => {
                other?;
                break;
            }
        }
    }
    match get(ctx, project, name).await {
        Err(s) if s.code == axum::http::StatusCode::NOT_FOUND => {
            // An alias of a tag that has no image yet, or a reference not imported.
            Ok(super::created(json!({
                "apiVersion": API_VERSION,
                "kind": "ImageStreamTag",
                "metadata": { "name": name, "namespace": project },
                "tag": reference,
            })))
        }
        other => other,
    }
}

/// How often a tag write is tried when the stream keeps changing between reading and writing.
const MAX_ATTEMPTS: u32 = 12;

/// The write of the stream that sets `tag`'s spec entry from `reference`, based on the stream as
/// it is now.
async fn spec_tag_update(
    ctx: &Ctx,
    project: &str,
    stream: &str,
    tag: &str,
    reference: &Value,
) -> Result<StreamUpdate, Status> {
    let repository = format!("{project}/{stream}");
    let meta = ctx.app.access.metadata();
    let current = meta.image_stream(&repository).await?;
    let (old_spec, conditions, generation, labels, annotations) = match &current {
        Some(s) => (
            serde_json::from_str::<Value>(&s.spec).unwrap_or_else(|_| json!({})),
            json_object(&s.conditions),
            s.generation + 1,
            s.labels.clone(),
            s.annotations.clone(),
        ),
        None => (json!({}), Default::default(), 1, "{}".into(), "{}".into()),
    };
    let mut entry = json!({"name": tag, "from": reference["from"].clone()});
    for key in [
        "reference",
        "referencePolicy",
        "importPolicy",
        "annotations",
    ] {
        if !reference[key].is_null() {
            entry[key] = reference[key].clone();
        }
    }
    let mut new_spec = old_spec.clone();
    let mut tags: Vec<Value> = new_spec["tags"].as_array().cloned().unwrap_or_default();
    match tags.iter_mut().find(|t| t["name"] == tag) {
        Some(t) => *t = entry,
        None => tags.push(entry),
    }
    new_spec["tags"] = Value::Array(tags);
    let target = SpecTarget {
        project,
        stream,
        old_spec: &old_spec,
        old_conditions: &conditions,
        generation,
        force_tag: Some(tag),
    };
    let plan = plan_spec(ctx, &target, &new_spec).await?;
    let update = StreamUpdate {
        create: current.is_none(),
        labels,
        annotations,
        spec_changed: true,
        spec: plan.spec.to_string(),
        conditions: Value::Object(plan.conditions).to_string(),
        tag_actions: plan.actions,
        expected_version: Some(current.as_ref().map_or(0, |s| s.resource_version)),
        ..StreamUpdate::default()
    };
    Ok(update)
}

/// The tag goes from the stream's spec and status (and the registry's tag list); its history
/// and images stay.
async fn delete(ctx: &Ctx, project: &str, name: &str) -> ResourceResult {
    let (stream, tag) = split(name)?;
    ctx.require_in_project(Verb::Push, project).await?;
    let repository = format!("{project}/{stream}");
    let meta = ctx.app.access.metadata();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let Some(update) = tag_removal(ctx, &repository, tag).await? else {
            return Err(Status::not_found("imagestreamtag", name));
        };
        match meta.update_image_stream(&repository, &update).await {
            Err(berth_metadata::MetadataError::Conflict(_)) if attempts < MAX_ATTEMPTS => {
                super::back_off(attempts).await
            }
            Err(berth_metadata::MetadataError::Conflict(_)) => {
                return Err(super::streams::conflict("imagestreamtags", name))
            }
            other => {
                other?;
                return Ok(super::status::deleted("imagestreamtags", name));
            }
        }
    }
}

/// The write of the stream that removes `tag` from its spec and status, based on the stream as
/// it is now; `None` when the stream has no such tag.
async fn tag_removal(
    ctx: &Ctx,
    repository: &str,
    tag: &str,
) -> Result<Option<StreamUpdate>, Status> {
    let meta = ctx.app.access.metadata();
    let Some(s) = meta.image_stream(repository).await? else {
        return Ok(None);
    };
    let mut spec = serde_json::from_str::<Value>(&s.spec).unwrap_or_else(|_| json!({}));
    let mut conditions = json_object(&s.conditions);
    let in_spec = spec["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|e| e["name"] == tag));
    let in_status = meta
        .stream_tags(repository)
        .await?
        .iter()
        .any(|t| t.tag == tag);
    let had_condition = conditions.remove(tag).is_some();
    if !in_spec && !in_status && !had_condition {
        return Ok(None);
    }
    if let Some(tags) = spec["tags"].as_array_mut() {
        tags.retain(|e| e["name"] != tag);
    }
    Ok(Some(StreamUpdate {
        expected_version: Some(s.resource_version),
        labels: s.labels.clone(),
        annotations: s.annotations.clone(),
        spec_changed: in_spec,
        spec: spec.to_string(),
        conditions: Value::Object(conditions).to_string(),
        deleted_tags: vec![tag.to_string()],
        ..StreamUpdate::default()
    }))
}

/// `POST imagestreammappings`: records image `image.metadata.name` (a digest the caller may
/// pull from some stream) into stream `metadata.name`, under `tag` when given.
pub async fn mappings(ctx: &Ctx, method: &Method, project: &str, body: Value) -> ResourceResult {
    if *method != Method::POST {
        return Err(Status::method_not_allowed("POST"));
    }
    ctx.require_in_project(Verb::Push, project).await?;
    let stream = super::str_at(&body, &["metadata", "name"])
        .ok_or_else(|| Status::invalid("metadata.name (the image stream) is required"))?;
    let destination = stream_repository(project, stream)?;
    let digest = super::str_at(&body, &["image", "metadata", "name"])
        .ok_or_else(|| Status::invalid("image.metadata.name (the image digest) is required"))?;
    digest
        .parse::<berth_oci::Digest>()
        .map_err(|e| Status::invalid(format!("image.metadata.name {digest:?}: {e}")))?;
    let tag = match &body["tag"] {
        Value::Null => None,
        Value::String(t) if t.is_empty() => None,
        Value::String(t) => Some(
            t.parse::<berth_oci::Tag>()
                .map_err(|e| Status::invalid(format!("tag {t:?}: {e}")))?
                .to_string(),
        ),
        _ => return Err(Status::invalid("tag must be a string")),
    };
    let source = super::images::pullable_repository(ctx, digest).await?;
    let meta = ctx.app.access.metadata();
    match meta
        .tag_from(&source, digest, &destination, tag.as_deref())
        .await
    {
        Err(berth_metadata::MetadataError::ProjectUnknown(p)) => {
            return Err(Status::not_found("project", &p))
        }
        other => other?,
    }
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(json!({
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Success",
            "code": 201,
        })),
    )
        .into_response())
}
