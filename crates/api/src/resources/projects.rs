//! Projects (`/apis/project.openshift.io/v1/projects`).

use axum::http::Method;
use berth_access::{check_dns_label, Principal, Verb};
use berth_metadata::ProjectRow;
use serde_json::{json, Map, Value};

use super::status::deleted;
use super::{created, list, ok, str_at, timestamp, Ctx, ResourceResult, Status};

fn project_json(row: &ProjectRow) -> Value {
    let object = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|_| json!({}));
    json!({
        "apiVersion": "project.openshift.io/v1",
        "kind": "Project",
        "metadata": {
            "name": row.name,
            "uid": row.uid,
            "resourceVersion": row.resource_version.to_string(),
            "creationTimestamp": timestamp(row.created_at),
            "labels": object(&row.labels),
            "annotations": object(&row.annotations),
        },
        "spec": { "finalizers": ["kubernetes"] },
        "status": { "phase": "Active" },
    })
}

/// Labels or annotations from a body: an object of strings, keys and values bounded.
fn string_map(body: &Value, key: &str) -> Result<Map<String, Value>, Status> {
    match body.get("metadata").and_then(|m| m.get(key)) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let fine = !k.is_empty()
                    && k.len() <= 253
                    && !k.chars().any(char::is_control)
                    && v.as_str().is_some_and(|s| s.len() <= 64 * 1024);
                if !fine {
                    return Err(Status::invalid(format!(
                        "metadata.{key}: {k:?} must be a short key with a string value"
                    )));
                }
            }
            Ok(map.clone())
        }
        Some(_) => Err(Status::invalid(format!(
            "metadata.{key} must be an object of strings"
        ))),
    }
}

pub async fn collection(ctx: &Ctx, method: &Method, body: Value) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => {
            let visible = ctx
                .app
                .access
                .projects_allowing(ctx.principal(), Verb::ViewProject)
                .await?;
            let rows = meta.projects(visible.as_deref()).await?;
            Ok(list(
                "project.openshift.io/v1",
                "ProjectList",
                rows.iter().map(project_json).collect(),
            ))
        }
        Method::POST => {
            ctx.require_cluster(Verb::CreateProject).await?;
            let name = str_at(&body, &["metadata", "name"])
                .ok_or_else(|| Status::invalid("metadata.name is required"))?;
            check_dns_label("project", name).map_err(Status::invalid)?;
            let labels = string_map(&body, "labels")?;
            let mut annotations = string_map(&body, "annotations")?;
            let requester = ctx.principal().name();
            annotations.insert(
                "openshift.io/requester".into(),
                Value::String(requester.clone()),
            );
            let admin = match ctx.principal() {
                Principal::Anonymous => None,
                _ => Some(requester.as_str()),
            };
            let row = meta
                .create_project(
                    name,
                    &Value::Object(labels).to_string(),
                    &Value::Object(annotations).to_string(),
                    admin,
                )
                .await?;
            Ok(created(project_json(&row)))
        }
        _ => Err(Status::method_not_allowed("GET, POST")),
    }
}

pub async fn item(ctx: &Ctx, method: &Method, name: &str) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => {
            ctx.require_in_project(Verb::ViewProject, name).await?;
            match meta.project(name).await? {
                Some(p) => Ok(ok(project_json(&p))),
                None => Err(Status::not_found("project", name)),
            }
        }
        Method::DELETE => {
            ctx.require_in_project(Verb::AdminProject, name).await?;
            if meta.delete_project(name).await? {
                Ok(deleted("projects", name))
            } else {
                Err(Status::not_found("project", name))
            }
        }
        _ => Err(Status::method_not_allowed("GET, DELETE")),
    }
}
