//! Image change triggers (`/apis/registry.berth.io/v1/namespaces/<p>/imagechangetriggers`): a
//! project's webhooks that receive the new image whenever an image stream tag's current image
//! changes (push, tag, rollback). Viewers of the project read them; those who may push create
//! and delete them.

use axum::http::Method;
use berth_access::Verb;
use berth_metadata::TriggerRow;
use serde_json::{json, Value};

use super::{ok, timestamp, Ctx, ResourceResult, Status};

const API_VERSION: &str = "registry.berth.io/v1";

fn trigger_json(t: &TriggerRow) -> Value {
    let stream = t
        .repository
        .split_once('/')
        .map_or(t.repository.as_str(), |(_, s)| s);
    json!({
        "apiVersion": API_VERSION,
        "kind": "ImageChangeTrigger",
        "metadata": {
            "name": t.name,
            "namespace": t.project,
            "uid": t.uid,
            "creationTimestamp": timestamp(t.created_at),
        },
        "spec": {
            "from": { "kind": "ImageStreamTag", "name": format!("{stream}:{}", t.tag) },
            "url": t.url,
            // Header values are often credentials: shown by name only.
            "headers": hidden_headers(&t.headers),
        },
        "status": {
            "lastTriggeredImage": t.last_image,
            "lastTriggerTime": t.last_triggered_at.map(timestamp),
        },
    })
}

fn hidden_headers(stored: &str) -> Value {
    let names = serde_json::from_str::<serde_json::Map<String, Value>>(stored).unwrap_or_default();
    Value::Object(
        names
            .keys()
            .map(|k| (k.clone(), json!("<hidden>")))
            .collect(),
    )
}

pub async fn collection(ctx: &Ctx, method: &Method, project: &str, body: Value) -> ResourceResult {
    match *method {
        Method::GET => {
            ctx.require_in_project(Verb::ViewProject, project).await?;
            let rows = ctx.app.access.metadata().triggers(project).await?;
            Ok(super::list(
                API_VERSION,
                "ImageChangeTriggerList",
                rows.iter().map(trigger_json).collect(),
            ))
        }
        Method::POST => create(ctx, project, body).await,
        _ => Err(Status::method_not_allowed("GET, POST")),
    }
}

async fn create(ctx: &Ctx, project: &str, body: Value) -> ResourceResult {
    ctx.require_in_project(Verb::Push, project).await?;
    let name = super::str_at(&body, &["metadata", "name"])
        .ok_or_else(|| Status::invalid("metadata.name is required"))?;
    berth_access::check_dns_label("a trigger name", name).map_err(Status::invalid)?;
    let from = &body["spec"]["from"];
    if from["kind"].as_str().unwrap_or("ImageStreamTag") != "ImageStreamTag" {
        return Err(Status::invalid("spec.from.kind must be ImageStreamTag"));
    }
    if from["namespace"]
        .as_str()
        .is_some_and(|n| !n.is_empty() && n != project)
    {
        return Err(Status::invalid(
            "spec.from.namespace: a trigger watches a tag of its own project",
        ));
    }
    let (stream, tag) = from["name"]
        .as_str()
        .and_then(|n| n.split_once(':'))
        .ok_or_else(|| Status::invalid("spec.from.name must be <stream>:<tag>"))?;
    let repository = super::streams::stream_repository(project, stream)?;
    tag.parse::<berth_oci::Tag>()
        .map_err(|e| Status::invalid(format!("spec.from.name: tag {tag:?}: {e}")))?;
    let url = super::str_at(&body, &["spec", "url"])
        .ok_or_else(|| Status::invalid("spec.url is required"))?;
    let parsed = url
        .parse::<axum::http::Uri>()
        .map_err(|e| Status::invalid(format!("spec.url {url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
        return Err(Status::invalid(
            "spec.url must be http:// or https:// with a host",
        ));
    }
    let headers = match &body["spec"]["headers"] {
        Value::Null => json!({}),
        Value::Object(h) => {
            for (k, v) in h {
                let ok = v
                    .as_str()
                    .is_some_and(|v| axum::http::HeaderValue::from_str(v).is_ok())
                    && axum::http::HeaderName::from_bytes(k.as_bytes()).is_ok();
                if !ok {
                    return Err(Status::invalid(format!(
                        "spec.headers.{k}: not a valid HTTP header with a string value"
                    )));
                }
            }
            Value::Object(h.clone())
        }
        _ => return Err(Status::invalid("spec.headers must be an object of strings")),
    };
    let row = ctx
        .app
        .access
        .metadata()
        .create_trigger(project, name, &repository, tag, url, &headers.to_string())
        .await?;
    Ok(super::created(trigger_json(&row)))
}

pub async fn item(ctx: &Ctx, method: &Method, project: &str, name: &str) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => {
            ctx.require_in_project(Verb::ViewProject, project).await?;
            match meta.trigger(project, name).await? {
                Some(t) => Ok(ok(trigger_json(&t))),
                None => Err(Status::not_found("imagechangetrigger", name)),
            }
        }
        Method::DELETE => {
            ctx.require_in_project(Verb::Push, project).await?;
            if meta.delete_trigger(project, name).await? {
                Ok(super::status::deleted("imagechangetriggers", name))
            } else {
                Err(Status::not_found("imagechangetrigger", name))
            }
        }
        _ => Err(Status::method_not_allowed("GET, DELETE")),
    }
}
