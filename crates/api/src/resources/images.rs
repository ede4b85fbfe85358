//! Images as OpenShift's image API shows them (`/apis/image.openshift.io/v1/images`, and
//! `imagestreamimages/<stream>@<digest>` within a stream), and the paging the image API's lists
//! share. Images are made by pushing and are read-only here.

use axum::http::Method;
use base64::Engine;
use berth_access::Verb;
use berth_core::ImageInfo;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::{ok, timestamp, Ctx, ResourceResult, Status};

pub const API_VERSION: &str = "image.openshift.io/v1";
const MAX_LIMIT: i64 = 1000;

/// `?limit=&continue=`: the page size and where to go on from (an opaque token).
pub fn paging(query: &HashMap<String, Vec<String>>) -> Result<(i64, String), Status> {
    let first = |k: &str| query.get(k).and_then(|v| v.first()).map(String::as_str);
    let limit = limit(query, MAX_LIMIT, MAX_LIMIT)?;
    let after = match first("continue") {
        None | Some("") => String::new(),
        Some(token) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| !s.chars().any(char::is_control))
            .ok_or_else(|| Status::bad_request("the continue token is not one this server gave"))?,
    };
    Ok((limit, after))
}

/// `?limit=`: `default` when absent or 0, at most `max`.
pub fn limit(query: &HashMap<String, Vec<String>>, default: i64, max: i64) -> Result<i64, Status> {
    match query
        .get("limit")
        .and_then(|v| v.first())
        .map(String::as_str)
    {
        None | Some("") | Some("0") => Ok(default),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| n.min(max))
            .ok_or_else(|| Status::bad_request(format!("limit={raw:?} is not a positive number"))),
    }
}

pub fn continue_token(last: Option<&str>, full: bool) -> String {
    match (last, full) {
        (Some(l), true) => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(l),
        _ => String::new(),
    }
}

/// A list; `version` is the change log's position when it was read, where a watch goes on
/// from.
pub fn paged_list(
    kind: &str,
    items: Vec<Value>,
    next: String,
    version: i64,
) -> axum::response::Response {
    let mut body = json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": { "resourceVersion": version.to_string() },
        "items": items,
    });
    if !next.is_empty() {
        body["metadata"]["continue"] = Value::String(next);
    }
    ok(body)
}

pub fn image_json(host: &str, repository: Option<&str>, info: &ImageInfo) -> Value {
    let c = info.config.clone().unwrap_or(Value::Null);
    let config = &c["config"];
    json!({
        "apiVersion": API_VERSION,
        "kind": "Image",
        "metadata": {
            "name": info.row.digest,
            "uid": info.row.uid,
            "resourceVersion": info.row.resource_version.to_string(),
            "creationTimestamp": timestamp(info.row.created_at),
            "labels": super::streams::json_object(&info.row.labels),
            "annotations": super::streams::json_object(&info.row.object_annotations),
        },
        "dockerImageReference": repository
            .map(|r| format!("{host}/{r}@{}", info.row.digest))
            .unwrap_or_default(),
        "dockerImageManifestMediaType": info.row.media_type,
        "dockerImageMetadataVersion": "1.0",
        "dockerImageMetadata": {
            "kind": "DockerImage",
            "apiVersion": "1.0",
            "Id": info.row.config_digest,
            "Created": c["created"],
            "Architecture": c["architecture"],
            "Os": c["os"],
            "Config": {
                "Env": config["Env"],
                "Labels": config["Labels"],
                "Cmd": config["Cmd"],
                "Entrypoint": config["Entrypoint"],
                "WorkingDir": config["WorkingDir"],
                "User": config["User"],
                "ExposedPorts": config["ExposedPorts"],
            },
            "Size": info.total_size(),
        },
        "dockerImageLayers": info.layers.iter().map(|l| json!({
            "name": l.digest,
            "size": l.size,
            "mediaType": l.media_type,
        })).collect::<Vec<_>>(),
    })
}

/// `imagestreamimages/<stream>@<digest>`: an image of the stream.
pub async fn image_stream_image(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    name: &str,
) -> ResourceResult {
    if *method != Method::GET {
        return Err(Status::method_not_allowed("GET"));
    }
    ctx.require_in_project(Verb::ViewProject, project).await?;
    let Some((stream, digest)) = name.split_once('@') else {
        return Err(Status::bad_request(
            "an image stream image is named <stream>@<digest>",
        ));
    };
    let meta = ctx.app.access.metadata();
    let repository = format!("{project}/{stream}");
    if meta
        .image_in_repository(&repository, digest)
        .await?
        .is_none()
    {
        return Err(Status::not_found("imagestreamimage", name));
    }
    let Some(info) = load_image(ctx, digest).await? else {
        return Err(Status::not_found("imagestreamimage", name));
    };
    Ok(ok(json!({
        "apiVersion": API_VERSION,
        "kind": "ImageStreamImage",
        "metadata": {
            "name": name,
            "namespace": project,
            "creationTimestamp": timestamp(info.row.created_at),
        },
        "image": image_json(&ctx.host, Some(&repository), &info),
    })))
}

pub async fn images(
    ctx: &Ctx,
    method: &Method,
    query: &HashMap<String, Vec<String>>,
) -> ResourceResult {
    if *method != Method::GET {
        return Err(Status::method_not_allowed("GET"));
    }
    if query
        .get("watch")
        .and_then(|v| v.first())
        .is_some_and(|v| v == "true" || v == "1")
    {
        return super::watch::serve(ctx, berth_metadata::Resource::Image, None, query).await;
    }
    let (limit, after) = paging(query)?;
    let position = ctx.app.access.metadata().change_log_position().await?;
    let projects = ctx
        .app
        .access
        .projects_allowing(ctx.principal(), Verb::Pull)
        .await?;
    let meta = ctx.app.access.metadata();
    let rows = meta.images_page(projects.as_deref(), &after, limit).await?;
    let next = continue_token(
        rows.last().map(|r| r.digest.as_str()),
        rows.len() as i64 == limit,
    );
    let mut items = Vec::with_capacity(rows.len());
    // A page may come back shorter than `limit` when a selector filters; `continue` goes on.
    let selector = super::streams::selector(query)?;
    for row in rows {
        if !selector.matches(&super::streams::json_object(&row.labels), &row.digest, "") {
            continue;
        }
        let repo = meta
            .image_repository(&row.digest, projects.as_deref())
            .await?;
        let info = ctx
            .app
            .registry
            .image_info(row)
            .await
            .map_err(registry_status)?;
        items.push(image_json(&ctx.host, repo.as_deref(), &info));
    }
    Ok(paged_list("ImageList", items, next, position.newest))
}

/// `images/<digest>`: visible to whoever may pull a repository that holds it. `PUT`/`PATCH`
/// change its labels and annotations (cluster administrators); `DELETE` removes it from every
/// stream (pruners and cluster administrators); its bytes stay until pruning.
pub async fn image(ctx: &Ctx, method: &Method, digest: &str, body: Value) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    let repo = pullable_repository(ctx, digest).await?;
    let Some(info) = load_image(ctx, digest).await? else {
        return Err(Status::not_found("image", digest));
    };
    let current = image_json(&ctx.host, Some(&repo), &info);
    let update = match *method {
        Method::GET => return Ok(ok(current)),
        Method::DELETE => {
            ctx.require_cluster(Verb::Prune).await?;
            meta.delete_image_everywhere(digest).await?;
            return Ok(super::status::deleted("images", digest));
        }
        Method::PUT => body,
        Method::PATCH => {
            let mut patched = current;
            super::patch::PatchKind::of(&ctx.content_type, &body)?.apply(&mut patched, body)?;
            patched
        }
        _ => return Err(Status::method_not_allowed("GET, PUT, PATCH, DELETE")),
    };
    ctx.require_cluster(Verb::ManageCluster).await?;
    if super::str_at(&update, &["metadata", "name"]).is_some_and(|n| n != digest) {
        return Err(Status::bad_request(
            "metadata.name must be the image's digest",
        ));
    }
    let expected = super::streams::expected_version(&update)?;
    let labels = super::streams::string_map(&update, "labels")?;
    let annotations = super::streams::string_map(&update, "annotations")?;
    match meta
        .update_image_metadata(digest, expected, &labels, &annotations)
        .await
    {
        Err(berth_metadata::MetadataError::Conflict(_)) => {
            return Err(super::streams::conflict("images", digest))
        }
        other => other?,
    }
    let Some(info) = load_image(ctx, digest).await? else {
        return Err(Status::not_found("image", digest));
    };
    Ok(ok(image_json(&ctx.host, Some(&repo), &info)))
}

/// The first stream (by name) holding image `digest` that the caller may pull from; 404 when
/// there is none, as if the image did not exist.
pub async fn pullable_repository(ctx: &Ctx, digest: &str) -> Result<String, Status> {
    let projects = ctx
        .app
        .access
        .projects_allowing(ctx.principal(), Verb::Pull)
        .await?;
    ctx.app
        .access
        .metadata()
        .image_repository(digest, projects.as_deref())
        .await?
        .ok_or_else(|| Status::not_found("image", digest))
}

/// An image with its layers and configuration, when it exists.
pub async fn load_image(ctx: &Ctx, digest: &str) -> Result<Option<ImageInfo>, Status> {
    let Some(row) = ctx.app.access.metadata().image_detail(digest).await? else {
        return Ok(None);
    };
    Ok(Some(
        ctx.app
            .registry
            .image_info(row)
            .await
            .map_err(registry_status)?,
    ))
}

fn registry_status(e: berth_core::RegistryError) -> Status {
    match e {
        berth_core::RegistryError::Metadata(m) => m.into(),
        other => {
            tracing::error!(error = %other, "reading an image failed");
            Status {
                retry_after: Some(1),
                ..Status::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "the blob storage failed; try again",
                )
            }
        }
    }
}
