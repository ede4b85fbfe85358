//! Request handlers, one module per area of the API. [`v2`] dispatches every `/v2/…` request
//! by its typed endpoint and method.

pub mod access;
mod blobs;
pub mod health;
mod listing;
mod manifests;
pub mod token;
pub mod uploads;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

use crate::error::ApiError;
use crate::route::{self, Endpoint};
use crate::AppState;

pub type ApiResult = Result<Response, ApiError>;

/// Every query parameter, keeping repeated ones (`?tag=a&tag=b`).
pub(crate) fn query_params(request: &Request) -> HashMap<String, Vec<String>> {
    query_params_of(request.uri())
}

pub(crate) fn query_params_of(uri: &axum::http::Uri) -> HashMap<String, Vec<String>> {
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            params
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
    }
    params
}

/// A free-form parameter (`last`, `artifactType`), refused when it holds control characters:
/// no name or media type has them, and PostgreSQL cannot store NUL in text.
pub(crate) fn free_text<'a>(
    params: &'a HashMap<String, Vec<String>>,
    key: &str,
) -> Result<Option<&'a str>, ApiError> {
    match first(params, key) {
        Some(v) if v.chars().any(char::is_control) => Err(ApiError::unsupported(
            StatusCode::BAD_REQUEST,
            format!("query parameter {key} contains a control character"),
        )),
        other => Ok(other),
    }
}

pub(crate) fn first<'a>(params: &'a HashMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(|v| v.first()).map(String::as_str)
}

pub(crate) fn header_str<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

pub async fn v2(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let rest = path.strip_prefix("/v2/").unwrap_or("");
    let endpoint = match route::parse(rest) {
        Ok(e) => e,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let method = request.method().clone();
    let allowed = endpoint.allowed_methods();
    let registry = &app.registry;
    let ip = crate::auth::client_ip(&request);
    let caller = match crate::auth::authenticate(&app, request.headers(), ip).await {
        Ok(c) => c,
        Err(e) => {
            let challenge = crate::auth::Challenge::for_request(&app, request.headers(), None);
            return e.registry_error(&challenge).into_response();
        }
    };
    if allowed.split(", ").any(|m| m == method.as_str()) {
        if let Err(e) =
            access::authorize(&app, &caller, &endpoint, &method, request.headers()).await
        {
            return e.into_response();
        }
    }
    let origin = origin(&app, &caller, &request);
    let origin = &origin;
    let result = match (endpoint, method) {
        (Endpoint::Base, Method::GET | Method::HEAD) => {
            Ok(axum::Json(serde_json::json!({})).into_response())
        }
        (Endpoint::Catalog, Method::GET) => listing::catalog(&app, &caller, request).await,
        (Endpoint::Tags(repo), Method::GET) => listing::tags(registry, &repo, request).await,
        (Endpoint::Referrers(repo, digest), Method::GET) => {
            listing::referrers(registry, &repo, &digest, request).await
        }
        (Endpoint::Manifest(repo, reference), Method::GET) => {
            manifests::get(registry, &repo, &reference, origin, false).await
        }
        (Endpoint::Manifest(repo, reference), Method::HEAD) => {
            manifests::get(registry, &repo, &reference, origin, true).await
        }
        (Endpoint::Manifest(repo, reference), Method::PUT) => {
            match access::check_project_exists(&app, &repo).await {
                Ok(()) => manifests::put(registry, &repo, reference, request, origin).await,
                Err(e) => Err(e),
            }
        }
        (Endpoint::Manifest(repo, reference), Method::DELETE) => {
            manifests::delete(registry, &repo, &reference, origin).await
        }
        (Endpoint::Blob(repo, digest), Method::GET) => {
            blobs::get(registry, &repo, &digest, request, origin, false).await
        }
        (Endpoint::Blob(repo, digest), Method::HEAD) => {
            blobs::get(registry, &repo, &digest, request, origin, true).await
        }
        (Endpoint::Blob(repo, digest), Method::DELETE) => {
            blobs::delete(registry, &repo, &digest, origin).await
        }
        (Endpoint::StartUpload(repo), Method::POST) => {
            match access::check_project_exists(&app, &repo).await {
                Ok(()) => uploads::start(&app, &caller, &repo, request, origin).await,
                Err(e) => Err(e),
            }
        }
        (Endpoint::Upload(repo, r), Method::GET) => uploads::status(registry, &repo, &r).await,
        (Endpoint::Upload(repo, r), Method::PATCH) => {
            uploads::patch(registry, &repo, &r, request).await
        }
        (Endpoint::Upload(repo, r), Method::PUT) => {
            uploads::put(registry, &repo, &r, request, origin).await
        }
        (Endpoint::Upload(repo, r), Method::DELETE) => uploads::cancel(registry, &repo, &r).await,
        (_, method) => Err(ApiError::unsupported(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not supported on this endpoint (allowed: {allowed})"),
        )
        .with_header(axum::http::header::ALLOW, allowed)),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The request as notification events describe it (Distribution's `request` and `actor`).
fn origin(app: &AppState, caller: &berth_access::Caller, request: &Request) -> berth_core::Origin {
    if app.registry.notifier().endpoints.is_empty() {
        return berth_core::Origin::default();
    }
    let header = |name: &str| header_str(request, name).unwrap_or_default().to_string();
    // As Distribution reports it: the first forwarded address when a proxy says, else the peer.
    let forwarded = header("x-forwarded-for")
        .split(',')
        .next()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let addr = [forwarded, header("x-real-ip")]
        .into_iter()
        .find(|a| !a.is_empty())
        .or_else(|| {
            request
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.to_string())
        })
        .unwrap_or_default();
    berth_core::Origin {
        id: uuid::Uuid::new_v4().to_string(),
        addr,
        host: header("host"),
        method: request.method().to_string(),
        user_agent: header("user-agent"),
        actor: if caller.principal.is_anonymous() {
            String::new()
        } else {
            caller.principal.name()
        },
        scheme: app.scheme,
    }
}
