//! Paged listings: tags, catalog, referrers, with `n`/`last` and `Link` headers.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::Registry;
use berth_oci::{media, Digest, RepoName};
use serde_json::json;

use super::{first, free_text, query_params, ApiResult};
use crate::error::ApiError;
use crate::AppState;
use berth_access::{Caller, Verb};

/// The page size when the client gives no `n`.
const DEFAULT_PAGE: i64 = 100_000;
/// Referrers per page.
const REFERRERS_PAGE: i64 = 1_000;

struct Page {
    n: Option<i64>,
    last: Option<String>,
}

fn page(request: &Request) -> Result<Page, ApiError> {
    let params = query_params(request);
    let n = match first(&params, "n") {
        Some(raw) => Some(raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::unsupported(
                StatusCode::BAD_REQUEST,
                format!("n={raw:?} is not a non-negative integer"),
            )
        })?),
        None => None,
    };
    let last = free_text(&params, "last")?.map(str::to_string);
    Ok(Page { n, last })
}

/// The `Link` header for the page after `items`, when the page was full.
fn next_link(path: &str, limit: i64, items: &[String]) -> Option<String> {
    if limit == 0 || (items.len() as i64) < limit {
        return None;
    }
    let last = items.last()?;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("n", &limit.to_string())
        .append_pair("last", last)
        .finish();
    Some(format!("<{path}?{query}>; rel=\"next\""))
}

fn listed(body: serde_json::Value, link: Option<String>) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Some(link) = link.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

pub async fn tags(registry: &Registry, repo: &RepoName, request: Request) -> ApiResult {
    let p = page(&request)?;
    let limit = p.n.unwrap_or(DEFAULT_PAGE);
    let tags = registry.tags(repo, p.last.as_deref(), limit).await?;
    let link = next_link(&format!("/v2/{repo}/tags/list"), limit, &tags);
    Ok(listed(json!({ "name": repo.as_str(), "tags": tags }), link))
}

/// The catalog lists only repositories the caller may pull from.
pub async fn catalog(app: &AppState, caller: &Caller, request: Request) -> ApiResult {
    let p = page(&request)?;
    let limit = p.n.unwrap_or(DEFAULT_PAGE);
    let projects = app
        .access
        .projects_allowing(&caller.principal, Verb::Pull)
        .await
        .map_err(|e| ApiError::from(berth_core::RegistryError::Metadata(e)))?;
    let repos = app
        .registry
        .catalog(projects.as_deref(), p.last.as_deref(), limit)
        .await?;
    let link = next_link("/v2/_catalog", limit, &repos);
    Ok(listed(json!({ "repositories": repos }), link))
}

pub async fn referrers(
    registry: &Registry,
    repo: &RepoName,
    subject: &Digest,
    request: Request,
) -> ApiResult {
    let params = query_params(&request);
    let artifact_type = free_text(&params, "artifactType")?;
    let last = free_text(&params, "last")?;
    let found = registry
        .referrers(repo, subject, artifact_type, last, REFERRERS_PAGE)
        .await?;
    let digests: Vec<String> = found.iter().map(|r| r.digest.clone()).collect();
    let mut link = next_link(
        &format!("/v2/{repo}/referrers/{subject}"),
        REFERRERS_PAGE,
        &digests,
    );
    if let (Some(l), Some(t)) = (link.as_mut(), artifact_type) {
        let extra: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("artifactType", t)
            .finish();
        *l = l.replacen(">;", &format!("&{extra}>;"), 1);
    }
    let body = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": found,
    });
    let mut response = listed(body, link);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(media::OCI_INDEX),
    );
    if artifact_type.is_some() {
        headers.insert(
            "oci-filters-applied",
            header::HeaderValue::from_static("artifactType"),
        );
    }
    Ok(response)
}
