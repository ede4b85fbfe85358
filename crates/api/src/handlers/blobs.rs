//! Blob reads (with `Range`) and deletes.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::{ByteRange, Registry};
use berth_oci::{Digest, RepoName};

use super::{header_str, ApiResult};
use crate::error::ApiError;

/// Parses a single-range `Range: bytes=…` header. Multiple ranges are not supported.
fn requested_range(request: &Request, size: u64) -> Result<Option<ByteRange>, ApiError> {
    let Some(raw) = header_str(request, "range") else {
        return Ok(None);
    };
    let unsatisfiable = || berth_core::RegistryError::RangeNotSatisfiable { size }.into();
    let spec = raw
        .trim()
        .strip_prefix("bytes=")
        .ok_or_else(unsatisfiable)?;
    if spec.contains(',') {
        return Err(unsatisfiable());
    }
    let (a, b) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let parse = |s: &str| -> Result<Option<u64>, ApiError> {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            s.trim().parse().map(Some).map_err(|_| unsatisfiable())
        }
    };
    Ok(Some(ByteRange {
        start: parse(a)?,
        end: parse(b)?,
    }))
}

pub async fn get(
    registry: &Registry,
    repo: &RepoName,
    digest: &Digest,
    request: Request,
    origin: &berth_core::Origin,
    head: bool,
) -> ApiResult {
    let content = registry.blob(repo, digest).await?;
    // GET and HEAD are pulls for notifications, as in Distribution (it serves both through
    // one call).
    let d = digest.to_string();
    let target = berth_core::Target::blob(repo.as_str(), &d, content.size() as i64);
    registry.notify_pull(origin, &target).await;
    if !head {
        if let Some(url) = registry.blob_redirect(&content).await? {
            // The bytes come from the object store; the client repeats its Range there.
            return Ok(Response::builder()
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header(header::LOCATION, url)
                .header("docker-content-digest", digest.to_string())
                .header(header::CONTENT_LENGTH, 0)
                .body(Body::empty())
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()));
        }
    }
    let size = content.size();
    let range = requested_range(&request, size)?;
    let (status, start, len) = match range {
        Some(r) => {
            let (start, len) = r.resolve(size)?;
            (StatusCode::PARTIAL_CONTENT, start, len)
        }
        None => (StatusCode::OK, 0, size),
    };
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("docker-content-digest", digest.to_string())
        .header(header::ETAG, format!("\"{digest}\""));
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    let body = if head || len == 0 {
        Body::empty()
    } else {
        Body::from_stream(registry.read_blob(&content, start, len).await?)
    };
    Ok(response
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

pub async fn delete(
    registry: &Registry,
    repo: &RepoName,
    digest: &Digest,
    origin: &berth_core::Origin,
) -> ApiResult {
    registry.delete_blob(repo, digest, origin).await?;
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_LENGTH, "0")]).into_response())
}
