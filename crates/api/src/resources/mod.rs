//! The API resources under `/apis/…` and `/api/v1/…` (docs/api.md): Kubernetes-style objects
//! for projects, users, service accounts, API tokens and role bindings. Each call is
//! authenticated (an API token or a password; registry tokens are for `/v2/` only), authorized
//! against the caller's roles, and answered with the object or a `Status`.

mod bindings;
mod identity;
mod images;
mod notifications;
mod patch;
mod projects;
mod selector;
mod spec_tags;
pub mod status;
mod stream_tags;
mod streams;
mod tokens;
mod triggers;
mod watch;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_access::{Caller, Principal, Verb};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::auth::authenticate;
use crate::AppState;
pub use status::Status;

pub type ResourceResult = Result<Response, Status>;

/// Largest request body a resource call reads.
const MAX_BODY: usize = 1024 * 1024;

/// One authenticated call.
#[derive(Clone)]
pub struct Ctx {
    pub app: AppState,
    pub caller: Caller,
    /// This registry's host as the client addressed it, for pull specs.
    pub host: String,
    /// The request body's media type (which kind of patch a PATCH is).
    pub content_type: String,
}

impl Ctx {
    pub fn principal(&self) -> &Principal {
        &self.caller.principal
    }

    pub async fn allows(&self, verb: Verb, project: &str) -> Result<bool, Status> {
        Ok(self
            .app
            .access
            .allows(self.principal(), verb, project)
            .await?)
    }

    /// Requires `verb` in `project`. A caller that may not even see the project gets a 404,
    /// as if it did not exist; one that may see it but not do this gets a 403.
    pub async fn require_in_project(&self, verb: Verb, project: &str) -> Result<(), Status> {
        if self.allows(verb, project).await? {
            return Ok(());
        }
        if !self.allows(Verb::ViewProject, project).await? {
            return Err(Status::not_found("project", project));
        }
        Err(Status::forbidden(format!(
            "{} may not {} project {project}: that needs the admin role there",
            self.principal(),
            verb.describe()
        )))
    }

    /// Requires a cluster-wide verb.
    pub async fn require_cluster(&self, verb: Verb) -> Result<(), Status> {
        if self.allows(verb, "").await? {
            return Ok(());
        }
        Err(Status::forbidden(format!(
            "{} may not {} the cluster: that needs a cluster role (berth adm policy add-cluster-role-to-user)",
            self.principal(),
            verb.describe()
        )))
    }
}

/// Entry point for every `/apis/…` and `/api/…` request.
pub async fn dispatch(State(app): State<AppState>, request: Request) -> Response {
    let yaml = wants_yaml(request.headers());
    let response = match handle(app, request).await {
        Ok(r) => r,
        Err(s) => s.into_response(),
    };
    if yaml && response.extensions().get::<watch::WatchStream>().is_none() {
        as_yaml(response).await
    } else {
        response
    }
}

/// Whether the client asked for YAML (`Accept: application/yaml`), as `kubectl -o yaml` can.
fn wants_yaml(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            let a = a.to_ascii_lowercase();
            (a.contains("application/yaml") || a.contains("text/yaml"))
                && !a.starts_with("application/json")
        })
}

/// Re-encodes a JSON answer as YAML.
async fn as_yaml(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = body.collect().await.map(|b| b.to_bytes()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let yaml = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| serde_yaml_ng::to_string(&v).ok());
    match yaml {
        Some(text) => {
            parts.headers.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/yaml"),
            );
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(text))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

async fn handle(app: AppState, request: Request) -> ResourceResult {
    let ip = crate::auth::client_ip(&request);
    let (parts, body) = request.into_parts();
    let caller = authenticate(&app, &parts.headers, ip).await?;
    if app.access.enabled() {
        if caller.principal.is_anonymous() {
            return Err(Status::unauthorized(
                "authentication required: send an API token (Authorization: Bearer …); get one with berth login",
            ));
        }
        if caller.registry_grants.is_some() {
            return Err(Status::unauthorized(
                "registry tokens are for /v2/ only: send an API token",
            ));
        }
    }
    let path: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    // No name, selector or token has control characters (and PostgreSQL cannot store NUL):
    // refuse them before they reach a query.
    if path.iter().any(|p| p.chars().any(char::is_control)) {
        return Err(Status::bad_request("the path contains a control character"));
    }
    let method = parts.method.clone();
    let mut query = crate::handlers::query_params_of(&parts.uri);
    if query.iter().any(|(k, v)| {
        k.chars().any(char::is_control) || v.iter().any(|v| v.chars().any(char::is_control))
    }) {
        return Err(Status::bad_request(
            "a query parameter contains a control character",
        ));
    }
    // The older watch paths (`…/v1/watch/namespaces/<p>/imagestreams`) are the lists with
    // `?watch=true`.
    let mut path = path;
    if method == Method::GET && path.len() > 3 && path[3] == "watch" && path[0] == "apis" {
        path.remove(3);
        query.insert("watch".into(), vec!["true".into()]);
    }
    let yaml_body = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("yaml"));
    let body = read_body(body, &method, yaml_body).await?;
    let host = crate::auth::Challenge::for_request(&app, &parts.headers, None).service;
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let ctx = Ctx {
        app,
        caller,
        host,
        content_type,
    };
    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["apis", "user.openshift.io", "v1", "users"] => identity::users(&ctx, &method, body).await,
        ["apis", "user.openshift.io", "v1", "users", name] => {
            identity::user(&ctx, &method, name).await
        }
        ["apis", "project.openshift.io", "v1", "projects"] => {
            projects::collection(&ctx, &method, body).await
        }
        ["apis", "project.openshift.io", "v1", "projects", name] => {
            projects::item(&ctx, &method, name).await
        }
        ["api", "v1", "namespaces", project, "serviceaccounts"] => {
            identity::service_accounts(&ctx, &method, project, body).await
        }
        ["api", "v1", "namespaces", project, "serviceaccounts", name] => {
            identity::service_account(&ctx, &method, project, name).await
        }
        ["apis", "oauth.openshift.io", "v1", "oauthaccesstokens"] => {
            let namespace = query.get("namespace").and_then(|v| v.first()).cloned();
            tokens::collection(&ctx, &method, namespace.as_deref(), body).await
        }
        ["apis", "oauth.openshift.io", "v1", "oauthaccesstokens", id] => {
            tokens::item(&ctx, &method, id).await
        }
        ["apis", "authorization.openshift.io", "v1", "namespaces", project, "rolebindings"] => {
            bindings::collection(&ctx, &method, project, body).await
        }
        ["apis", "authorization.openshift.io", "v1", "namespaces", project, "rolebindings", role] => {
            bindings::item(&ctx, &method, project, role, body).await
        }
        ["apis", "authorization.openshift.io", "v1", "clusterrolebindings"] => {
            bindings::collection(&ctx, &method, "", body).await
        }
        ["apis", "authorization.openshift.io", "v1", "clusterrolebindings", role] => {
            bindings::item(&ctx, &method, "", role, body).await
        }
        ["apis", "authorization.openshift.io", "v1", "clusterroles"] => bindings::roles(&method),
        ["apis", "image.openshift.io", "v1", "imagestreams"] => {
            streams::all_projects(&ctx, &method, &query).await
        }
        ["apis", "image.openshift.io", "v1", "namespaces", project, "imagestreams"] => {
            streams::collection(&ctx, &method, project, &query, body).await
        }
        ["apis", "image.openshift.io", "v1", "namespaces", project, "imagestreams", name] => {
            streams::item(&ctx, &method, project, name, body).await
        }
        ["apis", "image.openshift.io", "v1", "namespaces", project, "imagestreamtags"] => {
            stream_tags::collection(&ctx, &method, project, &query, body).await
        }
        ["apis", "image.openshift.io", "v1", "namespaces", project, "imagestreamtags", name] => {
            stream_tags::item(&ctx, &method, project, name, body).await
        }
        ["apis", "image.openshift.io", "v1", "namespaces", project, "imagestreammappings"] => {
            stream_tags::mappings(&ctx, &method, project, body).await
        }
        ["apis", "image.openshift.io", "v1", "namespaces", project, "imagestreamimages", name] => {
            images::image_stream_image(&ctx, &method, project, name).await
        }
        ["apis", "registry.berth.io", "v1", "namespaces", project, "imagechangetriggers"] => {
            triggers::collection(&ctx, &method, project, body).await
        }
        ["apis", "registry.berth.io", "v1", "namespaces", project, "imagechangetriggers", name] => {
            triggers::item(&ctx, &method, project, name).await
        }
        ["apis", "registry.berth.io", "v1", "notifications"] => {
            notifications::list(&ctx, &method, &query).await
        }
        ["apis", "image.openshift.io", "v1", "images"] => {
            images::images(&ctx, &method, &query).await
        }
        ["apis", "image.openshift.io", "v1", "images", digest] => {
            images::image(&ctx, &method, digest, body).await
        }
        _ => Err(Status::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no such resource (see docs/api.md)",
        )),
    }
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes; `Value::Null` when there is none.
async fn read_body(body: Body, method: &Method, yaml: bool) -> Result<Value, Status> {
    if !matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        return Ok(Value::Null);
    }
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let bytes = limited
        .collect()
        .await
        .map_err(|_| {
            Status::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("the request body is larger than {MAX_BODY} bytes"),
            )
        })?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if yaml {
        return serde_yaml_ng::from_slice(&bytes)
            .map_err(|e| Status::bad_request(format!("the request body is not valid YAML: {e}")));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Status::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// A string field of a JSON body, by path (`["metadata", "name"]`).
pub fn str_at<'a>(body: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = body;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

/// RFC 3339 (UTC, seconds) of a millisecond timestamp.
pub fn timestamp(millis: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A Kubernetes list object.
pub fn list(api_version: &str, kind: &str, items: Vec<Value>) -> Response {
    axum::Json(serde_json::json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": { "resourceVersion": "" },
        "items": items,
    }))
    .into_response()
}

pub fn created(value: Value) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

pub fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

/// Waits a little longer after each lost race of a read-modify-write, with jitter so that
/// racing writers spread out.
pub async fn back_off(attempt: u32) {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos() % 7))
        .unwrap_or(0);
    let millis = (1u64 << attempt.min(6)) + jitter;
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}
