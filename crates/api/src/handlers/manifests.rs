//! Manifest GET/HEAD/PUT/DELETE.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::Registry;
use berth_oci::{ErrorCode, Reference, RepoName, Tag, MAX_MANIFEST_BYTES};
use http_body_util::BodyExt;

use super::{header_str, query_params, ApiResult};
use crate::error::ApiError;

/// GET, or HEAD (`head`). Both are pulls for notifications, as in Distribution, whose handler
/// fetches the manifest for either.
pub async fn get(
    registry: &Registry,
    repo: &RepoName,
    reference: &Reference,
    origin: &berth_core::Origin,
    head: bool,
) -> ApiResult {
    let m = registry.manifest(repo, reference).await?;
    let len = m.content.len();
    let target = berth_core::Target {
        repository: repo.as_str(),
        media_type: Some(&m.media_type),
        digest: Some(&m.digest),
        size: Some(len as i64),
        tag: match reference {
            Reference::Tag(t) => Some(t.as_str()),
            Reference::Digest(_) => None,
        },
        kind: "manifests",
        ..berth_core::Target::default()
    };
    registry.notify_pull(origin, &target).await;
    let body = if head {
        Body::empty()
    } else {
        Body::from(m.content.clone())
    };
    let response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, m.media_type)
        .header(header::CONTENT_LENGTH, len)
        .header("docker-content-digest", &m.digest)
        .header(header::ETAG, format!("\"{}\"", m.digest))
        .body(body);
    Ok(response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

pub async fn put(
    registry: &Registry,
    repo: &RepoName,
    reference: Reference,
    request: Request,
    origin: &berth_core::Origin,
) -> ApiResult {
    let params = query_params(&request);
    let extra_tags = params
        .get("tag")
        .into_iter()
        .flatten()
        .map(|t| {
            t.parse::<Tag>().map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::NameInvalid,
                    e.to_string(),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let content_type = header_str(&request, "content-type").map(str::to_string);
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::ManifestInvalid,
            format!("manifest is larger than the {MAX_MANIFEST_BYTES} bytes this registry accepts"),
        )
    };
    // Bodies a little over the limit are read to the end before the refusal, so that the client
    // sees the 413 instead of a connection reset in the middle of its upload; far larger ones are
    // refused at once.
    let drain_limit = 2 * MAX_MANIFEST_BYTES;
    let declared: Option<u64> = header_str(&request, "content-length").and_then(|v| v.parse().ok());
    if declared.is_some_and(|n| n > drain_limit as u64) {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(request.into_body(), drain_limit);
    let body = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ManifestInvalid,
                format!("the manifest body could not be read: {e}"),
            ))
        }
    };
    if body.len() > MAX_MANIFEST_BYTES {
        return Err(too_large());
    }
    let pushed = registry
        .put_manifest(
            repo,
            &reference,
            content_type.as_deref(),
            body,
            extra_tags,
            origin,
        )
        .await?;
    let mut response = (
        StatusCode::CREATED,
        [
            (
                header::LOCATION,
                format!("/v2/{repo}/manifests/{}", pushed.digest),
            ),
            (
                header::HeaderName::from_static("docker-content-digest"),
                pushed.digest.to_string(),
            ),
            (header::CONTENT_LENGTH, "0".to_string()),
        ],
    )
        .into_response();
    let headers = response.headers_mut();
    if let Some(subject) = &pushed.subject {
        if let Ok(v) = HeaderValue::from_str(&subject.to_string()) {
            headers.insert("oci-subject", v);
        }
    }
    for tag in &pushed.tags {
        if let Ok(v) = HeaderValue::from_str(tag.as_str()) {
            headers.append("oci-tag", v);
        }
    }
    Ok(response)
}

pub async fn delete(
    registry: &Registry,
    repo: &RepoName,
    reference: &Reference,
    origin: &berth_core::Origin,
) -> ApiResult {
    registry.delete_manifest(repo, reference, origin).await?;
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_LENGTH, "0")]).into_response())
}
