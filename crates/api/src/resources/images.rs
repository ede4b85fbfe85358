//! Image metadata as OpenShift's image API shows it (`/apis/image.openshift.io/v1/`): image
//! streams of a project with their tags and history, image stream tags, and images. Read-only
//! for now; streams and tags are made by pushing.

use axum::http::Method;
use base64::Engine;
use berth_access::Verb;
use berth_core::ImageInfo;
use berth_metadata::{StreamRow, StreamTag};
use serde_json::{json, Value};
use std::collections::HashMap;

use super::{ok, timestamp, Ctx, ResourceResult, Status};

const API_VERSION: &str = "image.openshift.io/v1";
const MAX_LIMIT: i64 = 1000;

/// `?limit=&continue=`: the page size and where to go on from (an opaque token).
fn paging(query: &HashMap<String, Vec<String>>) -> Result<(i64, String), Status> {
    let first = |k: &str| query.get(k).and_then(|v| v.first()).map(String::as_str);
    let limit = match first("limit") {
        None | Some("") | Some("0") => MAX_LIMIT,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| n.min(MAX_LIMIT))
            .ok_or_else(|| {
                Status::bad_request(format!("limit={raw:?} is not a positive number"))
            })?,
    };
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

fn continue_token(last: Option<&str>, full: bool) -> String {
    match (last, full) {
        (Some(l), true) => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(l),
        _ => String::new(),
    }
}

fn paged_list(kind: &str, items: Vec<Value>, next: String) -> axum::response::Response {
    let mut body = json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": { "resourceVersion": "" },
        "items": items,
    });
    if !next.is_empty() {
        body["metadata"]["continue"] = Value::String(next);
    }
    ok(body)
}

fn stream_json(host: &str, s: &StreamRow, tags: &[StreamTag]) -> Value {
    let name = s
        .repository
        .split_once('/')
        .map(|(_, n)| n)
        .unwrap_or(&s.repository);
    let repo = format!("{host}/{}", s.repository);
    let status_tags: Vec<Value> = tags
        .iter()
        .map(|t| {
            json!({
                "tag": t.tag,
                "items": t.history.iter().map(|e| json!({
                    "created": timestamp(e.created_at),
                    "dockerImageReference": format!("{repo}@{}", e.digest),
                    "image": e.digest,
                    "generation": e.generation,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "apiVersion": API_VERSION,
        "kind": "ImageStream",
        "metadata": {
            "name": name,
            "namespace": s.project,
            "creationTimestamp": timestamp(s.created_at),
        },
        "spec": { "lookupPolicy": { "local": false } },
        "status": {
            "dockerImageRepository": repo,
            "tags": status_tags,
        },
    })
}

fn image_json(host: &str, repository: Option<&str>, info: &ImageInfo) -> Value {
    let c = info.config.clone().unwrap_or(Value::Null);
    let config = &c["config"];
    json!({
        "apiVersion": API_VERSION,
        "kind": "Image",
        "metadata": {
            "name": info.row.digest,
            "creationTimestamp": timestamp(info.row.created_at),
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

pub async fn image_streams(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    query: &HashMap<String, Vec<String>>,
    body: Value,
) -> ResourceResult {
    match *method {
        Method::GET => {}
        Method::POST => {
            ctx.require_in_project(Verb::Push, project).await?;
            let name = super::str_at(&body, &["metadata", "name"])
                .ok_or_else(|| Status::invalid("metadata.name is required"))?;
            let repository = format!("{project}/{name}");
            repository
                .parse::<berth_oci::RepoName>()
                .map_err(|e| Status::invalid(e.to_string()))?;
            let row = ctx
                .app
                .access
                .metadata()
                .create_image_stream(&repository)
                .await?;
            return Ok(super::created(stream_json(&ctx.host, &row, &[])));
        }
        _ => return Err(Status::method_not_allowed("GET, POST")),
    }
    ctx.require_in_project(Verb::ViewProject, project).await?;
    let (limit, after) = paging(query)?;
    let meta = ctx.app.access.metadata();
    let rows = meta.image_streams(project, &after, limit).await?;
    let mut items = Vec::with_capacity(rows.len());
    for s in &rows {
        items.push(stream_json(
            &ctx.host,
            s,
            &meta.stream_tags(&s.repository).await?,
        ));
    }
    let next = continue_token(
        rows.last().map(|s| s.repository.as_str()),
        rows.len() as i64 == limit,
    );
    Ok(paged_list("ImageStreamList", items, next))
}

pub async fn image_stream(ctx: &Ctx, method: &Method, project: &str, name: &str) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    let repository = format!("{project}/{name}");
    match *method {
        Method::GET => {}
        Method::DELETE => {
            ctx.require_in_project(Verb::Push, project).await?;
            return if meta.delete_image_stream(&repository).await? {
                Ok(super::status::deleted("imagestreams", name))
            } else {
                Err(Status::not_found("imagestream", name))
            };
        }
        _ => return Err(Status::method_not_allowed("GET, DELETE")),
    }
    ctx.require_in_project(Verb::ViewProject, project).await?;
    let Some(s) = meta.image_stream(&repository).await? else {
        return Err(Status::not_found("imagestream", name));
    };
    Ok(ok(stream_json(
        &ctx.host,
        &s,
        &meta.stream_tags(&repository).await?,
    )))
}

/// `imagestreamtags/<stream>:<tag>`: the tag's current image, with the tag's history.
pub async fn image_stream_tag(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    name: &str,
    body: Value,
) -> ResourceResult {
    match *method {
        Method::GET => {}
        Method::PUT | Method::POST => return Box::pin(set_tag(ctx, project, name, body)).await,
        Method::DELETE => return delete_tag(ctx, project, name).await,
        _ => return Err(Status::method_not_allowed("GET, PUT, POST, DELETE")),
    }
    ctx.require_in_project(Verb::ViewProject, project).await?;
    let Some((stream, tag)) = name.split_once(':') else {
        return Err(Status::bad_request(
            "an image stream tag is named <stream>:<tag>",
        ));
    };
    let meta = ctx.app.access.metadata();
    let repository = format!("{project}/{stream}");
    let tags = meta.stream_tags(&repository).await?;
    let Some(t) = tags.iter().find(|t| t.tag == tag) else {
        return Err(Status::not_found("imagestreamtag", name));
    };
    let Some(current) = t.history.first() else {
        return Err(Status::not_found("imagestreamtag", name));
    };
    let Some(info) = load_image(ctx, &current.digest).await? else {
        return Err(Status::not_found("imagestreamtag", name));
    };
    Ok(ok(json!({
        "apiVersion": API_VERSION,
        "kind": "ImageStreamTag",
        "metadata": {
            "name": name,
            "namespace": project,
            "creationTimestamp": timestamp(current.created_at),
        },
        "tag": { "name": tag },
        "generation": current.generation,
        "image": image_json(&ctx.host, Some(&repository), &info),
    })))
}

/// `PUT imagestreamtags/<stream>:<tag>` with `tag.from` naming an `ImageStreamImage`
/// (`<stream>@<digest>`) or an `ImageStreamTag` (`<stream>:<tag>`), in this project or
/// `from.namespace`: points the tag at that image — `berth tag` and `berth rollback`.
async fn set_tag(ctx: &Ctx, project: &str, name: &str, body: Value) -> ResourceResult {
    let Some((stream, tag)) = name.split_once(':') else {
        return Err(Status::bad_request(
            "an image stream tag is named <stream>:<tag>",
        ));
    };
    tag.parse::<berth_oci::Tag>()
        .map_err(|e| Status::invalid(format!("tag {tag:?}: {e}")))?;
    let destination = format!("{project}/{stream}");
    destination
        .parse::<berth_oci::RepoName>()
        .map_err(|e| Status::invalid(e.to_string()))?;
    ctx.require_in_project(Verb::Push, project).await?;
    let from = &body["tag"]["from"];
    let kind = from["kind"].as_str().unwrap_or("ImageStreamTag");
    let source_ns = from["namespace"].as_str().unwrap_or(project);
    let source_name = from["name"]
        .as_str()
        .ok_or_else(|| Status::invalid("tag.from.name is required"))?;
    let meta = ctx.app.access.metadata();
    if !ctx.allows(Verb::Pull, source_ns).await? {
        return Err(Status::not_found(
            "imagestream",
            &format!("{source_ns}/{source_name}"),
        ));
    }
    let (source_stream, digest) = match kind {
        "ImageStreamImage" => {
            let (s, d) = source_name.split_once('@').ok_or_else(|| {
                Status::invalid("an ImageStreamImage is named <stream>@<digest>")
            })?;
            (s.to_string(), d.to_string())
        }
        "ImageStreamTag" => {
            let (s, t) = source_name
                .split_once(':')
                .ok_or_else(|| Status::invalid("an ImageStreamTag is named <stream>:<tag>"))?;
            let repo = format!("{source_ns}/{s}");
            let current = meta
                .stream_tags(&repo)
                .await?
                .into_iter()
                .find(|x| x.tag == t)
                .and_then(|x| x.history.into_iter().next())
                .ok_or_else(|| Status::not_found("imagestreamtag", source_name))?;
            (s.to_string(), current.digest)
        }
        "DockerImage" => {
            return Err(Status::invalid(
                "tagging from another registry (DockerImage) needs image import, which this version does not have",
            ))
        }
        other => {
            return Err(Status::invalid(format!(
                "tag.from.kind {other:?} is not ImageStreamImage, ImageStreamTag or DockerImage"
            )))
        }
    };
    let source = format!("{source_ns}/{source_stream}");
    match meta.tag_from(&source, &digest, &destination, tag).await {
        Ok(()) => {}
        Err(berth_metadata::MetadataError::NotFound(_)) => {
            return Err(Status::not_found(
                "imagestreamimage",
                &format!("{source_stream}@{digest}"),
            ))
        }
        Err(berth_metadata::MetadataError::ProjectUnknown(p)) => {
            return Err(Status::not_found("project", &p))
        }
        Err(e) => return Err(e.into()),
    }
    image_stream_tag(ctx, &Method::GET, project, name, Value::Null).await
}

/// `DELETE imagestreamtags/<stream>:<tag>`: the tag goes (from the registry's tag list too);
/// its history and images stay.
async fn delete_tag(ctx: &Ctx, project: &str, name: &str) -> ResourceResult {
    let Some((stream, tag)) = name.split_once(':') else {
        return Err(Status::bad_request(
            "an image stream tag is named <stream>:<tag>",
        ));
    };
    ctx.require_in_project(Verb::Push, project).await?;
    let repository = format!("{project}/{stream}");
    if ctx
        .app
        .access
        .metadata()
        .delete_tag(&repository, tag)
        .await?
    {
        Ok(super::status::deleted("imagestreamtags", name))
    } else {
        Err(Status::not_found("imagestreamtag", name))
    }
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
    let (limit, after) = paging(query)?;
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
    for row in rows {
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
    Ok(paged_list("ImageList", items, next))
}

/// An image by digest: visible to whoever may pull a repository that holds it.
pub async fn image(ctx: &Ctx, method: &Method, digest: &str) -> ResourceResult {
    if *method != Method::GET {
        return Err(Status::method_not_allowed("GET"));
    }
    let projects = ctx
        .app
        .access
        .projects_allowing(ctx.principal(), Verb::Pull)
        .await?;
    let meta = ctx.app.access.metadata();
    let Some(repo) = meta.image_repository(digest, projects.as_deref()).await? else {
        return Err(Status::not_found("image", digest));
    };
    let Some(info) = load_image(ctx, digest).await? else {
        return Err(Status::not_found("image", digest));
    };
    Ok(ok(image_json(&ctx.host, Some(&repo), &info)))
}

/// An image with its layers and configuration, when it exists.
async fn load_image(ctx: &Ctx, digest: &str) -> Result<Option<ImageInfo>, Status> {
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
